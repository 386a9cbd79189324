// The read models: what each projection answers, checkpoints that commit with the data,
// idempotent handlers, rebuilds, and events a projection cannot read.

#include <sqlite3.h>

#include <catch2/catch.hpp>

#include "eda/cqrs/projections.hpp"
#include "eda/cqrs/read_models.hpp"
#include "shop_fixture.hpp"

using namespace eda::cqrs;
using namespace eda::cqrs::test;
using namespace eda::sourcing;

namespace {

/// Reads everything the store holds into the read models, 3 events per batch (so batches
/// end in the middle of orders).
void project_all(ReadModels& read, const EventStore& store) {
  for (std::uint64_t next = read.position() + 1;;) {
    const auto events = store.read_all(next, 3);
    if (events.empty()) return;
    read.apply(events);
    next = events.back().position + 1;
  }
}

/// Runs SQL on the read-model file behind the ReadModels' back.
void tamper(const std::string& path, const char* sql) {
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &raw) == SQLITE_OK);
  REQUIRE(sqlite3_exec(raw, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(raw);
}

/// A small history over two days: alice's order 1 paid on the 25th and shipped, her order 2
/// paid on the 26th, bob's order 3 open, bob's order 4 paid then cancelled.
void small_history(Shop& shop) {
  auto& o = shop.orders;
  shop.clock.set(late_on_the_25th - 60'000'000'000);
  o.execute(1, PlaceOrder{"alice"});
  o.execute(1, AddItem{"widget", 2, 1250});
  o.execute(1, AddItem{"gadget", 1, 999});
  o.execute(1, AddItem{"widget", 1, 1300});  // the newer price replaces the old one
  shop.clock.set(late_on_the_25th);
  o.execute(1, Pay{3 * 1300 + 999});
  o.execute(2, PlaceOrder{"alice"});
  o.execute(2, AddItem{"widget", 1, 1300});
  o.execute(2, AddItem{"gizmo", 5, 100});
  o.execute(2, RemoveItem{"gizmo"});
  shop.clock.set(early_on_the_26th);
  o.execute(1, Ship{"post"});
  o.execute(2, Pay{1300});
  o.execute(3, PlaceOrder{"bob"});
  o.execute(3, AddItem{"gizmo", 4, 250});
  o.execute(4, PlaceOrder{"bob"});
  o.execute(4, AddItem{"gadget", 2, 999});
  o.execute(4, Pay{1998});
  o.execute(4, Cancel{"changed his mind"});
}

}  // namespace

TEST_CASE("each read model answers its question from the events", "[read-models]") {
  TempDatabase file;
  Shop shop;
  small_history(shop);
  ReadModels read({.path = file.path()});
  project_all(read, shop.store);

  CHECK(read.customer_orders("alice") ==
        std::vector<OrderSummary>{{1, "alice", "shipped", 4, 3 * 1300 + 999},
                                  {2, "alice", "paid", 1, 1300}});
  CHECK(read.customer_orders("bob") ==
        std::vector<OrderSummary>{{3, "bob", "open", 4, 1000}, {4, "bob", "cancelled", 2, 1998}});
  CHECK(read.customer_orders("nobody").empty());

  // Order 1 counts on the 25th, order 2 on the 26th; bob's cancelled order 4 not at all.
  CHECK(read.sales_by_day("2026-11-01", "2026-11-30") ==
        std::vector<ProductDaySales>{{"2026-11-25", "gadget", 1, 999},
                                     {"2026-11-25", "widget", 3, 3900},
                                     {"2026-11-26", "widget", 1, 1300}});
  CHECK(read.sales_by_day("2026-11-26", "2026-11-26") ==
        std::vector<ProductDaySales>{{"2026-11-26", "widget", 1, 1300}});

  const auto waiting = read.awaiting_shipment(10);
  REQUIRE(waiting.size() == 1);
  CHECK(waiting[0].order_id == 2);
  CHECK(waiting[0].customer == "alice");
  CHECK(waiting[0].total_cents == 1300);
  CHECK(utc_day(waiting[0].paid_at_ns) == "2026-11-26");
  CHECK(read.awaiting_shipment(0).empty());
}

TEST_CASE("every answer says which store position it reflects", "[read-models]") {
  TempDatabase file;
  Shop shop;
  ReadModels read({.path = file.path()});
  CHECK(read.position() == 0);
  CHECK(read.read_customer_orders("alice").position == 0);

  shop.orders.execute(1, PlaceOrder{"alice"});
  shop.orders.execute(1, AddItem{"widget", 1, 100});
  read.apply(shop.store.read_all(1, 1));
  auto answer = read.read_customer_orders("alice");
  CHECK(answer.position == 1);
  CHECK(answer.rows.at(0).item_count == 0);  // the item (position 2) is not in yet

  const BatchApplied applied = read.apply(shop.store.read_all(2, 10));
  CHECK(applied.events == 1);
  CHECK(applied.applied == 3);  // one event, three projections
  CHECK(applied.position == 2);
  answer = read.read_customer_orders("alice");
  CHECK(answer.position == 2);
  CHECK(answer.rows.at(0).item_count == 1);
  for (const std::string& name : read.projections()) CHECK(read.checkpoint(name) == 2);
  CHECK_THROWS_AS(read.checkpoint("no-such-projection"), std::invalid_argument);
}

TEST_CASE("checkpoints survive reopening: a projector resumes where it stopped", "[read-models]") {
  TempDatabase file;
  Shop shop;
  small_history(shop);
  std::string expected;
  {
    ReadModels read({.path = file.path()});
    read.apply(shop.store.read_all(1, 7));
    CHECK(read.position() == 7);
  }
  ReadModels reopened({.path = file.path()});
  CHECK(reopened.position() == 7);
  project_all(reopened, shop.store);

  TempDatabase clean_file;
  ReadModels clean({.path = clean_file.path()});
  project_all(clean, shop.store);
  CHECK(reopened.dump() == clean.dump());
}

TEST_CASE("events delivered twice change nothing", "[read-models]") {
  TempDatabase file;
  Shop shop;
  small_history(shop);
  ReadModels read({.path = file.path()});
  project_all(read, shop.store);
  const std::string once = read.dump();

  SECTION("the checkpoint skips them") {
    const BatchApplied again = read.apply(shop.store.read_all(1, 1000));
    CHECK(again.applied == 0);
    CHECK(read.dump() == once);
  }
  SECTION("the handlers ignore them even when the checkpoint is lost") {
    tamper(file.path(), "UPDATE checkpoints SET position = 0");
    CHECK(read.position() == 0);
    const BatchApplied again = read.apply(shop.store.read_all(1, 1000));
    CHECK(again.applied > 0);    // handed to every handler again...
    CHECK(read.dump() == once);  // ...which changed nothing
  }
  SECTION("a batch that overlaps the checkpoint applies only the new part") {
    const std::uint64_t last = shop.store.last_position();
    shop.orders.execute(3, AddItem{"gizmo", 1, 250});
    const BatchApplied overlapping = read.apply(shop.store.read_all(last - 2, 1000));
    CHECK(overlapping.applied == 3);  // only the new event, in each projection
    CHECK(read.customer_orders("bob").at(0).item_count == 5);
  }
}

TEST_CASE("a rebuilt projection is identical to the live one", "[read-models]") {
  TempDatabase file;
  Shop shop;
  small_history(shop);
  ReadModels read({.path = file.path()});
  project_all(read, shop.store);
  const std::string live = read.dump();

  for (const std::string& name : read.projections()) {
    std::vector<std::uint64_t> progress;
    const std::uint64_t events = rebuild(
        read, shop.store, name,
        [&](std::uint64_t position, std::uint64_t last) {
          CHECK(last == shop.store.last_position());
          progress.push_back(position);
        },
        4);
    CHECK(events == shop.store.last_position());
    CHECK(progress.back() == shop.store.last_position());
    CHECK(progress.size() == (events + 3) / 4);
    CHECK(read.dump() == live);
  }
  // All of them at once, in one pass over the store (pages of 3: read ahead while applying).
  CHECK(rebuild_all(read, shop.store, {}, 3) == shop.store.last_position());
  CHECK(read.dump() == live);
  CHECK_THROWS_AS(rebuild(read, shop.store, "no-such-projection"), std::invalid_argument);
  CHECK(read.dump() == live);  // nothing was dropped
  // A reset alone leaves the projection empty, at position 0, until it is fed again.
  read.reset(customer_orders_projection);
  CHECK(read.customer_orders("alice").empty());
  CHECK(read.position() == 0);
  project_all(read, shop.store);
  CHECK(read.dump() == live);
}

TEST_CASE("a projection rebuilt while the projector goes on feeding the others misses nothing",
          "[read-models]") {
  TempDatabase file, clean_file;
  Shop shop;
  small_history(shop);
  ReadModels read({.path = file.path()});
  project_all(read, shop.store);

  bool live_batch_done = false;
  rebuild(
      read, shop.store, sales_projection,
      [&](std::uint64_t, std::uint64_t) {
        if (live_batch_done) return;
        live_batch_done = true;
        // Meanwhile, new orders are paid and the live projector applies them: the
        // projection being rebuilt is behind this batch and is left alone by it.
        const std::uint64_t from = shop.store.last_position() + 1;
        shop.orders.execute(9, PlaceOrder{"erin"});
        shop.orders.execute(9, AddItem{"gizmo", 3, 100});
        shop.orders.execute(9, Pay{300});
        const BatchApplied live = read.apply(shop.store.read_all(from, 100), from);
        CHECK(live.applied == 6);  // two projections of three, three events each
        CHECK(read.checkpoint(sales_projection) < from);
      },
      2);
  CHECK(live_batch_done);
  ReadModels clean({.path = clean_file.path()});
  project_all(clean, shop.store);
  CHECK(read.dump() == clean.dump());
  CHECK(read.sales_by_day("2026-11-25", "2026-11-26").size() == 4);  // erin's gizmos too
}

TEST_CASE("rebuilding against another, shorter store is refused instead of waiting forever",
          "[read-models]") {
  TempDatabase file;
  Shop shop, other;
  small_history(shop);
  other.orders.execute(1, PlaceOrder{"alice"});
  ReadModels read({.path = file.path()});
  project_all(read, shop.store);
  CHECK_THROWS_WITH(rebuild(read, other.store, sales_projection),
                    Catch::Contains("ahead of the store") && Catch::Contains("rebuild_all"));
  CHECK(rebuild_all(read, other.store) == 1);  // all of them from that store: consistent again
  CHECK(read.position() == 1);
}

namespace {
struct OrderRefunded {  // an event type no projection knows (yet)
  static constexpr std::string_view event_type = "shop.order.refunded";
  static constexpr std::uint32_t schema_version = 1;
  std::int64_t amount_cents = 0;
  MSGPACK_DEFINE(amount_cents)
};
struct StockCounted {  // an event of another stream, not an order
  static constexpr std::string_view event_type = "shop.stock.counted";
  static constexpr std::uint32_t schema_version = 1;
  std::uint32_t count = 0;
  MSGPACK_DEFINE(count)
};
}  // namespace

TEST_CASE(
    "an event a projection cannot read stops it with the stream and position, "
    "applying nothing of the batch",
    "[read-models]") {
  TempDatabase file;
  Shop shop;
  shop.orders.execute(1, PlaceOrder{"alice"});
  shop.store.append(
      "order-1", ExpectedVersion::exactly(1),
      std::vector{EventData::of(eda::make_metadata<OrderRefunded>("test"), OrderRefunded{5})});
  ReadModels read({.path = file.path()});
  CHECK_THROWS_WITH(read.apply(shop.store.read_all(1, 10)),
                    Catch::Contains("order-1") && Catch::Contains("position 2"));
  CHECK(read.position() == 0);
  CHECK(read.customer_orders("alice").empty());
}

TEST_CASE("events of other streams move the checkpoints and nothing else", "[read-models]") {
  TempDatabase file;
  Shop shop;
  shop.store.append(
      "stock-widget", ExpectedVersion::no_stream(),
      std::vector{EventData::of(eda::make_metadata<StockCounted>("test"), StockCounted{7})});
  shop.orders.execute(12, PlaceOrder{"carol"});
  ReadModels read({.path = file.path()});
  CHECK(read.apply(shop.store.read_all(1, 10)).applied == 3);
  CHECK(read.position() == 2);
  CHECK(read.customer_orders("carol").size() == 1);
  CHECK(order_of_stream("order-12") == 12u);
  CHECK_FALSE(order_of_stream("order-").has_value());
  CHECK_FALSE(order_of_stream("order-12x").has_value());
  CHECK_FALSE(order_of_stream("stock-widget").has_value());
}

TEST_CASE("queries check their input", "[read-models]") {
  TempDatabase file;
  ReadModels read({.path = file.path()});
  CHECK_THROWS_WITH(read.sales_by_day("yesterday", "2026-11-26"), Catch::Contains("YYYY-MM-DD"));
  CHECK_THROWS_AS(read.sales_by_day("2026-11-26", "2026-11-2"), std::invalid_argument);
  CHECK(utc_day(late_on_the_25th) == "2026-11-25");
  CHECK(utc_day(early_on_the_26th) == "2026-11-26");
  CHECK(utc_day(0) == "1970-01-01");
}

TEST_CASE("a file that is not a read-model database is refused with its name", "[read-models]") {
  TempDatabase file;
  {
    std::FILE* junk = std::fopen(file.path().c_str(), "w");
    REQUIRE(junk != nullptr);
    std::fputs("this is not a database, just some text that is long enough to have a header", junk);
    std::fclose(junk);
  }
  CHECK_THROWS_WITH(ReadModels({.path = file.path()}), Catch::Contains(file.path()));
}
