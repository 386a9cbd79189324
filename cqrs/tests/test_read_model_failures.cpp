// The read side when something goes wrong: a batch that fails and is tried again, a reset
// that fails half-way, an event that arrives after a skipped one, and a rebuild of every
// projection while a live projector passes it by.

#include <atomic>
#include <memory>
#include <stdexcept>

#include <catch2/catch.hpp>
#include <zmq.hpp>

#include "eda/cqrs/projections.hpp"
#include "eda/cqrs/projector.hpp"
#include "eda/cqrs/read_models.hpp"
#include "shop_fixture.hpp"

using namespace eda::cqrs;
using namespace eda::cqrs::test;
using namespace eda::sourcing;

namespace {

/// Failures a test arms; each fires once.
struct Faults {
  bool open = false;   // the next open() throws
  bool write = false;  // the next write() throws
};

/// A real projection that fails once when the test asks it to (fault injection).
class Flaky final : public Projection {
 public:
  Flaky(std::unique_ptr<Projection> real, std::shared_ptr<Faults> faults)
      : real_(std::move(real)), faults_(std::move(faults)) {}
  [[nodiscard]] std::string_view name() const noexcept override { return real_->name(); }
  void open(const sqlite::Database& db) override {
    fire(faults_->open, "open");
    real_->open(db);
  }
  void drop(const sqlite::Database& db) override { real_->drop(db); }
  void apply(const ProjectedEvent& event) override { real_->apply(event); }
  void write() override {
    fire(faults_->write, "write");
    real_->write();
  }
  void discard() noexcept override { real_->discard(); }

 private:
  static void fire(bool& armed, const char* what) {
    if (armed) {
      armed = false;
      throw std::runtime_error(std::string("injected failure in ") + what);
    }
  }
  std::unique_ptr<Projection> real_;
  std::shared_ptr<Faults> faults_;
};

/// The shop's projections, the customer summaries made flaky.
std::vector<std::unique_ptr<Projection>> with_flaky_summaries(
    const std::shared_ptr<Faults>& faults) {
  std::vector<std::unique_ptr<Projection>> all;
  all.push_back(std::make_unique<Flaky>(make_customer_orders_projection(), faults));
  all.push_back(make_sales_projection());
  all.push_back(make_shipment_projection());
  return all;
}

/// Four orders of three to five events each.
void some_orders(Shop& shop) {
  for (std::uint64_t id = 1; id <= 4; ++id) {
    shop.orders.execute(id, PlaceOrder{id % 2 == 0 ? "alice" : "bob"});
    shop.orders.execute(id, AddItem{"widget", static_cast<std::uint32_t>(id), 100});
    if (id != 3) shop.orders.execute(id, Pay{static_cast<std::int64_t>(id) * 100});
    if (id == 2) shop.orders.execute(id, Ship{"post"});
    if (id == 4) shop.orders.execute(id, Cancel{"gone"});
  }
}

/// The read models of a clean run over everything in `store`.
std::string clean_dump(const EventStore& store) {
  TempDatabase file;
  ReadModels clean({.path = file.path()});
  clean.apply(store.read_all(1, 100'000));
  return clean.dump();
}

}  // namespace

TEST_CASE("a batch that fails to apply is tried again by the next step, not skipped",
          "[read-models]") {
  TempDatabase file;
  Shop shop;
  some_orders(shop);
  auto faults = std::make_shared<Faults>();
  ReadModels read({.path = file.path()}, with_flaky_summaries(faults));
  zmq::context_t context;
  Projector projector(shop.store, read, context,
                      {.batch = 4, .fallback_poll = std::chrono::milliseconds(10)});

  faults->write = true;
  CHECK_THROWS_WITH(projector.step(std::chrono::milliseconds(0)),
                    Catch::Contains("injected failure"));
  CHECK(read.position() == 0);  // rolled back, every projection
  for (int step = 0; step < 20 && read.position() < shop.store.last_position(); ++step) {
    (void)projector.step(std::chrono::milliseconds(0));
  }
  CHECK(read.position() == shop.store.last_position());
  CHECK(read.dump() == clean_dump(shop.store));
}

TEST_CASE("a reset that fails half-way changes nothing and the projection keeps working",
          "[read-models]") {
  TempDatabase file;
  Shop shop;
  some_orders(shop);
  auto faults = std::make_shared<Faults>();
  ReadModels read({.path = file.path()}, with_flaky_summaries(faults));
  const std::uint64_t first_half = shop.store.last_position() / 2;
  read.apply(shop.store.read_all(1, first_half));
  const std::string before = read.dump();

  faults->open = true;  // after the tables were dropped, creating them again fails
  CHECK_THROWS_WITH(read.reset(customer_orders_projection),
                    Catch::Contains("customer-orders") && Catch::Contains("nothing changed"));
  CHECK(read.dump() == before);
  CHECK(read.checkpoint(customer_orders_projection) == first_half);
  read.apply(shop.store.read_all(first_half + 1, 1000));  // it still has its statements
  CHECK(read.dump() == clean_dump(shop.store));
}

TEST_CASE("an event that comes after a skipped one stops the batch instead of being ignored",
          "[read-models]") {
  TempDatabase file;
  Shop shop;
  shop.orders.execute(1, PlaceOrder{"alice"});
  shop.orders.execute(1, AddItem{"widget", 1, 100});
  shop.orders.execute(1, Pay{100});
  shop.orders.execute(2, PlaceOrder{"bob"});
  ReadModels read({.path = file.path()});
  const auto history = shop.store.read_all(1, 100);
  read.apply(std::span(history).first(1));  // order 1 placed

  SECTION("an order's event after a gap in its versions") {
    // Positions 3 and 4 without 2: order 1's payment without its item.
    CHECK_THROWS_WITH(read.apply(std::span(history).subspan(2)), Catch::Contains("order 1") &&
                                                                     Catch::Contains("event 3") &&
                                                                     Catch::Contains("skipped"));
  }
  SECTION("an event of an order whose placing was never applied") {
    TempDatabase other;
    ReadModels fresh({.path = other.path()});
    CHECK_THROWS_WITH(fresh.apply(std::span(history).subspan(1, 1)),
                      Catch::Contains("order 1") && Catch::Contains("never seen it placed"));
    CHECK(fresh.position() == 0);
  }
  CHECK(read.position() == 1);  // nothing of the failed batch was kept
  read.apply(std::span(history).subspan(1));
  CHECK(read.dump() == clean_dump(shop.store));
}

namespace {

/// A store that grows at the worst moment for a rebuild: right after the rebuild has read its
/// last page, new events are appended and a live projector brings them as a batch (which
/// passes the rebuilt projections by, as they are behind it) — all before the rebuild
/// applies that page.
class GrowsAfterTheLastPage final : public ForwardingEventStore {
 public:
  GrowsAfterTheLastPage(Shop& shop, ReadModels& read)
      : ForwardingEventStore(shop.store), shop_(shop), read_(read) {}

  [[nodiscard]] std::vector<RecordedEvent> read_all(std::uint64_t from,
                                                    std::size_t max_count) const override {
    std::vector<RecordedEvent> page = ForwardingEventStore::read_all(from, max_count);
    if (page.size() < max_count && !grown_.exchange(true)) {
      const std::uint64_t next = shop_.store.last_position() + 1;
      shop_.orders.execute(9, PlaceOrder{"erin"});
      shop_.orders.execute(9, AddItem{"gizmo", 3, 100});
      shop_.orders.execute(9, Pay{300});
      live_applied_ = read_.apply(shop_.store.read_all(next, 100), next).applied;
    }
    return page;
  }

  mutable std::atomic<bool> grown_{false};            ///< The live batch came.
  mutable std::atomic<std::size_t> live_applied_{0};  ///< What it applied itself.

 private:
  Shop& shop_;
  ReadModels& read_;
};

}  // namespace

TEST_CASE("every projection rebuilt while a live batch passes them all by misses nothing",
          "[read-models]") {
  TempDatabase file;
  Shop shop;
  some_orders(shop);
  ReadModels read({.path = file.path()});
  read.apply(shop.store.read_all(1, 1000));
  const std::uint64_t before = shop.store.last_position();
  GrowsAfterTheLastPage store(shop, read);

  rebuild_all(read, store, {}, 4);
  REQUIRE(store.grown_);
  CHECK(store.live_applied_ == 0);  // every projection was behind the live batch
  CHECK(read.head() == before + 3);
  CHECK(read.position() == before + 3);  // the rebuild went on to fetch it
  CHECK(read.dump() == clean_dump(shop.store));
  CHECK(read.customer_orders("erin").size() == 1);
}

TEST_CASE("the head is the furthest position any batch brought, and starts again with nothing",
          "[read-models]") {
  TempDatabase file;
  Shop shop;
  some_orders(shop);
  {
    ReadModels read({.path = file.path()});
    CHECK(read.head() == 0);
    read.apply(shop.store.read_all(1, 5));
    CHECK(read.head() == 5);
    read.reset(sales_projection);
    CHECK(read.head() == 5);  // the others still hold what it brought
  }
  ReadModels reopened({.path = file.path()});
  CHECK(reopened.head() == 5);
  for (const std::string& name : reopened.projections()) reopened.reset(name);
  CHECK(reopened.head() == 0);
}
