// Publisher and Subscriber: delivery on every transport, topic filtering, the late-joiner
// handshake, gap and duplicate detection, several publishers and subscribers.
#include <atomic>
#include <thread>

#include <catch2/catch.hpp>

#include "eda/clock.hpp"
#include "eda/endpoint.hpp"
#include "eda/pubsub.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using eda::test::OrderPlaced;
using eda::test::StockReserved;

TEST_CASE("every event reaches the subscriber in order, on every transport", "[pubsub]") {
  const auto transport = GENERATE(eda::Transport::inproc, eda::Transport::ipc, eda::Transport::tcp);
  INFO("transport: " << eda::to_string(transport));
  zmq::context_t context;
  eda::Publisher publisher(context, {.source = "order-service",
                                     .endpoints = {eda::ephemeral_endpoint(transport, "orders")}});
  eda::Subscriber subscriber(context, {.endpoints = publisher.endpoints()});
  REQUIRE(eda::test::handshake(publisher, subscriber));
  CHECK(publisher.subscriber_count() == 1);

  std::vector<eda::EventMetadata> sent;
  for (std::uint64_t id = 1; id <= 100; ++id) {
    sent.push_back(publisher.publish(eda::test::sample_order(id)));
  }
  for (std::uint64_t id = 1; id <= 100; ++id) {
    auto delivery = subscriber.receive(10s);
    REQUIRE(delivery);
    CHECK(delivery->event.meta() == sent[id - 1]);
    CHECK(delivery->event.meta().sequence == id);
    CHECK(delivery->event.payload_as<OrderPlaced>() == eda::test::sample_order(id));
    CHECK(delivery->check.continuity ==
          (id == 1 ? eda::Continuity::first : eda::Continuity::in_order));
  }
  CHECK_FALSE(subscriber.receive(0ms));
  CHECK(subscriber.stats().delivered == 100);
  CHECK(subscriber.stats().gaps == 0);
  CHECK(subscriber.stats().duplicates == 0);
  CHECK(publisher.last_sequence() == 100);
}

TEST_CASE("a subscriber receives only the topics it subscribed to", "[pubsub]") {
  zmq::context_t context;
  eda::Publisher publisher(context, {.source = "shop", .endpoints = {"tcp://127.0.0.1:*"}});
  eda::Subscriber stock_only(context,
                             {.endpoints = publisher.endpoints(), .topics = {"shop.stock"}});
  REQUIRE(eda::test::handshake(publisher, stock_only));
  (void)publisher.publish(eda::test::sample_order(1));
  const auto reserved = publisher.publish(StockReserved{1});
  (void)publisher.publish(eda::test::sample_order(2));
  const auto reserved_again = publisher.publish(StockReserved{2});
  auto delivery = stock_only.receive(10s);
  REQUIRE(delivery);
  CHECK(delivery->event.meta().event_id == reserved.event_id);
  delivery = stock_only.receive(10s);
  REQUIRE(delivery);
  CHECK(delivery->event.meta().event_id == reserved_again.event_id);
  // Sequence 4 after 2: the filtered-out order event is not a lost one.
  CHECK(delivery->check.continuity == eda::Continuity::later);
  CHECK(stock_only.stats().gaps == 0);
  CHECK_FALSE(stock_only.receive(50ms));
}

TEST_CASE("a late subscriber gets everything published after its handshake, with no gap",
          "[pubsub]") {
  zmq::context_t context;
  // High-water marks above everything published, so nothing here may be dropped.
  eda::Publisher publisher(context, {.source = "order-service",
                                     .endpoints = {"tcp://127.0.0.1:*"},
                                     .send_high_water_mark = 1'000'000});
  std::atomic<bool> joined{false};
  std::atomic<std::uint64_t> last_published{0};
  constexpr std::uint64_t after_join = 20'000;

  // The publisher is busy publishing when the subscriber joins; it answers the handshake from
  // inside publish(), and after the join publishes a fixed number of events.
  std::thread producer([&] {
    const eda::Deadline deadline(60s);
    while (!joined.load() && !deadline.expired()) {
      if (publisher.last_sequence() < 200'000) {
        (void)publisher.publish(eda::test::sample_order(publisher.last_sequence() + 1));
      } else {
        (void)publisher.serve(1ms);
      }
    }
    for (std::uint64_t i = 0; i < after_join; ++i) {
      (void)publisher.publish(eda::test::sample_order(publisher.last_sequence() + 1));
    }
    last_published = publisher.last_sequence();
  });

  eda::Subscriber late(context,
                       {.endpoints = publisher.endpoints(), .receive_high_water_mark = 1'000'000});
  const bool handshake = late.await_handshake(20s);
  joined = true;
  producer.join();
  REQUIRE(handshake);

  std::uint64_t delivered = 0;
  std::uint64_t last_seen = 0;
  while (auto delivery = late.receive(2s)) {
    if (delivered > 0) {
      REQUIRE(delivery->check.continuity == eda::Continuity::in_order);
    }
    last_seen = delivery->event.meta().sequence;
    ++delivered;
    if (last_seen == last_published.load()) break;
  }
  CHECK(last_seen == last_published.load());
  CHECK(delivered >= after_join);
  CHECK(late.stats().gaps == 0);
}

TEST_CASE("events dropped at the high-water mark are reported as a gap of exactly that size",
          "[pubsub]") {
  zmq::context_t context;
  eda::Publisher publisher(context,
                           {.source = "order-service",
                            .endpoints = {eda::ephemeral_endpoint(eda::Transport::inproc, "hwm")},
                            .send_high_water_mark = 10});
  eda::Subscriber slow(context,
                       {.endpoints = publisher.endpoints(), .receive_high_water_mark = 10});
  REQUIRE(eda::test::handshake(publisher, slow));

  // The subscriber does not read while 1000 events are published: most must be dropped.
  for (std::uint64_t id = 1; id <= 1000; ++id) {
    (void)publisher.publish(eda::test::sample_order(id));
  }
  CHECK(publisher.last_sequence() == 1000);  // publish() never waited for the slow reader
  std::uint64_t received = 0;
  while (slow.receive(200ms)) ++received;
  // What waited for the paused subscriber is bounded by the two high-water marks (inproc: one
  // queue of both sizes, with a little slack for libzmq's batching): memory stays bounded.
  CHECK(received <= 2 * (10 + 10) + 1);
  // Trailing losses show up when the next event gets through.
  (void)publisher.publish(eda::test::sample_order(1001));
  auto last = slow.receive(10s);
  REQUIRE(last);
  ++received;
  CHECK(last->event.meta().sequence == 1001);
  CHECK(received < 1001);
  CHECK(slow.stats().gaps >= 1);
  CHECK(slow.stats().delivered == received);
  CHECK(slow.stats().delivered + slow.stats().missed == 1001);
}

TEST_CASE("a duplicate delivery is reported and not handed to the consumer", "[pubsub]") {
  zmq::context_t context;
  eda::test::RawPublisher raw(context);
  eda::Subscriber subscriber(context, {.endpoints = {raw.endpoint()}});
  REQUIRE(raw.handshake(subscriber));

  auto first = eda::make_event("order-service", eda::test::sample_order(1));
  first.meta.sequence = 1;
  auto second = eda::make_event("order-service", eda::test::sample_order(2));
  second.meta.sequence = 2;
  raw.send({eda::encode_event(first)});
  raw.send({eda::encode_event(first)});  // sent again
  raw.send({eda::encode_event(second)});

  auto a = subscriber.receive(10s);
  auto b = subscriber.receive(10s);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->event.meta().event_id == first.meta.event_id);
  CHECK(b->event.meta().event_id == second.meta.event_id);
  CHECK(b->check.continuity == eda::Continuity::in_order);
  CHECK(subscriber.stats().duplicates == 1);
  CHECK(subscriber.stats().delivered == 2);
}

TEST_CASE("with drop_duplicates off, a restarted source's numbering is delivered, flagged",
          "[pubsub]") {
  zmq::context_t context;
  eda::test::RawPublisher raw(context);
  eda::Subscriber subscriber(context, {.endpoints = {raw.endpoint()}, .drop_duplicates = false});
  REQUIRE(raw.handshake(subscriber));

  for (const std::uint64_t sequence : {1U, 2U, 1U}) {  // the source restarted after 2
    auto event = eda::make_event("order-service", eda::test::sample_order(sequence));
    event.meta.sequence = sequence;
    raw.send({eda::encode_event(event)});
  }
  std::vector<eda::Continuity> verdicts;
  while (verdicts.size() < 3) {
    auto delivery = subscriber.receive(10s);
    REQUIRE(delivery);
    verdicts.push_back(delivery->check.continuity);
  }
  CHECK(verdicts ==
        std::vector{eda::Continuity::first, eda::Continuity::in_order, eda::Continuity::duplicate});
  CHECK(subscriber.stats().duplicates == 1);
  CHECK(subscriber.stats().delivered == 3);
}

TEST_CASE("one subscriber follows several publishers, each sequence checked on its own",
          "[pubsub]") {
  zmq::context_t context;
  eda::Publisher orders(context, {.source = "order-service", .endpoints = {"tcp://127.0.0.1:*"}});
  eda::Publisher stock(context, {.source = "inventory", .endpoints = {"tcp://127.0.0.1:*"}});
  eda::Subscriber audit(context, {.endpoints = {orders.endpoints()[0], stock.endpoints()[0]}});
  const eda::Deadline deadline(10s);
  while (!audit.handshake_complete() && !deadline.expired()) {
    (void)orders.serve(5ms);
    (void)stock.serve(5ms);
    (void)audit.await_handshake(5ms);
  }
  REQUIRE(audit.handshake_complete());
  for (std::uint64_t id = 1; id <= 10; ++id) {
    const auto placed = orders.publish(eda::test::sample_order(id));
    (void)stock.publish(StockReserved{id}, eda::Cause::of(placed));
  }
  std::size_t received = 0;
  while (received < 20 && audit.receive(10s)) ++received;
  CHECK(received == 20);
  CHECK(audit.stats().gaps == 0);
  CHECK(audit.sequence().last("order-service") == 10U);
  CHECK(audit.sequence().last("inventory") == 10U);
}

TEST_CASE("the publisher counts subscribers whose handshake completed", "[pubsub]") {
  zmq::context_t context;
  eda::Publisher publisher(context, {.source = "s", .endpoints = {"tcp://127.0.0.1:*"}});
  auto first = std::make_unique<eda::Subscriber>(
      context, eda::SubscriberOptions{.endpoints = publisher.endpoints()});
  eda::Subscriber second(context, {.endpoints = publisher.endpoints()});
  REQUIRE(eda::test::handshake(publisher, *first));
  REQUIRE(eda::test::handshake(publisher, second));
  CHECK(publisher.subscriber_count() == 2);
  first.reset();  // the subscriber goes away: its hello topic is unsubscribed
  const eda::Deadline deadline(10s);
  while (publisher.subscriber_count() != 1 && !deadline.expired()) (void)publisher.serve(10ms);
  CHECK(publisher.subscriber_count() == 1);
}

TEST_CASE("bad publisher and subscriber options are refused with a clear message", "[pubsub]") {
  zmq::context_t context;
  CHECK_THROWS_WITH(eda::Publisher(context, {.source = "s"}),
                    Catch::Contains("at least one endpoint"));
  CHECK_THROWS_WITH(eda::Publisher(context, {.source = "", .endpoints = {"tcp://127.0.0.1:*"}}),
                    Catch::Contains("source name"));
  CHECK_THROWS_WITH(eda::Publisher(context, {.source = "s", .endpoints = {"udp://x:1"}}),
                    Catch::Contains("must start with inproc://, ipc:// or tcp://"));
  CHECK_THROWS_WITH(eda::Subscriber(context, {}),
                    Catch::Contains("at least one publisher endpoint"));
  CHECK_THROWS_WITH(
      eda::Subscriber(context, {.endpoints = {"tcp://127.0.0.1:5"}, .topics = {"bad topic"}}),
      Catch::Contains("not an event-type prefix"));
  CHECK_THROWS_WITH(
      eda::Subscriber(context, {.endpoints = {"tcp://127.0.0.1:5", "tcp://127.0.0.1:5"}}),
      Catch::Contains("twice"));
}

TEST_CASE(
    "an event stored in format 1 is republished as a record, and a format 1 publisher is "
    "still heard",
    "[pubsub][format2]") {
  zmq::context_t context;
  eda::Publisher publisher(context, {.source = "replayer", .endpoints = {"tcp://127.0.0.1:*"}});
  eda::Subscriber subscriber(context, {.endpoints = publisher.endpoints()});
  REQUIRE(eda::test::handshake(publisher, subscriber));
  auto stored = eda::make_event("order-service", eda::test::sample_order(5));
  stored.meta.sequence = 1;
  publisher.republish(
      eda::DecodedEvent::decode(eda::encode_format1_envelope(stored.meta, stored.payload)));
  auto delivery = subscriber.receive(10s);
  REQUIRE(delivery);
  CHECK(delivery->event.format_version() == eda::envelope_format_version);
  CHECK(delivery->event.meta() == stored.meta);
  CHECK(delivery->event.payload_as<OrderPlaced>() == stored.payload);

  // An older publisher's message: a topic frame, then the format 1 envelope.
  eda::test::RawPublisher old_publisher(context);
  eda::Subscriber listener(context, {.endpoints = {old_publisher.endpoint()}});
  REQUIRE(old_publisher.handshake(listener));
  old_publisher.send({stored.meta.type, eda::encode_format1_envelope(stored.meta, stored.payload)});
  auto heard = listener.receive(10s);
  REQUIRE(heard);
  CHECK(heard->event.format_version() == eda::legacy_envelope_format_version);
  CHECK(heard->event.meta() == stored.meta);
}

namespace {
/// A type whose name starts with another's (shop.order.placed).
struct OrderPlacedLater {
  static constexpr std::string_view event_type = "shop.order.placed-later";
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t order_id = 0;
  MSGPACK_DEFINE(order_id)
};
}  // namespace

TEST_CASE("subscribing to a type and its zero byte receives that type exactly",
          "[pubsub][format2]") {
  zmq::context_t context;
  eda::Publisher publisher(context, {.source = "shop", .endpoints = {"tcp://127.0.0.1:*"}});
  eda::Subscriber exact(context, {.endpoints = publisher.endpoints(),
                                  .topics = {std::string("shop.order.placed") + '\0'}});
  REQUIRE(eda::test::handshake(publisher, exact));
  (void)publisher.publish(OrderPlacedLater{1});
  const auto placed = publisher.publish(eda::test::sample_order(2));
  auto delivery = exact.receive(10s);
  REQUIRE(delivery);
  CHECK(delivery->event.meta().event_id == placed.event_id);
  CHECK_FALSE(exact.receive(200ms));
}
