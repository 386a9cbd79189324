// Event notification: exactly-once reactions across restarts and duplicates, a producer that
// never waits for its consumers, causal links, dead letters, and an outbox that says when it
// no longer reaches back.
#include <catch2/catch.hpp>

#include "eda/endpoint.hpp"
#include "eda_test_support.hpp"
#include "raw_tcp.hpp"
#include "shop_fixture.hpp"

using namespace eda::notification;
using namespace eda::notification::test;

namespace {

ConsumerOptions options_for(const std::string& role, const OrderServiceThread& shop) {
  return ConsumerOptions{
      .name = role, .events_endpoint = shop.events(), .api_endpoint = shop.api()};
}

/// Inventory, shipping and billing, started, their reactions counted in `tallies`.
std::vector<std::unique_ptr<Consumer>> start_downstream(zmq::context_t& context,
                                                        const OrderServiceThread& shop,
                                                        std::map<std::string, Tally>& tallies) {
  std::vector<std::unique_ptr<Consumer>> consumers;
  for (const auto role_view : downstream_roles) {
    const std::string role(role_view);
    consumers.push_back(
        std::make_unique<Consumer>(context, options_for(role, shop), counted(role, tallies[role])));
    REQUIRE(consumers.back()->start(10s));
  }
  return consumers;
}

bool all_handled_once(const Tally& tally, std::uint64_t orders) {
  if (tally.handled.size() != orders) return false;
  for (const auto& [id, times] : tally.handled) {
    if (times != 1) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("every order reaches each consumer's reaction exactly once", "[notification]") {
  zmq::context_t context;
  OrderServiceThread shop(context);
  std::map<std::string, Tally> tallies;
  const auto consumers = start_downstream(context, shop, tallies);
  eda::RpcClient customer(context, {.endpoint = shop.api()});
  const auto ids = place_orders(customer, 1, 50);
  CHECK(ids.front() == 1);
  CHECK(ids.back() == 50);

  std::vector<Consumer*> all{consumers[0].get(), consumers[1].get(), consumers[2].get()};
  REQUIRE(drive(all, [&] {
    for (const auto& c : consumers)
      if (c->stats().handled < 50) return false;
    return true;
  }));
  for (const auto& [role, tally] : tallies) {
    INFO("role: " << role);
    CHECK(all_handled_once(tally, 50));
  }
  for (const auto& c : consumers) {
    CHECK(c->stats().fetch_backs == 50);  // thin events: one fetch-back per order
    CHECK(c->last_processed() == 50);
    CHECK(c->stats().lost == 0);
  }
  shop.stop();
  CHECK(shop.service().stats().fetch_backs == 150);  // the Order service pays for them
}

TEST_CASE("a consumer that was down catches up from the outbox and handles each order once",
          "[notification]") {
  zmq::context_t context;
  OrderServiceThread shop(context);
  eda::RpcClient customer(context, {.endpoint = shop.api()});
  MemoryCheckpoint checkpoint;
  Tally tally;
  auto options = options_for("billing", shop);
  options.checkpoint = &checkpoint;

  auto billing = std::make_unique<Consumer>(context, options, counted("billing", tally));
  REQUIRE(billing->start(10s));
  (void)place_orders(customer, 1, 10);
  REQUIRE(drive({billing.get()}, [&] { return billing->stats().handled == 10; }));

  billing.reset();  // billing goes down; orders keep coming and nobody waits for it
  (void)place_orders(customer, 11, 20);
  CHECK(checkpoint.load() == 10U);

  billing = std::make_unique<Consumer>(context, options, counted("billing", tally));
  REQUIRE(billing->start(10s));  // catches up: orders 11..30 from the outbox
  CHECK(billing->last_processed() == 30);
  CHECK(billing->stats().replayed == 20);
  (void)place_orders(customer, 31, 10);  // and goes on live
  REQUIRE(drive({billing.get()}, [&] { return billing->last_processed() == 40; }));
  CHECK(all_handled_once(tally, 40));
  CHECK(billing->losses().empty());
}

TEST_CASE("a consumer away longer than the outbox reaches back is told what it lost",
          "[notification]") {
  zmq::context_t context;
  OrderServiceThread shop(context, {.outbox_capacity = 10});
  eda::RpcClient customer(context, {.endpoint = shop.api()});
  MemoryCheckpoint checkpoint;
  Tally tally;
  auto options = options_for("inventory", shop);
  options.checkpoint = &checkpoint;

  auto inventory = std::make_unique<Consumer>(context, options, counted("inventory", tally));
  REQUIRE(inventory->start(10s));
  (void)place_orders(customer, 1, 5);
  REQUIRE(drive({inventory.get()}, [&] { return inventory->last_processed() == 5; }));
  inventory.reset();
  (void)place_orders(customer, 6, 45);  // orders 6..50; the outbox keeps only 41..50

  inventory = std::make_unique<Consumer>(context, options, counted("inventory", tally));
  REQUIRE(inventory->start(10s));
  REQUIRE(inventory->losses().size() == 1);
  CHECK(inventory->losses()[0].first_lost == 6);
  CHECK(inventory->losses()[0].last_lost == 40);
  CHECK(inventory->stats().lost == 35);
  CHECK(inventory->last_processed() == 50);
  CHECK(tally.handled.size() == 15);  // 1..5 and 41..50, each once
  CHECK(tally.handled.count(6) == 0);
}

TEST_CASE("a consumer that falls behind past the high-water mark repairs the gap from the outbox",
          "[notification]") {
  zmq::context_t context;
  // inproc, so the only buffers between producer and consumer are the two high-water marks.
  OrderServiceThread shop(
      context, {.events_endpoint = eda::ephemeral_endpoint(eda::Transport::inproc, "orders"),
                .send_high_water_mark = 5});
  eda::RpcClient customer(context, {.endpoint = shop.api()});
  Tally tally;
  auto options = options_for("shipping", shop);
  options.receive_high_water_mark = 5;
  Consumer shipping(context, options, counted("shipping", tally));
  REQUIRE(shipping.start(10s));
  (void)place_orders(customer, 1, 200);  // shipping does not read meanwhile: most are dropped
  // It handles what got through (a handful: the two queues hold about ten)...
  for (int polls = 0; polls < 100 && shipping.poll(50ms) > 0; ++polls) {
  }
  CHECK(shipping.last_processed() < 200);
  // ...and the next live event shows it the gap, which it fills from the outbox.
  (void)place_orders(customer, 201, 1);
  REQUIRE(drive({&shipping}, [&] { return shipping.last_processed() == 201; }));
  CHECK(all_handled_once(tally, 201));
  CHECK(shipping.stats().replayed > 0);    // the dropped ones came from the outbox
  CHECK(shipping.stats().catch_ups >= 2);  // at start, and at the gap
  CHECK(shipping.losses().empty());
}

TEST_CASE("the producer neither blocks nor fails while a consumer is stopped", "[notification]") {
  zmq::context_t context;
  OrderServiceThread shop(context);
  Tally tally;
  {
    Consumer shipping(context, options_for("shipping", shop), counted("shipping", tally));
    REQUIRE(shipping.start(10s));
  }  // shipping stopped after subscribing
  eda::RpcClient customer(context, {.endpoint = shop.api(), .timeout = 10s, .attempts = 1});
  std::vector<std::uint64_t> ids;
  REQUIRE_NOTHROW(ids = place_orders(customer, 1, 200));
  CHECK(ids.size() == 200);
  shop.stop();
  CHECK(shop.service().stats().orders == 200);
  CHECK(shop.service().outbox().last_sequence() == 200);
}

TEST_CASE("follow-up events carry the order's correlation id and name their cause",
          "[notification]") {
  zmq::context_t context;
  OrderServiceThread shop(context);
  std::map<std::string, Tally> tallies;
  const auto consumers = start_downstream(context, shop, tallies);
  std::vector<std::string> follow_up_endpoints;
  for (const auto& c : consumers) follow_up_endpoints.push_back(c->follow_ups_endpoint());
  std::vector<Consumer*> all{consumers[0].get(), consumers[1].get(), consumers[2].get()};
  eda::Subscriber audit(context, {.endpoints = follow_up_endpoints});
  eda::Subscriber orders(context, {.endpoints = {shop.events()}});
  REQUIRE(orders.await_handshake(10s));
  REQUIRE(drive(all, [&] { return audit.await_handshake(5ms); }));

  eda::RpcClient customer(context, {.endpoint = shop.api()});
  (void)place_orders(customer, 1, 5);
  std::map<std::string, eda::EventMetadata> placed;  // by event id
  while (placed.size() < 5) {
    auto delivery = orders.receive(10s);
    REQUIRE(delivery);
    placed[delivery->event.meta().event_id] = delivery->event.meta();
  }
  std::vector<eda::DecodedEvent> follow_ups;
  REQUIRE(drive(all, [&] {
    while (auto d = audit.receive(0ms)) follow_ups.push_back(d->event);
    return follow_ups.size() == 15;
  }));
  std::map<std::string, int> per_cause;
  for (const auto& event : follow_ups) {
    const auto cause = placed.find(event.meta().causation_id);
    REQUIRE(cause != placed.end());
    CHECK(event.meta().correlation_id == cause->second.correlation_id);
    CHECK(cause->second.correlation_id == cause->second.event_id);  // the order starts the chain
    ++per_cause[event.meta().causation_id];
  }
  CHECK(per_cause.size() == 5);
  for (const auto& [id, n] : per_cause) CHECK(n == 3);  // inventory, shipping and billing
}

TEST_CASE("malformed, unknown and duplicate events do not stop a consumer", "[notification]") {
  zmq::context_t context;
  OrderServiceThread shop(context);
  eda::RpcClient customer(context, {.endpoint = shop.api()});
  (void)place_orders(customer, 1, 2);
  // The real records of orders 1 and 2, as the outbox holds them.
  const auto real = customer.call<ReplayReply>(method::replay, ReplayRequest{0, 10});
  REQUIRE(real.events.size() == 2);
  const std::string first(real.events[0].begin(), real.events[0].end());
  const std::string second(real.events[1].begin(), real.events[1].end());

  // The consumer listens to a hand-driven publisher that replays the order service's events
  // with garbage and duplicates mixed in; fetch-backs still go to the real Order service.
  eda::test::RawPublisher wire(context);
  eda::DeadLetterBox dead_letters;
  Tally tally;
  auto options = options_for("billing", shop);
  options.events_endpoint = wire.endpoint();
  options.dead_letters = &dead_letters;
  Consumer billing(context, options, counted("billing", tally));
  const eda::Deadline deadline(10s);
  bool started = false;
  while (!started && !deadline.expired()) {
    wire.answer_handshakes();
    started = billing.start(5ms);
  }
  REQUIRE(started);  // caught up: orders 1 and 2 came from the outbox
  REQUIRE(tally.handled.size() == 2);

  (void)place_orders(customer, 3, 1);
  const auto third_reply = customer.call<ReplayReply>(method::replay, ReplayRequest{2, 10});
  const std::string third(third_reply.events[0].begin(), third_reply.events[0].end());
  wire.send({"shop.order.placed", "\xc1 not an envelope"});  // malformed
  wire.send({second});                                       // a duplicate delivery
  wire.send({third});
  wire.send({third});  // and another
  // A well-formed envelope whose payload is not an OrderPlaced: unknown to this consumer.
  eda::Event<StockReserved> odd = eda::make_event("order-service", StockReserved{4, "widget", 1});
  odd.meta.type = "shop.order.placed";
  odd.meta.sequence = 4;
  wire.send({eda::encode_event(odd)});
  // A well-formed OrderPlaced for an order the Order service does not know: the fetch-back
  // is refused, retrying cannot help.
  eda::Event<OrderPlaced> ghost = eda::make_event("order-service", OrderPlaced{999});
  ghost.meta.sequence = 5;
  wire.send({eda::encode_event(ghost)});
  REQUIRE(drive({&billing}, [&] { return billing.last_processed() == 5; }));
  CHECK(all_handled_once(tally, 3));
  CHECK(billing.stats().duplicates ==
        1);  // the re-delivered order 2 (the other is dropped by sequence)
  REQUIRE(dead_letters.total() == 3);
  CHECK(dead_letters.recent()[0].fault == eda::WireFault::not_messagepack);
  CHECK(dead_letters.recent()[0].origin == "billing");
  CHECK(dead_letters.recent()[1].fault == eda::WireFault::payload_mismatch);
  CHECK(dead_letters.recent()[2].fault == eda::WireFault::unprocessable);
  CHECK_THAT(dead_letters.recent()[2].reason, Catch::Contains("no order 999"));
  CHECK(billing.stats().dead_letters == 2);
  (void)first;
}

TEST_CASE(
    "hostile bytes on the Order service's and a consumer's ports drop that peer, orders "
    "still flow",
    "[notification][hostile]") {
  using eda::test::Hostility;
  zmq::context_t context;
  OrderServiceThread shop(context);  // tcp loopback
  std::map<std::string, Tally> tallies;
  const auto consumers = start_downstream(context, shop, tallies);
  for (const Hostility how : {Hostility::garbage, Hostility::oversized_message}) {
    INFO("hostility " << static_cast<int>(how));
    CHECK(eda::test::hostile_peer_is_dropped(shop.events(), how, "SUB"));
    CHECK(eda::test::hostile_peer_is_dropped(shop.api(), how, "DEALER"));
    CHECK(eda::test::hostile_peer_is_dropped(consumers[0]->follow_ups_endpoint(), how, "SUB"));
  }
  eda::RpcClient customer(context, {.endpoint = shop.api()});
  (void)place_orders(customer, 1, 5);
  std::vector<Consumer*> all{consumers[0].get(), consumers[1].get(), consumers[2].get()};
  REQUIRE(drive(all, [&] {
    for (const auto& c : consumers)
      if (c->stats().handled < 5) return false;
    return true;
  }));
  for (const auto& [role, tally] : tallies) {
    INFO("role: " << role);
    CHECK(all_handled_once(tally, 5));
  }
}
