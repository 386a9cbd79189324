// The transports' failure paths: a broker that cannot be reached or goes away, names a broker
// would refuse, and a consumer that dies holding an event every time it gets it.
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>

#include "eda/notification/shop.hpp"
#include "transport_targets.hpp"

namespace {

using namespace std::chrono_literals;
using eda::brokers::BrokerError;
using eda::brokers::EventTransport;
using eda::brokers::TransportOptions;
using eda::notification::OrderPlaced;
using JetStream = eda::brokers::testing::JetStream;  // the names the test names show
using RabbitMQ = eda::brokers::testing::RabbitMQ;
using ZeroMQ = eda::brokers::testing::ZeroMQ;

std::string nobody_listening() {
  return "127.0.0.1:" + std::to_string(eda::brokers::free_loopback_port());
}

}  // namespace

TEST_CASE("a transport that cannot reach its broker fails with a typed error",
          "[brokers][failures]") {
  CHECK_THROWS_AS(eda::brokers::JetStreamTransport("nats://" + nobody_listening()), BrokerError);
  CHECK_THROWS_WITH(eda::brokers::RabbitTransport({.port = eda::brokers::free_loopback_port()}),
                    Catch::Contains("RabbitMQ: connecting to 127.0.0.1:"));
  zmq::context_t context;
  CHECK_THROWS_AS(eda::brokers::ZeroMqTransport(context, "/nonexistent/eda/log.db"),
                  eda::StorageError);
}

TEST_CASE("names a broker would refuse are refused before anything is sent",
          "[brokers][failures]") {
  // No server is needed: the name is checked before connecting.
  CHECK_THROWS_AS(
      eda::brokers::JetStreamTransport("nats://" + nobody_listening(), {.name = "shop.orders"}),
      std::invalid_argument);
  CHECK_THROWS_AS(eda::brokers::RabbitTransport({.port = 1}, {.name = "shop orders"}),
                  std::invalid_argument);
  CHECK_THROWS_AS(eda::brokers::RabbitTransport({.port = 1}, {.name = "shop", .max_deliveries = 0}),
                  std::invalid_argument);
}

TEST_CASE("JetStream: publishes to a server that went away are reported, never silently lost",
          "[brokers][failures][jetstream]") {
  JetStream target;
  if (!target.start()) return;
  auto transport =
      target.make({.name = eda::brokers::testing::unique_scenario_name(), .ack_timeout = 2s});
  transport->add_service("billing");
  target.server.reset();  // the server is stopped
  const auto event = eda::make_event("order-service", OrderPlaced{1});
  // libnats may keep the publish for a reconnection that never comes; either way the producer
  // hears of it, at once or when it waits for the acknowledgement.
  CHECK_THROWS_AS(
      [&] {
        transport->publish(event);
        transport->wait_for_acks();
      }(),
      BrokerError);
}

TEMPLATE_TEST_CASE("a consumer that dies holding an event every time: the transport's own bound",
                   "[brokers][failures]", ZeroMQ, JetStream, RabbitMQ) {
  TestType target;
  if (!target.start()) return;
  const TransportOptions options{.name = eda::brokers::testing::unique_scenario_name(),
                                 .max_deliveries = 3,
                                 .ack_timeout = 30s,
                                 .redeliver_after = 1s};
  const std::unique_ptr<EventTransport> transport = target.make(options);
  transport->add_service("billing");
  const auto poison = eda::make_event("order-service", OrderPlaced{13});
  transport->publish(poison);
  transport->wait_for_acks();

  // Each time: take the event, and die (no ack, no reject) — a consumer that crashes on it.
  std::vector<std::uint32_t> attempts;
  for (int life = 0; life < 6; ++life) {
    auto subscription = transport->subscribe("billing");
    auto delivery = subscription->next(4s);  // covers the 1 s redelivery wait
    if (!delivery) break;
    CHECK(std::string(delivery->event.event_id()) == poison.meta.event_id);
    attempts.push_back(delivery->attempt);
  }
  const auto letters = transport->take_dead_letters("billing", 10, 3s);
  INFO("attempts seen: " << attempts.size());
  if (transport->kind() == "jetstream") {
    // MaxDeliver stops the deliveries; JetStream 2.9 keeps the message in the stream and only
    // publishes an advisory ($JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES...): no dead letter
    // unless a consumer lives to copy it (see the poison contract test).
    CHECK(attempts == std::vector<std::uint32_t>{1, 2, 3});
    CHECK(letters.empty());
  } else if (transport->kind() == "rabbitmq") {
    // The quorum queue's x-delivery-limit (3) counts returns: the message is delivered once
    // and returned three times before the fourth return dead-letters it.
    CHECK(attempts == std::vector<std::uint32_t>{1, 2, 3, 4});
    REQUIRE(letters.size() == 1);
    CHECK(eda::DecodedEvent::decode(letters[0]).event_id() == poison.meta.event_id);
  } else {
    // The log marks a delivery dead when its lease runs out on the last allowed attempt.
    CHECK(attempts == std::vector<std::uint32_t>{1, 2, 3});
    REQUIRE(letters.size() == 1);
    CHECK(eda::DecodedEvent::decode(letters[0]).event_id() == poison.meta.event_id);
  }
}
