// The Order saga orchestrator over the three participants (an in-memory bus, real databases):
// the happy path, each kind of failure rolled back, the semantic lock, timeouts with late
// replies, duplicate and reordered replies, a compensation retried with backoff or parked, and
// an orchestrator destroyed mid-saga and rebuilt from its event store.
#include <algorithm>
#include <random>

#include <catch2/catch.hpp>

#include "checkout_rig.hpp"
#include "eda/sourcing/memory_store.hpp"

using namespace eda::saga;
using namespace std::chrono_literals;
using eda::saga::test::checkout;
using eda::saga::test::CheckoutRig;
using eda::saga::test::TempDirectory;

namespace {

/// The types of the events in the saga's stream, in order.
std::vector<std::string> stream_types(CheckoutRig& rig, std::uint64_t order_id) {
  std::vector<std::string> types;
  for (const auto& recorded : rig.store().read_stream(checkout_stream(order_id), 1, 1000)) {
    types.emplace_back(recorded.event.type());
  }
  return types;
}

bool holds_command(const eda::DecodedEvent& command, std::string_view prefix) {
  return command.type().starts_with(prefix);
}

}  // namespace

TEST_CASE("a checkout reserves, charges and books, then approves the order",
          "[saga][orchestrator]") {
  TempDirectory dir;
  CheckoutRig rig(dir.rig());
  rig.stock_up("SKU-1", 10);
  rig.orchestrator->start(checkout(1, 3));
  CHECK(rig.orchestrator->order_status(1) == OrderStatus::pending);
  rig.settle();

  CHECK(rig.orchestrator->order_status(1) == OrderStatus::approved);
  CHECK(rig.orchestrator->running_count() == 0);
  CHECK(rig.inventory.ledger().held() == 3);
  CHECK(rig.payment.captured_cents() == 3000);
  CHECK(rig.shipping.booked_count() == 1);
  const auto saga = rig.orchestrator->find(1);
  REQUIRE(saga);
  CHECK(saga->describe() ==
        "started -> reserve-stock -> reserve-stock done -> charge-card -> charge-card done -> "
        "book-parcel -> book-parcel done -> completed");
  CHECK(stream_types(rig, 1).front() == "shop.checkout.started");
  CHECK(stream_types(rig, 1).back() == "shop.checkout.completed");
  CHECK(rig.orchestrator->counters().completed == 1);
  // Every command and reply of the saga carries its correlation id.
  for (const auto& row : rig.payment.outbox().read(1, 10)) {
    CHECK(eda::DecodedEvent::decode(row.envelope).meta().correlation_id == saga->correlation_id);
  }
}

TEST_CASE("the order is PENDING until its saga ends, and a second checkout of it is refused",
          "[saga][orchestrator]") {
  TempDirectory dir;
  CheckoutRig rig(dir.rig());
  rig.stock_up("SKU-1", 10);
  rig.orchestrator->start(checkout(1));
  (void)rig.deliver_commands();
  (void)rig.relay();  // stock reserved, the reply not yet received: the reservation is visible
  CHECK(rig.inventory.ledger().holds(1));
  CHECK(rig.orchestrator->order_status(1) == OrderStatus::pending);
  CHECK_THROWS_AS(rig.orchestrator->start(checkout(1)), CheckoutRefused);
  rig.settle();
  CHECK(rig.orchestrator->order_status(1) == OrderStatus::approved);
  CHECK_THROWS_AS(rig.orchestrator->start(checkout(1)), CheckoutRefused);
  CHECK(rig.orchestrator->order_status(2) == std::nullopt);
  CHECK_THROWS_AS(rig.orchestrator->start(checkout(2, 0)), std::invalid_argument);
}

TEST_CASE("out of stock: the saga rolls back with nothing to undo", "[saga][orchestrator]") {
  TempDirectory dir;
  CheckoutRig rig(dir.rig());
  rig.stock_up("SKU-1", 1);
  rig.orchestrator->start(checkout(1, 2));
  rig.settle();
  const auto saga = rig.orchestrator->find(1);
  CHECK(saga->status == SagaStatus::rolled_back);
  CHECK(saga->order_status() == OrderStatus::rejected);
  CHECK_THAT(saga->reason, Catch::Contains("only 1 of SKU-1 available"));
  CHECK(rig.payment.find(1) == std::nullopt);  // never charged
  CHECK(rig.inventory.ledger().available("SKU-1") == 1);
}

TEST_CASE("a declined card: the stock reservation is released", "[saga][orchestrator]") {
  TempDirectory dir;
  CheckoutRig rig(dir.rig());
  rig.stock_up("SKU-1", 5);
  auto request = checkout(1, 2);
  request.card = std::string(declined_card);
  rig.orchestrator->start(request);
  rig.settle();
  const auto saga = rig.orchestrator->find(1);
  CHECK(saga->status == SagaStatus::rolled_back);
  CHECK_THAT(saga->describe(), Catch::Contains("charge-card failed (card declined by the issuer) "
                                               "-> undo reserve-stock (attempt 1) -> "
                                               "reserve-stock undone -> rolled back"));
  CHECK(rig.inventory.ledger().available("SKU-1") == 5);
  CHECK(rig.inventory.ledger().held() == 0);
  CHECK(rig.payment.captured_cents() == 0);
  CHECK(rig.shipping.find(1) == std::nullopt);
}

TEST_CASE("the pivot fails (the carrier refuses): the charge is refunded, then the stock released",
          "[saga][orchestrator]") {
  TempDirectory dir;
  CheckoutRig rig(dir.rig());
  rig.stock_up("SKU-1", 5);
  auto request = checkout(1, 2);
  request.address = "";
  rig.orchestrator->start(request);
  rig.settle();
  const auto saga = rig.orchestrator->find(1);
  CHECK(saga->status == SagaStatus::rolled_back);
  CHECK_THAT(saga->describe(),
             Catch::Contains("book-parcel failed (no address to ship to) -> undo charge-card "
                             "(attempt 1) -> charge-card undone -> undo reserve-stock (attempt "
                             "1) -> reserve-stock undone -> rolled back"));
  CHECK(rig.payment.find(1)->status == PaymentStatus::refunded);
  CHECK(rig.payment.captured_cents() == 0);
  CHECK(rig.inventory.ledger().held() == 0);
  CHECK(rig.shipping.booked_count() == 0);
}

TEST_CASE(
    "a participant that does not answer in time: its step is compensated too, and its late "
    "reply is ignored",
    "[saga][orchestrator]") {
  TempDirectory dir;
  CheckoutRig rig(dir.rig(), {.orchestrator = {.step_timeout = 2s}});
  rig.stock_up("SKU-1", 5);
  const bool charged_before_timeout = GENERATE(false, true);
  if (charged_before_timeout) {
    // Payment charges the card, but its reply is held up on the way back.
    rig.on_reply = [](const eda::DecodedEvent& reply, std::deque<eda::DecodedEvent>& queue) {
      if (!reply.is<PaymentCharged>()) queue.push_back(reply);
    };
  } else {
    rig.hold_command = [](const eda::DecodedEvent& c) {
      return holds_command(c, payment_commands);
    };
  }
  rig.orchestrator->start(checkout(1));
  rig.settle();
  CHECK(rig.orchestrator->order_status(1) == OrderStatus::pending);  // waiting for Payment
  CHECK(rig.advance_clock(1s) == 0);                                 // not yet
  CHECK(rig.advance_clock(1s) == 1);                                 // the deadline
  CHECK(rig.orchestrator->counters().timeouts == 1);
  if (!charged_before_timeout) {
    // Payment is back: the refund overtakes the charge (it was held), and voids the order.
    rig.hold_command = nullptr;
  }
  rig.settle();
  if (!charged_before_timeout) rig.release_held();  // the late ChargeCard arrives at last
  rig.settle();

  const auto saga = rig.orchestrator->find(1);
  CHECK(saga->status == SagaStatus::rolled_back);
  CHECK_THAT(saga->describe(), Catch::Contains("charge-card timed out"));
  CHECK_THAT(saga->describe(), Catch::Contains("charge-card undone"));
  CHECK(rig.payment.captured_cents() == 0);  // refunded, or voided before it was charged
  CHECK(rig.inventory.ledger().held() == 0);
  if (charged_before_timeout) {
    CHECK(rig.payment.find(1)->status == PaymentStatus::refunded);
    // The held reply, delivered now, is stale: nothing is applied twice.
    const auto late = rig.payment.outbox().read(1, 1);
    CHECK(rig.orchestrator->handle(eda::DecodedEvent::decode(late.at(0).envelope)) ==
          ReplyVerdict::no_saga);
  } else {
    CHECK(rig.payment.find(1)->status == PaymentStatus::voided);
    CHECK(rig.orchestrator->counters().replies_stale >= 1);  // the late PaymentDeclined
  }
}

TEST_CASE("duplicate and reordered replies are harmless", "[saga][orchestrator]") {
  TempDirectory dir;
  CheckoutRig rig(dir.rig());
  rig.stock_up("SKU-1", 100);
  std::mt19937 shuffle(7);
  // Every reply arrives twice, and the queue is shuffled each time something arrives.
  rig.on_reply = [&](const eda::DecodedEvent& reply, std::deque<eda::DecodedEvent>& queue) {
    queue.push_back(reply);
    queue.push_back(reply);
    std::shuffle(queue.begin(), queue.end(), shuffle);
  };
  for (std::uint64_t order = 1; order <= 10; ++order) {
    auto request = checkout(order);
    if (order % 3 == 0) request.card = std::string(declined_card);
    rig.orchestrator->start(request);
  }
  rig.settle();
  CHECK(rig.orchestrator->running_count() == 0);
  CHECK(rig.orchestrator->counters().replies_stale >= rig.orchestrator->counters().replies_applied);
  CHECK(rig.orchestrator->counters().completed == 7);
  CHECK(rig.orchestrator->counters().rolled_back == 3);
  CHECK(rig.inventory.ledger().held() == 7);
  CHECK(rig.payment.captured_cents() == 7000);
  CHECK(rig.shipping.booked_count() == 7);
  // Each command was executed once: the participants saw no duplicate commands.
  CHECK(rig.payment.commands().counters().repeated == 0);
}

TEST_CASE("a refund that fails is tried again with backoff until it succeeds",
          "[saga][orchestrator]") {
  TempDirectory dir;
  int refusals_left = 3;
  CheckoutRig rig(dir.rig(),
                  {.orchestrator = {.first_retry = 100ms, .max_retry = 300ms},
                   .payment = {.refund_network = [&](std::uint64_t) -> std::optional<std::string> {
                     if (refusals_left-- > 0) return "card network unavailable";
                     return std::nullopt;
                   }}});
  rig.stock_up("SKU-1", 5);
  auto request = checkout(1);
  request.address = "";  // the pivot fails: refund, then release
  rig.orchestrator->start(request);
  rig.settle();
  auto saga = rig.orchestrator->find(1);
  REQUIRE(saga->retry_at_ns.has_value());
  CHECK(*saga->retry_at_ns == rig.clock_ns + 100'000'000);  // first wait: 100 ms
  CHECK(rig.advance_clock(99ms) == 0);
  CHECK(rig.advance_clock(1ms) == 1);
  rig.settle();
  saga = rig.orchestrator->find(1);
  CHECK(*saga->retry_at_ns == rig.clock_ns + 200'000'000);  // doubled
  CHECK(rig.advance_clock(200ms) == 1);
  rig.settle();
  saga = rig.orchestrator->find(1);
  CHECK(*saga->retry_at_ns == rig.clock_ns + 300'000'000);  // capped at max_retry
  CHECK(rig.advance_clock(300ms) == 1);
  rig.settle();
  saga = rig.orchestrator->find(1);
  CHECK(saga->status == SagaStatus::rolled_back);
  CHECK(rig.orchestrator->counters().retries == 3);
  CHECK_THAT(saga->describe(),
             Catch::Contains("undo charge-card (attempt 4) -> charge-card undone"));
  CHECK(rig.payment.captured_cents() == 0);
  CHECK(rig.inventory.ledger().held() == 0);
}

TEST_CASE("a compensation that keeps failing parks the saga for an operator, with a clear record",
          "[saga][orchestrator]") {
  TempDirectory dir;
  CheckoutRig rig(dir.rig(),
                  {.orchestrator = {.max_compensation_attempts = 3},
                   .payment = {.refund_network = [](std::uint64_t) -> std::optional<std::string> {
                     return "card expired";
                   }}});
  rig.stock_up("SKU-1", 5);
  auto request = checkout(1);
  request.address = "";
  rig.orchestrator->start(request);
  CHECK(rig.run_to_end());
  const auto saga = rig.orchestrator->find(1);
  CHECK(saga->status == SagaStatus::parked);
  CHECK(saga->order_status() == OrderStatus::needs_attention);
  CHECK_THAT(saga->reason, Catch::Contains("card expired"));
  CHECK_THAT(saga->reason, Catch::Contains("undo charge-card of order 1 by hand"));
  CHECK(stream_types(rig, 1).back() == "shop.checkout.parked");
  CHECK(rig.orchestrator->counters().parked == 1);
  CHECK(rig.payment.captured_cents() == 1000);  // the charge stands: that is why it is parked
  // A restarted orchestrator does not pick a parked saga up again.
  rig.crash_orchestrator();
  CHECK(rig.orchestrator->running_count() == 0);
}

TEST_CASE(
    "an orchestrator destroyed mid-saga is rebuilt from its event store and resumes every "
    "saga where it was",
    "[saga][orchestrator]") {
  TempDirectory dir;
  CheckoutRig rig(dir.rig());
  rig.stock_up("SKU-1", 100);
  for (std::uint64_t order = 1; order <= 6; ++order) {
    auto request = checkout(order);
    if (order == 5) request.card = std::string(declined_card);
    rig.orchestrator->start(request);
  }
  // Some progress, then the crash: what is in flight is lost with it.
  (void)rig.deliver_commands();
  (void)rig.relay();
  (void)rig.deliver_replies();
  (void)rig.deliver_commands();
  (void)rig.relay();  // charges decided, their replies in flight
  rig.crash_orchestrator();
  CHECK(rig.orchestrator->counters().resumed == 6);
  rig.settle();
  CHECK(rig.orchestrator->running_count() == 0);
  for (std::uint64_t order = 1; order <= 6; ++order) {
    CHECK(rig.orchestrator->order_status(order) ==
          (order == 5 ? OrderStatus::rejected : OrderStatus::approved));
  }
  // The charges were asked for again and answered with their first replies, not executed again.
  CHECK(rig.payment.commands().counters().repeated == 6);
  CHECK(rig.payment.captured_cents() == 5000);
  CHECK(rig.inventory.ledger().held() == 5);
  CHECK(rig.shipping.booked_count() == 5);
}

TEST_CASE("a crash between recording a command and sending it: the restarted orchestrator sends it",
          "[saga][orchestrator]") {
  TempDirectory dir;
  CheckoutRig rig(dir.rig());
  rig.stock_up("SKU-1", 10);
  rig.orchestrator->start(checkout(1));
  rig.commands.clear();  // recorded in the store, never sent
  rig.crash_orchestrator();
  rig.settle();
  CHECK(rig.orchestrator->order_status(1) == OrderStatus::approved);
  CHECK(rig.inventory.commands().counters().repeated == 0);  // the first copy never arrived
}

TEST_CASE("messages that are no replies, or replies to nothing, are counted and ignored",
          "[saga][orchestrator]") {
  TempDirectory dir;
  CheckoutRig rig(dir.rig());
  rig.stock_up("SKU-1", 10);
  rig.orchestrator->start(checkout(1));
  // A command is no reply; a reply for an order without a saga; a reply with a wrong payload.
  const auto command = rig.commands.front();
  CHECK(rig.orchestrator->handle(command) == ReplyVerdict::not_a_reply);
  const auto stray = eda::DecodedEvent::decode(eda::encode_event(
      eda::make_event("payment", PaymentCharged{.order_id = 99, .amount_cents = 1})));
  CHECK(rig.orchestrator->handle(stray) == ReplyVerdict::no_saga);
  eda::EventMetadata meta = eda::make_metadata<StockReserved>("inventory");
  meta.causation_id = std::string(command.event_id());
  msgpack::sbuffer bad;
  eda::encode_event(meta, ReleaseStock{.order_id = 1}, bad);
  CHECK(rig.orchestrator->handle(eda::DecodedEvent::decode(
            std::string_view(bad.data(), bad.size()))) == ReplyVerdict::not_a_reply);
  // A reply to the awaited command's order but caused by something else is stale.
  const auto forged = eda::DecodedEvent::decode(eda::encode_event(eda::make_event(
      "inventory", StockReserved{.order_id = 1, .sku = "SKU-1", .quantity = 1, .remaining = 9})));
  CHECK(rig.orchestrator->handle(forged) == ReplyVerdict::stale);
  rig.settle();
  CHECK(rig.orchestrator->order_status(1) == OrderStatus::approved);
  CHECK(rig.orchestrator->counters().not_replies == 2);
}

TEST_CASE("a reply to an earlier attempt of a compensation is stale once the next attempt is out",
          "[saga][orchestrator]") {
  TempDirectory dir;
  CheckoutRig rig(dir.rig(), {.orchestrator = {.step_timeout = 1s, .first_retry = 100ms}});
  rig.stock_up("SKU-1", 5);
  std::optional<eda::DecodedEvent> first_refund_reply;
  rig.on_reply = [&](const eda::DecodedEvent& reply, std::deque<eda::DecodedEvent>& queue) {
    if (reply.is<PaymentRefunded>() && !first_refund_reply) {
      first_refund_reply = reply;  // held up on the way
      return;
    }
    queue.push_back(reply);
  };
  auto request = checkout(1);
  request.address = "";
  rig.orchestrator->start(request);
  rig.settle();
  REQUIRE(first_refund_reply);
  CHECK(rig.advance_clock(1s) == 1);     // attempt 1 timed out
  CHECK(rig.advance_clock(100ms) == 1);  // attempt 2 sent
  CHECK(rig.orchestrator->handle(*first_refund_reply) == ReplyVerdict::stale);
  rig.settle();
  const auto saga = rig.orchestrator->find(1);
  CHECK(saga->status == SagaStatus::rolled_back);
  CHECK_THAT(saga->describe(),
             Catch::Contains("undo charge-card (attempt 2) -> charge-card undone"));
  CHECK(rig.payment.captured_cents() == 0);
}

TEST_CASE("the orchestrator refuses options that cannot work, and runs over any event store",
          "[saga][orchestrator]") {
  eda::sourcing::InMemoryEventStore store;
  std::vector<eda::DecodedEvent> sent;
  const CommandSender keep = [&](const eda::DecodedEvent& command) { sent.push_back(command); };
  CHECK_THROWS_AS(CheckoutOrchestrator(store, nullptr), std::invalid_argument);
  CHECK_THROWS_AS(CheckoutOrchestrator(store, keep, {.max_compensation_attempts = 0}),
                  std::invalid_argument);
  CHECK_THROWS_AS(CheckoutOrchestrator(store, keep, {.step_timeout = 0ms}), std::invalid_argument);
  CHECK_THROWS_AS(CheckoutOrchestrator(store, keep, {.first_retry = 2s, .max_retry = 1s}),
                  std::invalid_argument);

  std::int64_t now = 5'000'000'000;
  CheckoutOrchestrator orders(store, keep, {.step_timeout = 3s, .clock = [&] { return now; }});
  CHECK_FALSE(orders.next_due_ns().has_value());
  orders.start(checkout(1));
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].is<ReserveStock>());
  CHECK(sent[0].payload_as<ReserveStock>().quantity == 1);
  CHECK(orders.next_due_ns() == now + 3'000'000'000);
  const auto saga = CheckoutOrchestrator::load(store, 1);
  REQUIRE(saga);
  CHECK(saga->awaiting->command_id == sent[0].event_id());
  CHECK(sent[0].meta().correlation_id == saga->correlation_id);
  CHECK(store.stream_version(checkout_stream(1)) == 2);  // started, command issued
  try {
    orders.start(checkout(1));
    FAIL("a PENDING order was checked out twice");
  } catch (const CheckoutRefused& refused) {
    CHECK(refused.category() == eda::ErrorCategory::application);
    CHECK_THAT(refused.what(), Catch::Contains("PENDING"));
  }
}
