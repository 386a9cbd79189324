// What "acknowledged" is worth when the broker process crashes.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "eda/notification/shop.hpp"
#include "transport_targets.hpp"

namespace {

using namespace std::chrono_literals;
using eda::notification::OrderPlaced;

}  // namespace

TEST_CASE(
    "JetStream: acknowledged events survive a SIGKILL of the server, and a retried publish "
    "after it is dropped as a duplicate",
    "[brokers][durability][jetstream]") {
  eda::brokers::testing::JetStream target;
  if (!target.start()) return;
  const eda::brokers::TransportOptions options{
      .name = eda::brokers::testing::unique_scenario_name(), .ack_timeout = 10s};
  std::vector<eda::Event<OrderPlaced>> events;
  for (std::uint64_t order = 1; order <= 50; ++order) {
    events.push_back(eda::make_event("order-service", OrderPlaced{order}));
  }
  {
    eda::brokers::JetStreamTransport transport(target.server->url(), options);
    transport.add_service("billing");
    for (const auto& event : events) transport.publish(event);
    transport.wait_for_acks();
    CHECK(transport.publish_counts().acknowledged == 50);
  }
  // Killed: no shutdown, no sync (nats-server 2.9 fsyncs its store on a 2-minute timer). The
  // page cache survives a process crash, so the written messages are there after a restart.
  target.server->crash_and_restart();

  eda::brokers::JetStreamTransport transport(target.server->url(), options);
  // The producer did not know whether its last publishes made it, and sends them all again.
  for (const auto& event : events) transport.publish(event);
  transport.wait_for_acks();
  CHECK(transport.publish_counts().duplicates == 50);

  eda::brokers::testing::IdempotentService billing;
  auto subscription = transport.subscribe("billing");
  REQUIRE(billing.consume_until(*subscription, 50));
  billing.consume_for(*subscription, 500ms);
  std::vector<std::string> ids;
  for (const auto& event : events) ids.push_back(event.meta.event_id);
  CHECK(billing.applied == ids);
  CHECK(billing.duplicates == 0);
}
