// The choreographed checkout: no orchestrator, each service reacting to the others' events
// (an in-memory bus relaying every outbox to every service). The same outcomes as the
// orchestrated saga for a good order, a declined card and a refused parcel; duplicate events
// are harmless; and where a checkout stands is found by following its correlation id across
// the services' events, each naming the event it reacted to. And time: the Order desk owns each
// checkout's deadline; past it every service undoes its step, a late reply is never applied, and
// the order is rejected once all three undos are confirmed.
#include <algorithm>
#include <array>
#include <chrono>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "checkout_rig.hpp"
#include "eda/saga/choreography.hpp"

using namespace eda::saga;
using eda::saga::test::checkout;

namespace {

struct Choreography {
  explicit Choreography(PaymentOptions payment_options = {})
      : payment(paths.payment, [&] {
          payment_options.durability = durability;
          return payment_options;
        }()) {
    inventory.stock_up("SKU-1", 10);
  }

  /// Relays every outbox to every service until nothing moves (bounded).
  void settle() {
    for (int round = 0; round < 100; ++round) {
      std::size_t moved = 0;
      const std::array<const Outbox*, 4> outboxes{&desk.outbox(), &inventory.outbox(),
                                                  &payment.outbox(), &shipping.outbox()};
      for (std::size_t i = 0; i < outboxes.size(); ++i) {
        for (const OutboxRow& row : outboxes[i]->read(relayed[i] + 1, 1000)) {
          relayed[i] = row.position;
          const auto event = eda::DecodedEvent::decode(row.envelope);
          events.push_back(event);
          for (int copy = 0; copy < copies; ++copy) deliver(event);
          ++moved;
        }
      }
      if (moved == 0) return;
    }
  }

  void deliver(const eda::DecodedEvent& event) {
    (void)desk.react(event);
    for (Reactor* reactor : {&inventory_reactor, &payment_reactor, &shipping_reactor}) {
      if (reactor == silent) {
        waiting.push_back(event);  // it hears nothing until it wakes up
        continue;
      }
      reacted[reactor->react(event)] += 1;
    }
  }

  /// The silent service wakes up and takes what it missed, in the order given (then the bus
  /// settles again).
  void wake(std::vector<eda::DecodedEvent> in_order) {
    Reactor* woken = silent;
    silent = nullptr;
    waiting.clear();
    for (const auto& event : in_order) reacted[woken->react(event)] += 1;
    settle();
  }

  /// Lets `elapsed` pass on the desk's clock, and lets it time orders out.
  std::size_t advance_clock(std::chrono::milliseconds elapsed) {
    clock_ns += std::chrono::nanoseconds(elapsed).count();
    return desk.expire();
  }

  /// The types of the checkout's events, each followed by the type of the event it reacted to.
  std::vector<std::string> chain(const std::string& correlation_id) const {
    std::map<std::string, std::string> type_of;
    for (const auto& event : events) type_of[std::string(event.event_id())] = event.type();
    std::vector<std::string> links;
    for (const auto& event : events) {
      if (event.meta().correlation_id != correlation_id) continue;
      const auto cause = type_of.find(event.meta().causation_id);
      links.push_back(std::string(event.type()) + " <- " +
                      (cause == type_of.end() ? std::string("(start)") : cause->second));
    }
    return links;
  }

  test::TempDirectory dir;
  test::RigPaths paths = dir.rig();
  eda::sqlite::Durability durability = eda::sqlite::Durability::normal;
  std::int64_t clock_ns = 1'000'000'000'000;  ///< The desk's wall clock, by hand.
  OrderDesk desk{dir.path() + "/desk.db",
                 {.durability = durability, .clock = [this] { return clock_ns; }}};
  Inventory inventory{paths.inventory, {.durability = durability}};
  Payment payment;
  Shipping shipping{paths.shipping, {.durability = durability}};
  Reactor inventory_reactor{paths.inventory, inventory.commands(), inventory_reaction,
                            [this](const eda::DecodedEvent& c) { return inventory.handle(c); },
                            durability};
  Reactor payment_reactor{paths.payment, payment.commands(), payment_reaction,
                          [this](const eda::DecodedEvent& c) { return payment.handle(c); },
                          durability};
  Reactor shipping_reactor{paths.shipping, shipping.commands(), shipping_reaction,
                           [this](const eda::DecodedEvent& c) { return shipping.handle(c); },
                           durability};
  std::array<std::uint64_t, 4> relayed{};
  std::vector<eda::DecodedEvent> events;
  std::map<Reacted, int> reacted;
  int copies = 1;
  Reactor* silent = nullptr;               ///< A service that hears nothing (stalled).
  std::vector<eda::DecodedEvent> waiting;  ///< What it has not heard yet, in arrival order.
};

/// The events in `events` of type P.
template <class P>
std::vector<eda::DecodedEvent> of_type(const std::vector<eda::DecodedEvent>& events) {
  std::vector<eda::DecodedEvent> found;
  for (const auto& event : events) {
    if (event.is<P>()) found.push_back(event);
  }
  return found;
}

}  // namespace

TEST_CASE(
    "choreography: a good order is reserved, charged, booked and approved, with no "
    "orchestrator",
    "[saga][choreography]") {
  Choreography shop;
  const std::string correlation = shop.desk.place(checkout(1, 2));
  CHECK(shop.desk.status(1) == OrderStatus::pending);
  shop.settle();
  CHECK(shop.desk.status(1) == OrderStatus::approved);
  CHECK(shop.inventory.ledger().held() == 2);
  CHECK(shop.payment.captured_cents() == 2000);
  CHECK(shop.shipping.booked_count() == 1);
  // Where it stands, from its events alone: each names the event it reacted to.
  CHECK(shop.chain(correlation) ==
        std::vector<std::string>{"shop.order.placed <- (start)",
                                 "shop.inventory.stock-reserved <- shop.order.placed",
                                 "shop.payment.charged <- shop.inventory.stock-reserved",
                                 "shop.shipping.parcel-booked <- shop.payment.charged"});
  CHECK_THROWS_AS(shop.desk.place(checkout(1)), CheckoutRefused);
}

TEST_CASE("choreography: a declined card makes Inventory release, and the order is rejected",
          "[saga][choreography]") {
  Choreography shop;
  auto request = checkout(1, 2);
  request.card = std::string(declined_card);
  const std::string correlation = shop.desk.place(request);
  shop.settle();
  CHECK(shop.desk.status(1) == OrderStatus::rejected);
  CHECK(shop.inventory.ledger().held() == 0);
  CHECK(shop.inventory.ledger().available("SKU-1") == 10);
  CHECK(shop.payment.captured_cents() == 0);
  CHECK(shop.chain(correlation).back() == "shop.inventory.stock-released <- shop.payment.declined");
}

TEST_CASE("choreography: a refused parcel is refunded, then released, and the order rejected",
          "[saga][choreography]") {
  Choreography shop;
  auto request = checkout(1, 1);
  request.address = "";
  const std::string correlation = shop.desk.place(request);
  shop.settle();
  CHECK(shop.desk.status(1) == OrderStatus::rejected);
  CHECK(shop.payment.captured_cents() == 0);
  CHECK(shop.inventory.ledger().held() == 0);
  CHECK(shop.shipping.booked_count() == 0);
  const auto links = shop.chain(correlation);
  REQUIRE(links.size() == 6);
  CHECK(links[4] == "shop.payment.refunded <- shop.shipping.parcel-refused");
  CHECK(links[5] == "shop.inventory.stock-released <- shop.payment.refunded");
}

TEST_CASE(
    "choreography: out of stock rejects the order at once, and every event delivered twice "
    "changes nothing",
    "[saga][choreography]") {
  Choreography shop;
  shop.copies = 2;
  shop.desk.place(checkout(1, 20));  // more than the 10 in stock
  shop.desk.place(checkout(2, 3));
  auto declined = checkout(3, 1);
  declined.card = std::string(declined_card);
  shop.desk.place(declined);
  shop.settle();
  CHECK(shop.desk.status(1) == OrderStatus::rejected);
  CHECK(shop.desk.status(2) == OrderStatus::approved);
  CHECK(shop.desk.status(3) == OrderStatus::rejected);
  CHECK(shop.desk.pending_count() == 0);
  CHECK(shop.reacted[Reacted::duplicate] > 0);
  CHECK(shop.inventory.ledger().held() == 3);
  CHECK(shop.payment.captured_cents() == 3000);
  CHECK(shop.shipping.booked_count() == 1);
  CHECK(shop.payment.commands().counters().repeated == 0);  // no command ran twice
}

TEST_CASE(
    "choreography: Shipping silent past the deadline: the desk times the order out, every "
    "service undoes, and the late booking is cancelled, never approved",
    "[saga][choreography][timeout]") {
  using namespace std::chrono_literals;
  Choreography shop;
  shop.silent = &shop.shipping_reactor;
  const std::string correlation = shop.desk.place(checkout(1, 2));
  shop.settle();
  // Reserved and charged; Shipping heard nothing. Before the deadline nothing happens.
  CHECK(shop.inventory.ledger().held() == 2);
  CHECK(shop.payment.captured_cents() == 2000);
  CHECK(shop.advance_clock(4s) == 0);
  CHECK(shop.desk.status(1) == OrderStatus::pending);
  REQUIRE(shop.desk.next_deadline_ns() == shop.clock_ns + 1'000'000'000);

  CHECK(shop.advance_clock(1s) == 1);  // the 5 s deadline
  CHECK(shop.desk.timed_out(1));
  shop.settle();
  // Inventory released and Payment refunded on OrderTimedOut; Shipping has not confirmed yet,
  // so the order stays PENDING (the semantic lock holds until every undo is known).
  CHECK(shop.inventory.ledger().held() == 0);
  CHECK(shop.payment.captured_cents() == 0);
  CHECK(shop.desk.status(1) == OrderStatus::pending);

  // Shipping wakes up and takes what it missed in arrival order: it books (late), then cancels.
  shop.wake(shop.waiting);
  CHECK(shop.shipping.find(1)->status == ParcelStatus::cancelled);
  CHECK(shop.shipping.booked_count() == 0);
  // The late ParcelBooked reached the desk and approved nothing; the three undos rejected it.
  REQUIRE(of_type<ParcelBooked>(shop.events).size() == 1);
  CHECK(shop.desk.status(1) == OrderStatus::rejected);
  CHECK(shop.desk.pending_count() == 0);
  CHECK(shop.desk.next_deadline_ns() == std::nullopt);
  CHECK(shop.advance_clock(10s) == 0);  // settled: never announced again
  // Each step ran once and was undone once.
  CHECK(shop.payment.commands().counters().executed == 2);   // charge, refund
  CHECK(shop.shipping.commands().counters().executed == 2);  // book, cancel
  CHECK(shop.payment.commands().counters().repeated == 0);
  const auto links = shop.chain(correlation);
  CHECK(std::count(links.begin(), links.end(), "shop.order.timed-out <- shop.order.placed") == 1);
  CHECK(std::count(links.begin(), links.end(),
                   "shop.shipping.parcel-cancelled <- shop.order.timed-out") == 1);
}

TEST_CASE(
    "choreography: the timeout heard before the late events fences them off: the late booking "
    "is refused, and the late OrderPlaced reserves nothing",
    "[saga][choreography][timeout]") {
  using namespace std::chrono_literals;
  SECTION("Shipping hears OrderTimedOut before PaymentCharged") {
    Choreography shop;
    shop.silent = &shop.shipping_reactor;
    shop.desk.place(checkout(1, 1));
    shop.settle();
    CHECK(shop.advance_clock(5s) == 1);
    shop.settle();
    // Reordered: the timeout first, then the charge it overtook.
    auto missed = shop.waiting;
    std::stable_partition(missed.begin(), missed.end(),
                          [](const eda::DecodedEvent& e) { return e.is<OrderTimedOut>(); });
    REQUIRE(missed.front().is<OrderTimedOut>());
    shop.wake(missed);
    CHECK(shop.shipping.find(1)->status == ParcelStatus::cancelled);
    CHECK(of_type<ParcelBooked>(shop.events).empty());
    CHECK(of_type<ParcelRefused>(shop.events).size() == 1);  // the late booking, refused
    CHECK(shop.desk.status(1) == OrderStatus::rejected);
    CHECK(shop.inventory.ledger().held() == 0);
    CHECK(shop.payment.captured_cents() == 0);
    CHECK(shop.shipping.booked_count() == 0);
  }
  SECTION("Inventory hears nothing until after the timeout, then the timeout first") {
    Choreography shop;
    shop.silent = &shop.inventory_reactor;
    shop.desk.place(checkout(1, 3));
    shop.settle();
    CHECK(shop.advance_clock(5s) == 1);
    shop.settle();
    // Payment voided the order and Shipping fenced it; Inventory learns the order from the
    // timeout itself, releases (nothing held) and so refuses the reservation that comes after.
    auto missed = shop.waiting;
    REQUIRE(missed.size() >= 2);
    std::reverse(missed.begin(), missed.end());
    shop.wake(missed);
    CHECK(shop.inventory.ledger().find(1)->reserved == false);
    CHECK(shop.inventory.ledger().available("SKU-1") == 10);
    CHECK(shop.payment.find(1)->status == PaymentStatus::voided);
    CHECK(shop.desk.status(1) == OrderStatus::rejected);
  }
}

TEST_CASE(
    "choreography: every event delivered twice after a timeout: each undo runs once, and the "
    "order is rejected once",
    "[saga][choreography][timeout]") {
  using namespace std::chrono_literals;
  Choreography shop;
  shop.copies = 2;
  shop.silent = &shop.shipping_reactor;
  shop.desk.place(checkout(1, 1));
  shop.desk.place(checkout(2, 1));
  shop.settle();
  CHECK(shop.advance_clock(5s) == 2);
  shop.settle();
  shop.wake(shop.waiting);  // Shipping gets each event twice too
  CHECK(shop.reacted[Reacted::duplicate] > 0);
  CHECK(shop.desk.status(1) == OrderStatus::rejected);
  CHECK(shop.desk.status(2) == OrderStatus::rejected);
  CHECK(shop.inventory.ledger().held() == 0);
  CHECK(shop.payment.captured_cents() == 0);
  CHECK(shop.shipping.booked_count() == 0);
  CHECK(shop.inventory.commands().counters().repeated == 0);
  CHECK(shop.payment.commands().counters().repeated == 0);
  CHECK(shop.shipping.commands().counters().repeated == 0);
  CHECK(shop.shipping.commands().counters().executed == 4);  // two bookings, two cancels
}

TEST_CASE(
    "choreography: a refund refused after a timeout leaves the order PENDING and the desk "
    "announces the timeout again until the refund goes through",
    "[saga][choreography][timeout]") {
  using namespace std::chrono_literals;
  int refusals_left = 2;
  Choreography shop(
      PaymentOptions{.refund_network = [&](std::uint64_t) -> std::optional<std::string> {
        if (refusals_left == 0) return std::nullopt;
        --refusals_left;
        return "card network unavailable";
      }});
  shop.silent = &shop.shipping_reactor;
  shop.desk.place(checkout(1, 1));
  shop.settle();
  CHECK(shop.advance_clock(5s) == 1);
  shop.wake(shop.waiting);
  CHECK(shop.payment.captured_cents() == 1000);  // the refund was refused
  CHECK(shop.desk.status(1) == OrderStatus::pending);
  CHECK(shop.advance_clock(5s) == 1);  // announced again: refused again
  shop.settle();
  CHECK(shop.desk.status(1) == OrderStatus::pending);
  CHECK(shop.advance_clock(5s) == 1);  // and again: this time it goes through
  shop.settle();
  CHECK(refusals_left == 0);
  CHECK(shop.payment.captured_cents() == 0);
  CHECK(shop.desk.status(1) == OrderStatus::rejected);
  CHECK(of_type<OrderTimedOut>(shop.events).size() == 3);
  CHECK(of_type<OrderTimedOut>(shop.events).back().payload_as<OrderTimedOut>().attempt == 3);
  CHECK(shop.advance_clock(10s) == 0);
}

TEST_CASE(
    "choreography: a checkout that ends in time is never timed out, and a restarted desk keeps "
    "its deadlines",
    "[saga][choreography][timeout]") {
  using namespace std::chrono_literals;
  Choreography shop;
  shop.desk.place(checkout(1, 1));
  shop.settle();
  CHECK(shop.desk.status(1) == OrderStatus::approved);
  CHECK(shop.advance_clock(60s) == 0);
  CHECK_FALSE(shop.desk.timed_out(1));

  shop.silent = &shop.payment_reactor;
  shop.desk.place(checkout(2, 1));
  shop.settle();
  // The desk goes away and comes back: the deadline is in its database, in wall-clock time.
  OrderDesk reopened(shop.dir.path() + "/desk.db",
                     {.durability = shop.durability, .clock = [&] { return shop.clock_ns; }});
  shop.clock_ns += std::chrono::nanoseconds(5s).count();
  CHECK(reopened.expire() == 1);
  CHECK(reopened.status(1) == OrderStatus::approved);
  CHECK(reopened.timed_out(2));
  CHECK_THROWS_AS(OrderDesk(shop.dir.path() + "/desk.db", {.order_timeout = 0ms}),
                  std::invalid_argument);
}

TEST_CASE(
    "choreography: an event that overtakes the order it is about is parked, and reacted to "
    "once the order is known",
    "[saga][choreography]") {
  Choreography shop;
  shop.silent = &shop.shipping_reactor;
  shop.desk.place(checkout(1, 1));
  shop.settle();
  // Shipping hears Payment's PaymentCharged before the desk's OrderPlaced (two publishers).
  auto missed = shop.waiting;
  std::stable_partition(missed.begin(), missed.end(),
                        [](const eda::DecodedEvent& e) { return e.is<PaymentCharged>(); });
  REQUIRE(missed.front().is<PaymentCharged>());
  Reactor& shipping = shop.shipping_reactor;
  CHECK(shipping.react(missed.front()) == Reacted::parked);
  CHECK(shop.shipping.find(1) == std::nullopt);              // nothing done without the address
  CHECK(shipping.react(missed.front()) == Reacted::parked);  // heard twice: parked once
  shop.silent = nullptr;
  for (std::size_t i = 1; i < missed.size(); ++i) (void)shipping.react(missed[i]);
  CHECK(shipping.counters().unparked == 1);
  CHECK(shipping.counters().handled == 1);
  CHECK(shop.shipping.find(1)->status == ParcelStatus::booked);
  shop.settle();
  CHECK(shop.desk.status(1) == OrderStatus::approved);
  // The parked event is gone: hearing the order again books nothing more.
  CHECK(shipping.react(missed.front()) == Reacted::duplicate);
  CHECK(shop.shipping.commands().counters().executed == 1);
}
