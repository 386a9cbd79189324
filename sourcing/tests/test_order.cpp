// The Order aggregate: decide rejects what the state does not allow, evolve folds; the
// repository loads, saves with optimistic concurrency (retrying a conflict), answers temporal
// queries; random command sequences replay to the live state on every store.
#include <random>

#include <catch2/catch.hpp>

#include "eda/sourcing/memory_store.hpp"
#include "eda/sourcing/order_repository.hpp"
#include "eda/sourcing/sqlite_store.hpp"
#include "order_fixture.hpp"
#include "store_fixture.hpp"

using namespace eda::sourcing;
using eda::sourcing::test::random_command;
using eda::sourcing::test::TempDatabase;
using eda::sourcing::test::write_order_with_an_old_item;

TEST_CASE("decide turns valid commands into events and evolve folds them", "[order]") {
  OrderState state;
  const auto apply = [&](const OrderCommand& command) {
    for (const OrderEvent& event : decide(command, state)) state = evolve(state, event);
  };
  apply(PlaceOrder{"alice"});
  apply(AddItem{"widget", 2, 1250});
  apply(AddItem{"gadget", 1, 990});
  apply(AddItem{"widget", 1, 1250});
  apply(RemoveItem{"gadget"});
  CHECK(state.status == OrderStatus::open);
  CHECK(state.lines.at("widget") == OrderLine{3, 1250});
  CHECK(state.total_cents() == 3750);
  apply(Pay{3750});
  apply(Ship{"parcel-co"});
  CHECK(state.status == OrderStatus::shipped);
  CHECK(state.carrier == "parcel-co");
  CHECK(state.paid_cents == 3750);
}

TEST_CASE("decide rejects what the order's state does not allow, saying why", "[order]") {
  const OrderState none;
  const OrderState open = replay({OrderPlaced{"bob"}, ItemAdded{"widget", 1, 500}});
  const OrderState paid = evolve(open, OrderPaid{500});
  const OrderState shipped = evolve(paid, OrderShipped{"post"});
  CHECK_THROWS_WITH(decide(AddItem{"widget", 1, 500}, none), Catch::Contains("not placed"));
  CHECK_THROWS_WITH(decide(PlaceOrder{"bob"}, open), Catch::Contains("already placed"));
  CHECK_THROWS_WITH(decide(PlaceOrder{""}, none), Catch::Contains("customer"));
  CHECK_THROWS_WITH(decide(AddItem{"widget", 0, 500}, open), Catch::Contains("at least 1"));
  CHECK_THROWS_WITH(decide(AddItem{"widget", 1, -5}, open), Catch::Contains("negative"));
  // Limits that keep every total (and every sum of totals a read model keeps) in 64 bits.
  CHECK_THROWS_WITH(decide(AddItem{"widget", 1, max_unit_price_cents + 1}, open),
                    Catch::Contains("price"));
  CHECK(decide(AddItem{"widget", max_line_quantity - 1, 500}, open).size() == 1);
  CHECK_THROWS_WITH(decide(AddItem{"widget", max_line_quantity, 500}, open),
                    Catch::Contains("at most 1000000 units") && Catch::Contains("1000001"));
  CHECK_THROWS_WITH(decide(AddItem{"gizmo", 4'000'000'000u, 500}, open),
                    Catch::Contains("at most 1000000 units"));
  OrderState full = replay({OrderPlaced{"bob"}});
  for (std::size_t i = 0; i < max_order_lines; ++i) {
    full = evolve(full, ItemAdded{"sku-" + std::to_string(i), 1, 1});
  }
  CHECK_THROWS_WITH(decide(AddItem{"one-more", 1, 1}, full), Catch::Contains("at most 1000 lines"));
  CHECK(decide(AddItem{"sku-0", 1, 1}, full).size() == 1);  // an existing line may still grow
  CHECK_THROWS_WITH(decide(RemoveItem{"gizmo"}, open), Catch::Contains("no line 'gizmo'"));
  CHECK_THROWS_WITH(decide(Pay{499}, open), Catch::Contains("does not match the total 500"));
  CHECK_THROWS_WITH(decide(Pay{0}, replay({OrderPlaced{"bob"}})), Catch::Contains("empty"));
  CHECK_THROWS_WITH(decide(Ship{}, open), Catch::Contains("must be paid"));
  CHECK_THROWS_WITH(decide(Cancel{"late"}, shipped), Catch::Contains("shipped"));
  CHECK_THROWS_AS(decide(AddItem{"x", 1, 1}, paid), CommandRejected);
  CHECK(decide(Cancel{"changed my mind"}, paid).size() == 1);
}

namespace {

template <class Store>
void check_random_histories(Store& store) {
  OrderRepository orders(store, {.page = 7});  // small pages: loading crosses page borders
  for (std::uint64_t order = 1; order <= 60; ++order) {
    std::mt19937_64 random(order);
    OrderState live;
    std::uint64_t version = 0;
    for (int step = 0; step < 25; ++step) {
      const OrderCommand command = random_command(random, live);
      try {
        const CommandOutcome outcome = orders.execute(order, command);
        for (const OrderEvent& event : outcome.events) live = evolve(live, event);
        version = outcome.appended.last_version;
        CHECK(outcome.state == live);
      } catch (const CommandRejected&) {
        // rejected: nothing stored, the state unchanged
      }
    }
    const LoadedOrder loaded = orders.load(order);
    REQUIRE(loaded.state == live);  // replaying the stored events gives the live state
    REQUIRE(loaded.version == version);
    for (const RecordedEvent& recorded : orders.history(order)) {  // decode(encode(e)) == e
      const OrderEvent event = order_event_from(recorded);
      const EventData again = to_event_data(event, "order-service");
      CHECK(order_event_from(RecordedEvent{recorded.stream, recorded.version, recorded.position,
                                           eda::DecodedEvent::decode(again.envelope)}) == event);
    }
  }
}

}  // namespace

TEST_CASE("for random command sequences, replaying the stored events gives the live state",
          "[order][property]") {
  SECTION("in memory") {
    InMemoryEventStore store;
    check_random_histories(store);
  }
  SECTION("SQLite") {
    TempDatabase file;
    SqliteEventStore store({.path = file.path(), .durability = Durability::normal});
    check_random_histories(store);
  }
}

TEST_CASE("temporal queries: an order as it was at an earlier version or time", "[order]") {
  InMemoryEventStore store;
  OrderRepository orders(store);
  orders.execute(9, PlaceOrder{"carol"});
  orders.execute(9, AddItem{"widget", 2, 1000});
  orders.execute(9, Pay{2000});
  orders.execute(9, Ship{"post"});

  CHECK(orders.load_as_of_version(9, 1).state.status == OrderStatus::open);
  CHECK(orders.load_as_of_version(9, 1).state.lines.empty());
  CHECK(orders.load_as_of_version(9, 2).state.total_cents() == 2000);
  CHECK(orders.load_as_of_version(9, 3).state.status == OrderStatus::paid);
  CHECK(orders.load_as_of_version(9, 100).version == 4);
  CHECK(orders.load_as_of_version(9, 0).version == 0);

  const auto history = orders.history(9);
  REQUIRE(history.size() == 4);
  for (const RecordedEvent& recorded : history) {
    const LoadedOrder then = orders.load_as_of_time(9, recorded.event.meta().timestamp_ns);
    CHECK(then.version >= recorded.version);  // everything published by then, at least this
    CHECK(then.state == orders.load_as_of_version(9, then.version).state);
  }
  CHECK(orders.load_as_of_time(9, history.front().event.meta().timestamp_ns - 1).version == 0);
}

namespace {
/// A store that counts the events read from it, stream by stream.
class CountingReads final : public ForwardingEventStore {
 public:
  using ForwardingEventStore::ForwardingEventStore;
  [[nodiscard]] std::vector<RecordedEvent> read_stream(std::string_view stream, std::uint64_t from,
                                                       std::size_t max_count,
                                                       Direction direction) const override {
    auto page = ForwardingEventStore::read_stream(stream, from, max_count, direction);
    read += page.size();
    return page;
  }
  mutable std::size_t read = 0;  ///< Events read so far.
};
}  // namespace

TEST_CASE("an order as of an early version reads only the events up to it", "[order]") {
  InMemoryEventStore memory;
  CountingReads store(memory);
  OrderRepository orders(store, {.page = 4});
  orders.execute(9, PlaceOrder{"carol"});
  for (int i = 0; i < 20; ++i) orders.execute(9, AddItem{"widget", 1, 100});
  store.read = 0;
  CHECK(orders.load_as_of_version(9, 5).state.lines.at("widget").quantity == 4);
  CHECK(store.read == 5);  // not a page further, not the whole stream
  store.read = 0;
  CHECK(orders.load_as_of_version(9, 8).version == 8);  // two full pages exactly
  CHECK(store.read == 8);
  store.read = 0;
  CHECK(orders.load(9).version == 21);
  CHECK(store.read == 21);  // every event once
}

namespace {
/// A store where someone else appends to the stream just before each of our appends, `times`
/// times: a concurrency conflict on demand.
class InterferingStore final : public ForwardingEventStore {
 public:
  InterferingStore(EventStore& inner, int times) : ForwardingEventStore(inner), times_(times) {}
  AppendResult append(std::string_view stream, const ExpectedVersion& expected,
                      std::span<const EventData> events) override {
    if (times_-- > 0) {
      OrderRepository rival(inner());
      rival.execute(std::stoull(std::string(stream.substr(6))), AddItem{"rival", 1, 100});
    }
    return inner().append(stream, expected, events);
  }

 private:
  int times_;
};
}  // namespace

TEST_CASE("a conflicting writer makes the repository decide again on the new state", "[order]") {
  InMemoryEventStore store;
  OrderRepository(store).execute(3, PlaceOrder{"dave"});

  InterferingStore once(store, 1);
  const CommandOutcome outcome = OrderRepository(once).execute(3, AddItem{"widget", 1, 500});
  CHECK(outcome.attempts == 2);
  const LoadedOrder order = OrderRepository(store).load(3);
  CHECK(order.version == 3);  // placed, the rival's item, ours: nothing lost
  CHECK(order.state.lines.count("rival") == 1);
  CHECK(order.state.lines.count("widget") == 1);

  InterferingStore always(store, 100);
  CHECK_THROWS_AS(OrderRepository(always, {.max_attempts = 3}).execute(3, AddItem{"x", 1, 1}),
                  ConcurrencyConflict);
  CHECK_THROWS_AS(OrderRepository(store).execute(3, Ship{}), CommandRejected);
  CHECK(OrderRepository(store).load(3).version == 6);  // 3 rival items, nothing of ours
}

namespace {
/// An event of another aggregate.
struct Stranger {
  static constexpr std::string_view event_type = "shop.stock.reserved";
  static constexpr std::uint32_t schema_version = 1;
  int n = 0;
  MSGPACK_DEFINE(n)
};
}  // namespace

TEST_CASE("a foreign event in an order stream is reported with its place", "[order]") {
  InMemoryEventStore store;
  OrderRepository orders(store);
  orders.execute(4, PlaceOrder{"erin"});
  store.append(order_stream(4), ExpectedVersion::exactly(1),
               std::vector{EventData::of(eda::make_metadata<Stranger>("stock"), Stranger{})});
  CHECK_THROWS_WITH(orders.load(4), Catch::Contains("order-4") && Catch::Contains("version 2") &&
                                        Catch::Contains("not an order event"));
}

namespace {
template <class Store>
void check_snapshots(Store& store) {
  OrderRepository with(store, {.snapshot_every = 10});
  OrderRepository without(store);
  with.execute(1, PlaceOrder{"frank"});
  for (int i = 0; i < 34; ++i) {
    with.execute(1, AddItem{"sku-" + std::to_string(i % 7), 1, 100 + i});
  }
  // Version 35: snapshots were saved at 10, 20 and 30.
  const auto snapshot = store.load_snapshot(order_stream(1));
  REQUIRE(snapshot);
  CHECK(snapshot->version == 30);

  const LoadedOrder fast = with.load(1);
  const LoadedOrder slow = without.load(1);  // the same store: it uses the snapshot too
  const LoadedOrder full = [&] {             // a true full replay, for comparison
    LoadedOrder replayed;
    for (const RecordedEvent& r : with.history(1)) {
      replayed.state = evolve(std::move(replayed.state), order_event_from(r));
      replayed.version = r.version;
    }
    return replayed;
  }();
  CHECK(fast.state == full.state);  // snapshot + tail == full replay
  CHECK(fast.version == 35);
  CHECK(fast.snapshot_version == 30);
  CHECK(fast.events_replayed == 5);
  CHECK(slow.state == full.state);
  // Only the latest snapshot is kept: a temporal query before it replays from the start;
  // one after it starts from it.
  const LoadedOrder at_25 = with.load_as_of_version(1, 25);
  CHECK(at_25.version == 25);
  CHECK(at_25.snapshot_version == 0);
  CHECK(at_25.events_replayed == 25);
  const LoadedOrder at_33 = with.load_as_of_version(1, 33);
  CHECK(at_33.snapshot_version == 30);
  CHECK(at_33.events_replayed == 3);
  CHECK(at_33.state == without.load_as_of_version(1, 33).state);

  // A snapshot that no longer decodes (or is of another shape) is ignored, not trusted.
  store.save_snapshot(order_stream(1), Snapshot{35, order_state_schema_version, "\xc1"});
  const LoadedOrder despite = with.load(1);
  CHECK(despite.state == full.state);
  CHECK(despite.snapshot_version == 0);
  store.save_snapshot(order_stream(1), Snapshot{36, order_state_schema_version + 1, "x"});
  CHECK(with.load(1).snapshot_version == 0);
  // An older snapshot never replaces a newer one.
  store.save_snapshot(order_stream(1), Snapshot{3, order_state_schema_version, "old"});
  CHECK(store.load_snapshot(order_stream(1))->version == 36);
}
}  // namespace

TEST_CASE(
    "snapshots every N events: loading reads the snapshot and the tail, with the same "
    "state as a full replay",
    "[order][snapshot]") {
  SECTION("in memory") {
    InMemoryEventStore store;
    check_snapshots(store);
  }
  SECTION("SQLite") {
    TempDatabase file;
    SqliteEventStore store({.path = file.path(), .durability = Durability::normal});
    check_snapshots(store);
  }
}

namespace {
/// A version-1 ItemAdded of a shape no version ever had.
struct MisshapenV1 {
  static constexpr std::string_view event_type = ItemAdded::event_type;
  static constexpr std::uint32_t schema_version = 1;
  std::string only = "one field";
  MSGPACK_DEFINE(only)
};
}  // namespace

TEST_CASE("an old event with no upcaster step, or of a shape no version had, is a clear error",
          "[order][upcasting]") {
  // Loading such a history through the chain is part of the store contract (store_contract.inc).
  InMemoryEventStore store;
  OrderRepository orders(store);
  write_order_with_an_old_item(store, 8);
  REQUIRE(orders.history(8)[1].event.meta().schema_version == 1);  // stored as it was

  // Without a step for it, an old version is refused, naming the event and the gap.
  Upcasters none;
  const auto old_event = orders.history(8)[1].event;
  CHECK_THROWS_WITH(none.payload_as<ItemAdded>(old_event),
                    Catch::Contains("version 1") && Catch::Contains("no upcaster"));
  CHECK(none.payload_as<OrderPlaced>(orders.history(8)[0].event).customer == "gina");
  // A version-1 payload of the wrong shape fails in the step: reported with its place.
  store.append(
      order_stream(8), ExpectedVersion::exactly(3),
      std::vector{EventData::of(eda::make_metadata<MisshapenV1>("order-service"), MisshapenV1{})});
  CHECK_THROWS_WITH(orders.load(8), Catch::Contains("order-8") && Catch::Contains("version 4"));
  // Steps are registered once, from version 1.
  Upcasters chain;
  const UpcastStep identity = [](const msgpack::object& o, msgpack::zone&) { return o; };
  CHECK_THROWS_AS(chain.add("t", 0, identity), std::invalid_argument);
  chain.add("t", 1, identity);
  CHECK_THROWS_AS(chain.add("t", 1, identity), std::invalid_argument);
  CHECK(chain.size() == 1);
}
