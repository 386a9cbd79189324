// The choreographed checkout: no orchestrator, each service reacting to the others' events
// (an in-memory bus relaying every outbox to every service). The same outcomes as the
// orchestrated saga for a good order, a declined card and a refused parcel; duplicate events
// are harmless; and where a checkout stands is found by following its correlation id across
// the services' events, each naming the event it reacted to.
#include <array>
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
      reacted[reactor->react(event)] += 1;
    }
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
  OrderDesk desk{dir.path() + "/desk.db", durability};
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
};

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
