// The durable event transport's contract, one suite run against every transport: what the
// notification scenario needs whatever carries its events.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "eda/clock.hpp"
#include "eda/notification/shop.hpp"
#include "transport_targets.hpp"

namespace {

using namespace std::chrono_literals;
using eda::brokers::Delivery;
using eda::brokers::EventTransport;
using eda::brokers::TransportOptions;
using eda::brokers::testing::IdempotentService;
using eda::notification::OrderPlaced;
using eda::notification::StockReserved;
using JetStream = eda::brokers::testing::JetStream;  // the names the test names show
using RabbitMQ = eda::brokers::testing::RabbitMQ;
using ZeroMQ = eda::brokers::testing::ZeroMQ;

using eda::brokers::testing::contract_options;
using eda::brokers::testing::place_orders;

}  // namespace

TEMPLATE_TEST_CASE("contract: a consumer that was down catches up, each event applied once",
                   "[brokers][contract]", ZeroMQ, JetStream, RabbitMQ) {
  TestType target;
  if (!target.start()) return;
  const std::unique_ptr<EventTransport> transport = target.make(contract_options());
  transport->add_service("inventory");
  transport->add_service("shipping");

  const auto before = place_orders(*transport, 1, 10);
  IdempotentService inventory;
  {
    auto subscription = transport->subscribe("inventory");
    REQUIRE(inventory.consume_until(*subscription, 4));
    // It takes a fifth event and goes down before acknowledging it: a crash mid-event.
    auto held = subscription->next(10s);
    REQUIRE(held);
    CHECK(std::string(held->event.event_id()) == before[4]);
  }
  // While Inventory is down, the producer goes on, and Shipping keeps up.
  const auto during = place_orders(*transport, 11, 20);
  IdempotentService shipping;
  {
    auto subscription = transport->subscribe("shipping");
    REQUIRE(shipping.consume_until(*subscription, 20));
  }
  // Inventory comes back (declaring its subscription again, as a restarting service does: that
  // keeps its place): the event it held and everything published meanwhile, once each.
  transport->add_service("inventory");
  {
    auto subscription = transport->subscribe("inventory");
    REQUIRE(inventory.consume_until(*subscription, 20));
    inventory.consume_for(*subscription, 500ms);
  }
  std::vector<std::string> all = before;
  all.insert(all.end(), during.begin(), during.end());
  CHECK(shipping.applied == all);
  CHECK(shipping.duplicates == 0);
  // Every event applied once. The one Inventory held when it went down may come back later
  // than its place (JetStream redelivers it after AckWait and the ZeroMQ log after its lease,
  // behind newer events; RabbitMQ requeues it in place): the others keep their order.
  auto sorted_applied = inventory.applied;
  auto sorted_all = all;
  std::sort(sorted_applied.begin(), sorted_applied.end());
  std::sort(sorted_all.begin(), sorted_all.end());
  CHECK(sorted_applied == sorted_all);
  auto others = inventory.applied;
  std::erase(others, before[4]);
  auto expected_others = all;
  std::erase(expected_others, before[4]);
  CHECK(others == expected_others);
}

TEMPLATE_TEST_CASE("contract: the producer publishes while every consumer is down",
                   "[brokers][contract]", ZeroMQ, JetStream, RabbitMQ) {
  TestType target;
  if (!target.start()) return;
  const std::unique_ptr<EventTransport> transport = target.make(contract_options());
  transport->add_service("billing");
  // Nobody consumes: every publish is still acknowledged (no timeout, no refusal).
  const auto ids = place_orders(*transport, 1, 200);
  IdempotentService billing;
  auto subscription = transport->subscribe("billing");
  REQUIRE(billing.consume_until(*subscription, 200));
  CHECK(billing.applied == ids);
}

TEMPLATE_TEST_CASE("contract: correlation and causation ids survive the trip",
                   "[brokers][contract]", ZeroMQ, JetStream, RabbitMQ) {
  TestType target;
  if (!target.start()) return;
  const std::unique_ptr<EventTransport> transport = target.make(contract_options());
  transport->add_service("audit");

  auto placed = eda::make_event("order-service", OrderPlaced{42});
  placed.meta.sequence = 7;
  const auto reserved = eda::follow_up(placed.meta, "inventory", StockReserved{42, "SKU-1"});
  transport->publish(placed);
  transport->publish(reserved);
  transport->wait_for_acks();

  auto subscription = transport->subscribe("audit");
  auto first = subscription->next(10s);
  REQUIRE(first);
  subscription->ack(*first);
  auto second = subscription->next(10s);
  REQUIRE(second);
  subscription->ack(*second);

  CHECK(first->event.meta() == placed.meta);  // every field, the sequence and timestamp too
  CHECK(first->event.payload_as<OrderPlaced>().order_id == 42);
  CHECK(second->event.meta() == reserved.meta);
  CHECK(second->event.meta().correlation_id == placed.meta.event_id);
  CHECK(second->event.meta().causation_id == placed.meta.event_id);
  CHECK(second->event.payload_as<StockReserved>().item == "SKU-1");
}

TEMPLATE_TEST_CASE("contract: a poison event is dead-lettered after bounded deliveries",
                   "[brokers][contract]", ZeroMQ, JetStream, RabbitMQ) {
  TestType target;
  if (!target.start()) return;
  const TransportOptions options = contract_options();
  const std::unique_ptr<EventTransport> transport = target.make(options);
  transport->add_service("billing");

  const auto ids = place_orders(*transport, 1, 3);  // order 2 is the poison
  const std::string garbage = "\xc1 not an envelope";
  transport->publish("garbage-1", garbage);
  transport->wait_for_acks();

  auto subscription = transport->subscribe("billing");
  IdempotentService billing;
  std::vector<std::uint32_t> poison_attempts;
  const eda::Deadline deadline(30s);
  while (!deadline.expired() &&
         (billing.applied.size() < 2 || poison_attempts.size() < options.max_deliveries)) {
    auto delivery = subscription->next(500ms);
    if (!delivery) continue;
    if (delivery->event.payload_as<OrderPlaced>().order_id == 2) {
      poison_attempts.push_back(delivery->attempt);
      subscription->reject(*delivery);
    } else {
      billing.handle(*subscription, *delivery);
    }
  }
  // Nothing more comes: the poison is gone from the queue after its last allowed delivery.
  for (int bound = 0; bound < 100; ++bound) {
    auto delivery = subscription->next(1500ms);
    if (!delivery) break;
    if (delivery->event.payload_as<OrderPlaced>().order_id == 2) {
      poison_attempts.push_back(delivery->attempt);
      subscription->reject(*delivery);
    } else {
      billing.handle(*subscription, *delivery);
    }
  }
  CHECK(poison_attempts == std::vector<std::uint32_t>{1, 2, 3});
  CHECK(billing.applied == std::vector<std::string>{ids[0], ids[2]});
  CHECK(subscription->malformed() == 1);

  const auto letters = transport->take_dead_letters("billing", 10, 10s);
  REQUIRE(letters.size() == 2);
  std::vector<std::string> dead_ids;
  for (const auto& letter : letters) {
    if (letter == garbage) {
      dead_ids.emplace_back("garbage");
    } else {
      dead_ids.emplace_back(eda::DecodedEvent::decode(letter).event_id());
    }
  }
  std::sort(dead_ids.begin(), dead_ids.end());
  std::vector<std::string> expected{ids[1], "garbage"};
  std::sort(expected.begin(), expected.end());
  CHECK(dead_ids == expected);
  CHECK(transport->take_dead_letters("billing", 10, 500ms).empty());  // taken once
}

TEMPLATE_TEST_CASE("contract: a duplicate publish is applied once", "[brokers][contract]", ZeroMQ,
                   JetStream, RabbitMQ) {
  TestType target;
  if (!target.start()) return;
  const std::unique_ptr<EventTransport> transport = target.make(contract_options());
  transport->add_service("shipping");

  auto placed = eda::make_event("order-service", OrderPlaced{7});
  transport->publish(placed);
  transport->publish(placed);  // a producer retrying after a lost ack sends the same event
  const auto after = place_orders(*transport, 8, 8);

  IdempotentService shipping;
  auto subscription = transport->subscribe("shipping");
  REQUIRE(shipping.consume_until(*subscription, 2));
  shipping.consume_for(*subscription, 1s);
  CHECK(shipping.applied == std::vector<std::string>{placed.meta.event_id, after[0]});
  if (transport->deduplicates_publishes()) {
    CHECK(shipping.duplicates == 0);  // the broker dropped the second copy
  } else {
    CHECK(shipping.duplicates == 1);  // delivered twice, applied once
  }
}
