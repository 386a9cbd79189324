// The property that makes CQRS trustworthy: for any sequence of commands, every read model
// gives exactly the answer the single model computes from its normalized tables.

#include <random>

#include <catch2/catch.hpp>

#include "eda/cqrs/read_models.hpp"
#include "eda/cqrs/single_model.hpp"
#include "shop_fixture.hpp"

using namespace eda::cqrs;
using namespace eda::cqrs::test;
using namespace eda::sourcing;

namespace {

const char* const customers[] = {"alice", "bob", "carol", "dave"};
const char* const skus[] = {"widget", "gadget", "gizmo"};

/// A random command for `order`, mostly sensible for its state, sometimes not.
OrderCommand random_command(std::mt19937_64& random, const OrderState& state) {
  const std::string sku = skus[random() % 3];
  switch (random() % 9) {
    case 0:
      return PlaceOrder{customers[random() % 4]};
    case 1:
    case 2:
    case 3:
      return AddItem{sku, static_cast<std::uint32_t>(1 + random() % 3),
                     static_cast<std::int64_t>(random() % 2000)};
    case 4:
      return RemoveItem{sku};
    case 5:
      return Pay{random() % 5 == 0 ? 1 : state.total_cents()};
    case 6:
      return Ship{"post"};
    case 7:
      return Cancel{"changed my mind"};
    default:
      return state.status == OrderStatus::none ? OrderCommand{PlaceOrder{customers[random() % 4]}}
                                               : OrderCommand{Pay{state.total_cents()}};
  }
}

}  // namespace

TEST_CASE("for random command sequences every read model equals the single model's answer",
          "[properties]") {
  std::size_t sales_rows = 0, waiting_rows = 0;
  for (std::uint64_t seed = 1; seed <= 25; ++seed) {
    CAPTURE(seed);
    std::mt19937_64 random(seed);
    Shop shop(late_on_the_25th - one_day_ns);
    TempDatabase single_file, read_file;
    baseline::SingleModelShop single(
        {.path = single_file.path(), .durability = sqlite::Durability::normal});
    ReadModels read({.path = read_file.path()});

    int accepted = 0;
    for (int step = 0; step < 150; ++step) {
      const std::uint64_t order = 1 + random() % 12;
      if (random() % 10 == 0)
        shop.clock.set(shop.clock.peek() + 5 * 3'600'000'000'000);  // hours pass
      const OrderCommand command = random_command(random, single.load(order));
      const std::int64_t at = shop.clock.peek();  // the time the event will carry
      bool cqrs_accepted = true, single_accepted = true;
      try {
        shop.orders.execute(order, command);
      } catch (const CommandRejected&) {
        cqrs_accepted = false;
      }
      try {
        single.execute(order, command, at);
      } catch (const CommandRejected&) {
        single_accepted = false;
      }
      REQUIRE(cqrs_accepted == single_accepted);
      accepted += cqrs_accepted ? 1 : 0;
      if (step % 37 == 0) read.apply(shop.store.read_all(read.position() + 1, 1000));  // midway
    }
    read.apply(shop.store.read_all(read.position() + 1, 100'000));
    CHECK(read.position() == shop.store.last_position());
    CHECK(accepted > 20);  // the generator produces real histories, not only rejections

    for (const char* customer : customers) {
      CHECK(read.customer_orders(customer) == single.customer_orders(customer));
    }
    for (const auto& [first, last] :
         {std::pair{"2026-11-01", "2026-12-31"}, std::pair{"2026-11-25", "2026-11-25"},
          std::pair{"2026-11-26", "2026-11-27"}, std::pair{"2027-01-01", "2027-12-31"}}) {
      CHECK(read.sales_by_day(first, last) == single.sales_by_day(first, last));
    }
    for (std::size_t limit : {std::size_t{0}, std::size_t{1}, std::size_t{3}, std::size_t{100}}) {
      CHECK(read.awaiting_shipment(limit) == single.awaiting_shipment(limit));
    }
    sales_rows += read.sales_by_day("2026-11-01", "2026-12-31").size();
    waiting_rows += read.awaiting_shipment(100).size();
  }
  CHECK(sales_rows > 25);  // the answers compared were not all empty
  CHECK(waiting_rows > 25);
}
