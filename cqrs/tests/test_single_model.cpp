// The single-model baseline: the order commands change normalized rows exactly as the
// event-sourced aggregate's events would, and the shop's queries, computed from those rows when
// asked, give the exact answers of a small hand-made history.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <system_error>
#include <vector>

#include <catch2/catch.hpp>

#include "eda/cqrs/single_model.hpp"
#include "eda/envelope.hpp"
#include "eda/sqlite/database.hpp"

using namespace eda::sourcing;
using namespace std::chrono_literals;
using eda::cqrs::AwaitingShipment;
using eda::cqrs::OrderSummary;
using eda::cqrs::ProductDaySales;
using eda::cqrs::baseline::SingleModelShop;
using eda::sqlite::Durability;

namespace {

/// A fresh directory in the temp directory, removed with everything in it afterwards.
class TempDirectory {
 public:
  TempDirectory()
      : path_(std::filesystem::temp_directory_path() /
              ("eda-single-model-" + eda::new_event_id())) {
    std::filesystem::create_directory(path_);
  }
  ~TempDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDirectory(const TempDirectory&) = delete;
  TempDirectory& operator=(const TempDirectory&) = delete;
  [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

/// Nanoseconds since the Unix epoch of `time_of_day` (UTC) on `day`.
std::int64_t at(std::chrono::year_month_day day, std::chrono::seconds time_of_day = 0s) {
  const auto moment = std::chrono::sys_days{day} + time_of_day;
  return std::chrono::duration_cast<std::chrono::nanoseconds>(moment.time_since_epoch()).count();
}

constexpr auto nov_24 = std::chrono::year{2026} / std::chrono::November / 24;
constexpr auto nov_25 = std::chrono::year{2026} / std::chrono::November / 25;
constexpr auto nov_26 = std::chrono::year{2026} / std::chrono::November / 26;

/// A random command, mostly sensible for `state`, sometimes not (rejections are part of it).
OrderCommand random_command(std::mt19937_64& random, const OrderState& state) {
  static const char* const skus[] = {"widget", "gadget", "gizmo"};
  const std::string sku = skus[random() % 3];
  switch (random() % 8) {
    case 0:
      return PlaceOrder{random() % 5 == 0 ? "" : "customer-" + std::to_string(random() % 3)};
    case 1:
    case 2:
      return AddItem{sku, static_cast<std::uint32_t>(random() % 3),
                     static_cast<std::int64_t>(random() % 2000)};
    case 3:
      return RemoveItem{sku};
    case 4:
      return Pay{random() % 4 == 0 ? 1 : state.total_cents()};
    case 5:
      return Ship{"parcel-co"};
    case 6:
      return Cancel{"changed my mind"};
    default:
      return AddItem{sku, 1, 100};
  }
}

}  // namespace

TEST_CASE("every command leaves the rows in the state its events replay to", "[single-model]") {
  TempDirectory dir;
  SingleModelShop shop({.path = dir.file("shop.db"), .durability = Durability::normal});
  std::map<std::uint64_t, std::vector<OrderEvent>> history;  // the events, kept aside
  const auto run = [&](std::uint64_t order, const OrderCommand& command) {
    for (const OrderEvent& event : decide(command, replay(history[order]))) {
      history[order].push_back(event);
    }
    const OrderState returned = shop.execute(order, command, at(nov_25, 12h));
    const OrderState expected = replay(history[order]);
    CHECK(returned == expected);
    CHECK(shop.load(order) == expected);
    return expected;
  };

  CHECK(run(1, PlaceOrder{"alice"}).status == OrderStatus::open);
  run(1, AddItem{"widget", 2, 1250});
  run(1, AddItem{"gadget", 1, 990});
  const OrderState repriced = run(1, AddItem{"widget", 1, 1300});
  CHECK(repriced.lines.at("widget") == OrderLine{3, 1300});  // quantities add, newest price
  const OrderState removed = run(1, RemoveItem{"gadget"});
  CHECK(removed.lines.count("gadget") == 0);
  CHECK(run(1, Pay{3900}).paid_cents == 3900);
  const OrderState shipped = run(1, Ship{"parcel-co"});
  CHECK(shipped.status == OrderStatus::shipped);
  CHECK(shipped.carrier == "parcel-co");

  run(2, PlaceOrder{"bob"});
  run(2, AddItem{"gizmo", 1, 500});
  CHECK(run(2, Cancel{"changed my mind"}).status == OrderStatus::cancelled);  // while open

  run(3, PlaceOrder{"carol"});
  run(3, AddItem{"gizmo", 2, 500});
  run(3, Pay{1000});
  const OrderState refunded = run(3, Cancel{"out of stock"});  // after payment
  CHECK(refunded.status == OrderStatus::cancelled);
  CHECK(refunded.paid_cents == 1000);

  CHECK(shop.load(4) == OrderState{});  // never placed
}

TEST_CASE("a rejected command writes nothing", "[single-model]") {
  TempDirectory dir;
  SingleModelShop shop({.path = dir.file("shop.db"), .durability = Durability::normal});
  shop.execute(1, PlaceOrder{"alice"}, at(nov_25));
  shop.execute(1, AddItem{"widget", 2, 1250}, at(nov_25));
  shop.execute(2, PlaceOrder{"alice"}, at(nov_25));
  shop.execute(2, AddItem{"gizmo", 1, 500}, at(nov_25));
  shop.execute(2, Pay{500}, at(nov_25, 1h));

  const OrderState open_before = shop.load(1);
  const OrderState paid_before = shop.load(2);
  const auto orders_before = shop.customer_orders("alice");
  const auto sales_before = shop.sales_by_day("2026-11-01", "2026-11-30");
  const auto awaiting_before = shop.awaiting_shipment(10);

  CHECK_THROWS_AS(shop.execute(1, PlaceOrder{"bob"}, at(nov_26)), CommandRejected);
  CHECK_THROWS_AS(shop.execute(1, AddItem{"widget", 0, 1250}, at(nov_26)), CommandRejected);
  CHECK_THROWS_AS(shop.execute(1, AddItem{"widget", 1, -1}, at(nov_26)), CommandRejected);
  CHECK_THROWS_AS(shop.execute(1, RemoveItem{"gadget"}, at(nov_26)), CommandRejected);
  CHECK_THROWS_AS(shop.execute(1, Pay{2499}, at(nov_26)), CommandRejected);
  CHECK_THROWS_AS(shop.execute(1, Ship{"post"}, at(nov_26)), CommandRejected);
  CHECK_THROWS_AS(shop.execute(2, AddItem{"widget", 1, 1250}, at(nov_26)), CommandRejected);
  CHECK_THROWS_AS(shop.execute(2, Pay{500}, at(nov_26)), CommandRejected);  // paid twice
  CHECK_THROWS_AS(shop.execute(3, AddItem{"widget", 1, 1250}, at(nov_26)), CommandRejected);
  CHECK_THROWS_AS(shop.execute(3, PlaceOrder{""}, at(nov_26)), CommandRejected);

  CHECK(shop.load(1) == open_before);
  CHECK(shop.load(2) == paid_before);
  CHECK(shop.load(3) == OrderState{});
  CHECK(shop.customer_orders("alice") == orders_before);
  CHECK(shop.customer_orders("bob").empty());
  CHECK(shop.sales_by_day("2026-11-01", "2026-11-30") == sales_before);
  CHECK(shop.awaiting_shipment(10) == awaiting_before);  // still paid at 01:00 on the 25th
}

TEST_CASE("for random command sequences, the rows equal the replayed events and rejections agree",
          "[single-model][property]") {
  TempDirectory dir;
  SingleModelShop shop({.path = dir.file("shop.db"), .durability = Durability::normal});
  for (std::uint64_t order = 1; order <= 30; ++order) {
    std::mt19937_64 random(order * 7919);
    std::vector<OrderEvent> history;
    for (int step = 0; step < 25; ++step) {
      const OrderCommand command = random_command(random, replay(history));
      bool rule_rejected = false;
      try {
        for (const OrderEvent& event : decide(command, replay(history))) history.push_back(event);
      } catch (const CommandRejected&) {
        rule_rejected = true;
      }
      bool shop_rejected = false;
      try {
        (void)shop.execute(order, command, at(nov_25, std::chrono::seconds(step)));
      } catch (const CommandRejected&) {
        shop_rejected = true;
      }
      REQUIRE(shop_rejected == rule_rejected);
    }
    REQUIRE(shop.load(order) == replay(history));
  }
}

TEST_CASE("customer_orders sums each order's lines at query time", "[single-model]") {
  TempDirectory dir;
  SingleModelShop shop({.path = dir.file("shop.db"), .durability = Durability::normal});
  const std::int64_t t = at(nov_25, 9h);
  shop.execute(10, PlaceOrder{"alice"}, t);  // placed first, listed last: by order id
  shop.execute(10, AddItem{"gizmo", 1, 700}, t);
  shop.execute(10, Pay{700}, t);

  shop.execute(1, PlaceOrder{"alice"}, t);
  shop.execute(1, AddItem{"widget", 2, 1250}, t);
  shop.execute(1, AddItem{"gadget", 1, 990}, t);
  shop.execute(1, Pay{3490}, t);
  shop.execute(1, Ship{"parcel-co"}, t);

  shop.execute(2, PlaceOrder{"bob"}, t);
  shop.execute(2, AddItem{"widget", 1, 1250}, t);

  shop.execute(3, PlaceOrder{"alice"}, t);  // no lines yet

  shop.execute(4, PlaceOrder{"alice"}, t);
  shop.execute(4, AddItem{"gizmo", 3, 500}, t);
  shop.execute(4, Cancel{"changed my mind"}, t);  // keeps its lines

  shop.execute(5, PlaceOrder{"alice"}, t);
  shop.execute(5, AddItem{"widget", 1, 1000}, t);
  shop.execute(5, AddItem{"gadget", 4, 990}, t);
  shop.execute(5, AddItem{"widget", 2, 1100}, t);  // 3 widgets, at the newest price
  shop.execute(5, RemoveItem{"gadget"}, t);

  CHECK(shop.customer_orders("alice") == std::vector<OrderSummary>{
                                             {1, "alice", "shipped", 3, 3490},
                                             {3, "alice", "open", 0, 0},
                                             {4, "alice", "cancelled", 3, 1500},
                                             {5, "alice", "open", 3, 3300},
                                             {10, "alice", "paid", 1, 700},
                                         });
  CHECK(shop.customer_orders("bob") == std::vector<OrderSummary>{{2, "bob", "open", 1, 1250}});
  CHECK(shop.customer_orders("nobody").empty());
}

TEST_CASE("sales_by_day counts paid and shipped orders on the UTC day of payment",
          "[single-model]") {
  TempDirectory dir;
  SingleModelShop shop({.path = dir.file("shop.db"), .durability = Durability::normal});
  const std::int64_t last_second_of_25th = at(nov_25, 23h + 59min + 59s);
  const std::int64_t first_second_of_26th = at(nov_26, 1s);

  shop.execute(1, PlaceOrder{"alice"}, at(nov_25));  // paid on the 25th, shipped on the 26th
  shop.execute(1, AddItem{"widget", 2, 1250}, at(nov_25));
  shop.execute(1, AddItem{"gadget", 1, 990}, at(nov_25));
  shop.execute(1, Pay{3490}, last_second_of_25th);
  shop.execute(1, Ship{"parcel-co"}, at(nov_26, 10h));

  shop.execute(2, PlaceOrder{"bob"}, at(nov_25));  // placed on the 25th, paid on the 26th
  shop.execute(2, AddItem{"widget", 1, 1300}, at(nov_25));
  shop.execute(2, Pay{1300}, first_second_of_26th);

  shop.execute(3, PlaceOrder{"carol"}, at(nov_25));  // paid, then cancelled: no sale
  shop.execute(3, AddItem{"widget", 5, 1000}, at(nov_25));
  shop.execute(3, Pay{5000}, at(nov_25, 8h));
  shop.execute(3, Cancel{"out of stock"}, at(nov_25, 9h));

  shop.execute(4, PlaceOrder{"dave"}, at(nov_25));  // never paid: no sale
  shop.execute(4, AddItem{"widget", 1, 1250}, at(nov_25));

  shop.execute(5, PlaceOrder{"erin"}, at(nov_24));
  shop.execute(5, AddItem{"gizmo", 2, 500}, at(nov_24));
  shop.execute(5, Pay{1000}, at(nov_24, 12h));

  shop.execute(6, PlaceOrder{"frank"}, at(nov_26));
  shop.execute(6, AddItem{"widget", 1, 1200}, at(nov_26));
  shop.execute(6, AddItem{"widget", 1, 1250}, at(nov_26));  // both at the newest price
  shop.execute(6, AddItem{"gadget", 1, 990}, at(nov_26));
  shop.execute(6, RemoveItem{"gadget"}, at(nov_26));
  shop.execute(6, Pay{2500}, at(nov_26, 1h));

  CHECK(shop.sales_by_day("2026-11-24", "2026-11-26") == std::vector<ProductDaySales>{
                                                             {"2026-11-24", "gizmo", 2, 1000},
                                                             {"2026-11-25", "gadget", 1, 990},
                                                             {"2026-11-25", "widget", 2, 2500},
                                                             {"2026-11-26", "widget", 3, 3800},
                                                         });
  CHECK(shop.sales_by_day("2026-11-25", "2026-11-25") == std::vector<ProductDaySales>{
                                                             {"2026-11-25", "gadget", 1, 990},
                                                             {"2026-11-25", "widget", 2, 2500},
                                                         });
  CHECK(shop.sales_by_day("2026-11-26", "2026-12-31") ==
        std::vector<ProductDaySales>{{"2026-11-26", "widget", 3, 3800}});
  CHECK(shop.sales_by_day("2026-11-27", "2026-12-31").empty());
  CHECK(shop.sales_by_day("2026-11-26", "2026-11-24").empty());      // an empty range
  CHECK(shop.sales_by_day("0001-01-01", "9999-12-31").size() == 4);  // far days are fine
}

TEST_CASE("a sale half a second before 1970 is on 1969-12-31 in both models", "[single-model]") {
  TempDirectory dir;
  SingleModelShop shop({.path = dir.file("shop.db"), .durability = Durability::normal});
  const std::int64_t half_a_second_before_1970 = -500'000'000;
  shop.execute(1, PlaceOrder{"alice"}, half_a_second_before_1970 - 2);
  shop.execute(1, AddItem{"widget", 1, 100}, half_a_second_before_1970 - 1);
  shop.execute(1, Pay{100}, half_a_second_before_1970);
  const std::vector<ProductDaySales> expected{{"1969-12-31", "widget", 1, 100}};
  CHECK(shop.sales_by_day("1969-12-31", "1969-12-31") == expected);
  CHECK(eda::cqrs::utc_day(half_a_second_before_1970) == "1969-12-31");  // the read model's day
  CHECK(eda::cqrs::utc_day(0) == "1970-01-01");
}

TEST_CASE("awaiting_shipment lists paid orders, oldest payment first", "[single-model]") {
  TempDirectory dir;
  SingleModelShop shop({.path = dir.file("shop.db"), .durability = Durability::normal});
  const auto paid = [&](std::uint64_t order, const std::string& customer, std::int64_t cents,
                        std::int64_t paid_at_ns) {
    shop.execute(order, PlaceOrder{customer}, at(nov_24));
    shop.execute(order, AddItem{"widget", 1, cents}, at(nov_24));
    shop.execute(order, Pay{cents}, paid_at_ns);
  };
  paid(3, "carol", 3000, at(nov_25, 3h));  // the same time as order 1: order 1 comes first
  paid(1, "alice", 1000, at(nov_25, 3h));
  paid(2, "bob", 2000, at(nov_25, 1h));
  paid(4, "dave", 4000, at(nov_25, 0h));
  shop.execute(4, Ship{"post"}, at(nov_25, 5h));  // shipped: no longer waiting
  paid(5, "erin", 5000, at(nov_25, 2h));
  shop.execute(5, Cancel{"changed my mind"}, at(nov_25, 6h));  // cancelled after payment
  shop.execute(6, PlaceOrder{"frank"}, at(nov_25));            // open: not paid yet
  shop.execute(6, AddItem{"widget", 1, 600}, at(nov_25));

  const std::vector<AwaitingShipment> all{
      {2, "bob", 2000, at(nov_25, 1h)},
      {1, "alice", 1000, at(nov_25, 3h)},
      {3, "carol", 3000, at(nov_25, 3h)},
  };
  CHECK(shop.awaiting_shipment(100) == all);
  CHECK(shop.awaiting_shipment(3) == all);
  CHECK(shop.awaiting_shipment(2) == std::vector<AwaitingShipment>{all[0], all[1]});
  CHECK(shop.awaiting_shipment(0).empty());
  CHECK(shop.awaiting_shipment(std::numeric_limits<std::size_t>::max()) == all);
}

TEST_CASE("the single model survives reopening its file", "[single-model]") {
  TempDirectory dir;
  const std::string path = dir.file("shop.db");
  {
    SingleModelShop shop({.path = path});
    shop.execute(1, PlaceOrder{"alice"}, at(nov_25));
    shop.execute(1, AddItem{"widget", 2, 1250}, at(nov_25));
    shop.execute(1, Pay{2500}, at(nov_25, 10h));
    shop.execute(2, PlaceOrder{"alice"}, at(nov_25));
  }
  SingleModelShop reopened({.path = path});
  CHECK(reopened.load(1) ==
        replay({OrderPlaced{"alice"}, ItemAdded{"widget", 2, 1250}, OrderPaid{2500}}));
  CHECK(reopened.customer_orders("alice") == std::vector<OrderSummary>{
                                                 {1, "alice", "paid", 2, 2500},
                                                 {2, "alice", "open", 0, 0},
                                             });
  CHECK(reopened.sales_by_day("2026-11-25", "2026-11-25") ==
        std::vector<ProductDaySales>{{"2026-11-25", "widget", 2, 2500}});
  CHECK(reopened.awaiting_shipment(10) ==
        std::vector<AwaitingShipment>{{1, "alice", 2500, at(nov_25, 10h)}});
  reopened.execute(1, Ship{"post"}, at(nov_26));  // and it goes on from there
  CHECK(reopened.awaiting_shipment(10).empty());
}

TEST_CASE("a file that is not a single-model database is refused with its name", "[single-model]") {
  TempDirectory dir;
  SECTION("not SQLite at all") {
    const std::string path = dir.file("junk.db");
    {
      std::ofstream junk(path);
      junk << "this is not a database, just some text that is long enough to have a header";
    }
    CHECK_THROWS_AS(SingleModelShop({.path = path}), std::runtime_error);
    CHECK_THROWS_WITH(SingleModelShop({.path = path}), Catch::Contains(path));
  }
  SECTION("SQLite, with another kind of orders table") {
    const std::string path = dir.file("other.db");
    {
      eda::sqlite::Database other(path, Durability::normal, "other database");
      other.exec("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT, version INTEGER)");
    }
    CHECK_THROWS_AS(SingleModelShop({.path = path}), std::runtime_error);
    CHECK_THROWS_WITH(SingleModelShop({.path = path}),
                      Catch::Contains(path) && Catch::Contains("not a single-model shop database"));
  }
}

TEST_CASE("sales_by_day refuses days that are not YYYY-MM-DD", "[single-model]") {
  TempDirectory dir;
  SingleModelShop shop({.path = dir.file("shop.db"), .durability = Durability::normal});
  for (const std::string bad :
       {"", "yesterday", "2026-11-5", "2026/11/25", "25-11-2026", "2026-11-25T00:00:00Z",
        " 2026-11-25", "2026-13-01", "2026-11-00", "2026-02-29", "+026-11-25"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(shop.sales_by_day(bad, "2026-11-30"), std::invalid_argument);
    CHECK_THROWS_AS(shop.sales_by_day("2026-11-01", bad), std::invalid_argument);
    CHECK_THROWS_WITH(shop.sales_by_day(bad, "2026-11-30"), Catch::Contains("'" + bad + "'"));
  }
  CHECK(shop.sales_by_day("2028-02-29", "2028-02-29").empty());  // a leap day is a day
}
