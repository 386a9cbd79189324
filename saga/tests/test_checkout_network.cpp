// The checkout over the kit's transport: the orchestrator and the three participants each
// behind their own sockets (Inventory over tcp loopback, Payment over ipc, Shipping over
// inproc), the participants' replies going out through their outbox relays. A participant
// that is down makes its saga wait and then roll back once it is back; a command that does not
// decode is dead-lettered, not thrown.
#include <chrono>
#include <functional>

#include <catch2/catch.hpp>

#include "checkout_rig.hpp"
#include "eda/clock.hpp"
#include "eda/saga/checkout_transport.hpp"
#include "saga_test_support.hpp"

using namespace eda::saga;
using namespace std::chrono_literals;

namespace {

/// The four services wired together in one process, one thread polling them in turn.
struct WiredShop {
  explicit WiredShop(OrchestratorOptions options)
      : orchestrator(
            context, store,
            {.command_endpoints = {"tcp://127.0.0.1:*"}, .orchestrator = std::move(options)}),
        inventory_host(
            context, inventory.path(),
            [this](const eda::DecodedEvent& c) { return inventory.handle(c); },
            wiring("inventory", inventory_commands, "tcp://127.0.0.1:*")),
        payment_host(
            context, payment.path(),
            [this](const eda::DecodedEvent& c) { return payment.handle(c); },
            wiring("payment", payment_commands, payment_endpoint.address())),
        shipping_host(
            context, shipping.path(),
            [this](const eda::DecodedEvent& c) { return shipping.handle(c); },
            wiring("shipping", shipping_commands,
                   "inproc://shipping-replies-" + eda::new_event_id())) {
    orchestrator.listen({inventory_host.reply_endpoints().front(),
                         payment_host.reply_endpoints().front(),
                         shipping_host.reply_endpoints().front()});
    inventory.stock_up("SKU-1", 10);
  }

  ParticipantHostOptions wiring(const std::string& name, std::string_view topic,
                                const std::string& replies) {
    return {.name = name,
            .command_topic = std::string(topic),
            .command_endpoints = orchestrator.command_endpoints(),
            .reply_endpoints = {replies}};
  }

  /// Polls every service that is up, until `done` says so (at most `limit`).
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 20s) {
    const eda::Deadline deadline(limit);
    while (!done()) {
      if (deadline.expired()) return false;
      (void)orchestrator.poll(1ms);
      (void)inventory_host.poll(0ms);
      (void)payment_host.poll(0ms);
      if (!shipping_down) (void)shipping_host.poll(0ms);
    }
    return true;
  }

  /// Waits until every subscription on both sides is confirmed.
  bool connected() {
    return run_until([this] {
      return orchestrator.ready() && inventory_host.ready() && payment_host.ready() &&
             shipping_host.ready() && orchestrator.participants_subscribed() == 3;
    });
  }

  test::TempDirectory dir;
  test::RigPaths paths = dir.rig();
  test::IpcEndpoint payment_endpoint;
  zmq::context_t context;
  eda::sourcing::SqliteEventStore store{
      {.path = paths.store, .durability = eda::sqlite::Durability::normal}};
  Inventory inventory{paths.inventory, {.durability = eda::sqlite::Durability::normal}};
  Payment payment{paths.payment, {.durability = eda::sqlite::Durability::normal}};
  Shipping shipping{paths.shipping, {.durability = eda::sqlite::Durability::normal}};
  OrchestratorHost orchestrator;
  ParticipantHost inventory_host;
  ParticipantHost payment_host;
  ParticipantHost shipping_host;
  bool shipping_down = false;
};

}  // namespace

TEST_CASE("checkouts over tcp, ipc and inproc: one completes, one with a declined card rolls back",
          "[saga][network]") {
  WiredShop shop({.step_timeout = 10s});
  REQUIRE(shop.connected());
  auto& orders = shop.orchestrator.orchestrator();
  orders.start(test::checkout(1, 2));
  auto declined = test::checkout(2, 1);
  declined.card = std::string(declined_card);
  orders.start(declined);
  REQUIRE(shop.run_until([&] { return orders.running_count() == 0; }));

  CHECK(orders.order_status(1) == OrderStatus::approved);
  CHECK(orders.order_status(2) == OrderStatus::rejected);
  CHECK(checkout_violations(orders, shop.inventory, shop.payment, shop.shipping, 1, 2)
            .empty());
  CHECK(orders.counters().timeouts == 0);
  CHECK(shop.inventory_host.counters().executed == 3);  // reserve, reserve, release
  CHECK(shop.payment_host.counters().executed == 2);
  CHECK(shop.shipping_host.counters().executed == 1);
  // Every reply went out through an outbox and was recorded published.
  CHECK(shop.run_until([&] {
    return shop.inventory_host.relay().counters().published_through ==
               shop.inventory.outbox().last_position() &&
           shop.payment_host.relay().counters().published_through ==
               shop.payment.outbox().last_position() &&
           shop.shipping_host.relay().counters().published_through ==
               shop.shipping.outbox().last_position();
  }));
}

TEST_CASE(
    "a participant that is down: the saga times out, waits on its compensation, and rolls "
    "back once the participant is back",
    "[saga][network]") {
  // A second per step: generous for the steps that work on a loaded machine, short for the test.
  WiredShop shop({.step_timeout = 1s, .first_retry = 100ms, .max_retry = 500ms});
  REQUIRE(shop.connected());
  auto& orders = shop.orchestrator.orchestrator();
  shop.shipping_down = true;  // its commands queue up in its socket, unanswered
  orders.start(test::checkout(1, 2));
  // The booking times out; its cancel cannot be delivered either, and is tried again.
  REQUIRE(shop.run_until([&] { return orders.counters().timeouts >= 2; }));
  CHECK(orders.order_status(1) == OrderStatus::pending);
  CHECK(shop.payment.captured_cents() == 2000);  // not refunded before the parcel is settled
  shop.shipping_down = false;
  REQUIRE(shop.run_until([&] { return orders.running_count() == 0; }));

  const auto saga = orders.find(1);
  CHECK(saga->status == SagaStatus::rolled_back);
  CHECK_THAT(saga->describe(), Catch::Contains("book-parcel timed out"));
  CHECK(shop.shipping.booked_count() == 0);  // booked late, then cancelled
  CHECK(shop.payment.captured_cents() == 0);
  CHECK(shop.inventory.ledger().held() == 0);
  CHECK(orders.counters().replies_stale >= 1);  // the late ParcelBooked, at least
}

TEST_CASE(
    "a command that does not decode is dead-lettered by its participant, and the next one "
    "is handled",
    "[saga][network]") {
  WiredShop shop({.step_timeout = 10s});
  REQUIRE(shop.connected());
  eda::EventMetadata meta = eda::make_metadata<ChargeCard>("order-saga");
  meta.sequence = 1;
  msgpack::sbuffer bytes;
  eda::encode_event(meta, BookParcel{.order_id = 9, .address = "x"}, bytes);
  shop.orchestrator.publisher().republish(
      eda::DecodedEvent::decode(std::string_view(bytes.data(), bytes.size())));
  REQUIRE(shop.run_until([&] { return shop.payment_host.counters().refused == 1; }));
  CHECK(shop.payment_host.inbox().stats().malformed == 1);
  CHECK(shop.payment.find(9) == std::nullopt);

  auto& orders = shop.orchestrator.orchestrator();
  orders.start(test::checkout(1));
  REQUIRE(shop.run_until([&] { return orders.running_count() == 0; }));
  CHECK(orders.order_status(1) == OrderStatus::approved);
}
