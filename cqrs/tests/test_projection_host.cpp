// The projection host (read_models.hpp's ProjectionHost) with a projection that is not the
// shop's: the host keeps its tables, checkpoints and answers without knowing any of them; and
// which of the store's events projections see, and how (projected_event_of).

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include "eda/cqrs/read_models.hpp"
#include "shop_fixture.hpp"

using namespace eda::cqrs;
using namespace eda::cqrs::test;
using namespace eda::sourcing;

namespace {

/// How many events each order had: a projection of the test's own, with its own table, its
/// own statements and its own query.
class EventCounts final : public Projection {
 public:
  [[nodiscard]] std::string_view name() const noexcept override { return "event-counts"; }
  void open(const sqlite::Database& db) override {
    db.exec(
        "CREATE TABLE IF NOT EXISTS event_counts (order_id INTEGER PRIMARY KEY, events INTEGER NOT "
        "NULL)");
    add_.emplace(db.handle(),
                 "INSERT INTO event_counts (order_id, events) VALUES (?, ?)"
                 " ON CONFLICT (order_id) DO UPDATE SET events = events + excluded.events");
  }
  void drop(const sqlite::Database& db) override {
    add_.reset();
    db.exec("DROP TABLE IF EXISTS event_counts");
  }
  void apply(const ProjectedEvent& event) override { ++batch_[event.order_id]; }
  void write() override {
    for (const auto& [order_id, events] : batch_) add_->bind(order_id, events).run();
    batch_.clear();
  }
  void discard() noexcept override { batch_.clear(); }

 private:
  std::optional<sqlite::Statement> add_;
  std::map<std::uint64_t, std::uint64_t> batch_;
};

/// The question asked of EventCounts's table.
std::int64_t events_of(const sqlite::Database& db, std::uint64_t order_id) {
  sqlite::Statement query(db.handle(), "SELECT events FROM event_counts WHERE order_id = ?");
  return query.bind(order_id).single_integer();
}

/// A host whose database the test may ask directly (as ReadModels asks the shop's).
class CountingHost final : public ProjectionHost {
 public:
  explicit CountingHost(const std::string& path)
      : ProjectionHost({.path = path}, [] {
          std::vector<std::unique_ptr<Projection>> projections;
          projections.push_back(std::make_unique<EventCounts>());
          return projections;
        }()) {}
  [[nodiscard]] Reflecting<std::int64_t> events(std::uint64_t order_id) const {
    return read("event-counts", [&] { return events_of(database(), order_id); });
  }
};

struct StockCounted {  // an event of another stream, not an order
  static constexpr std::string_view event_type = "shop.stock.counted";
  static constexpr std::uint32_t schema_version = 1;
  std::uint32_t count = 0;
  MSGPACK_DEFINE(count)
};

}  // namespace

TEST_CASE("the projection host runs a projection it knows nothing of, with its checkpoint",
          "[projection-host]") {
  TempDatabase file;
  Shop shop;
  shop.orders.execute(1, PlaceOrder{"alice"});
  shop.orders.execute(1, AddItem{"widget", 2, 1250});
  shop.store.append(
      "stock-widget", ExpectedVersion::no_stream(),
      std::vector{EventData::of(eda::make_metadata<StockCounted>("test"), StockCounted{7})});
  shop.orders.execute(2, PlaceOrder{"bob"});
  CountingHost host(file.path());
  CHECK(host.projections() == std::vector<std::string>{"event-counts"});
  const BatchApplied applied = host.apply(shop.store.read_all(1, 100));
  CHECK(applied.events == 4);
  CHECK(applied.applied == 3);  // the stock event is no order's: it only moves the checkpoint
  CHECK(host.checkpoint("event-counts") == 4);
  const Reflecting<std::int64_t> alice = host.events(1);
  CHECK(alice.rows == 2);
  CHECK(alice.position == 4);
  CHECK(host.events(2).rows == 1);
  // Its table is all there is: none of the shop's read models was made.
  CHECK(host.dump() == "[event_counts]\n1|2\n2|1\n");
  // Reset and fed again, it counts the same.
  host.reset("event-counts");
  CHECK(host.events(1).rows == 0);
  CHECK(host.events(1).position == 0);
  host.apply(shop.store.read_all(1, 100));
  CHECK(host.dump() == "[event_counts]\n1|2\n2|1\n");
}

TEST_CASE("projections see an order's events decoded, and no other stream's", "[projection-host]") {
  Shop shop;
  shop.clock.set(late_on_the_25th);
  shop.orders.execute(12, PlaceOrder{"carol"});
  shop.store.append(
      "stock-widget", ExpectedVersion::no_stream(),
      std::vector{EventData::of(eda::make_metadata<StockCounted>("test"), StockCounted{7})});
  const auto events = shop.store.read_all(1, 10);
  REQUIRE(events.size() == 2);
  const std::optional<ProjectedEvent> placed = projected_event_of(events[0]);
  REQUIRE(placed.has_value());
  CHECK(placed->order_id == 12);
  CHECK(placed->version == 1);
  CHECK(placed->position == 1);
  CHECK(placed->timestamp_ns == late_on_the_25th);
  REQUIRE(std::holds_alternative<OrderPlaced>(placed->event));
  CHECK(std::get<OrderPlaced>(placed->event).customer == "carol");
  CHECK_FALSE(projected_event_of(events[1]).has_value());
}
