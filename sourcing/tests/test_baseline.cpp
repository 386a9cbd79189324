// The CRUD baseline answers "what is the order now" exactly like the event-sourced
// aggregate, for any command sequence, and nothing more.
#include <catch2/catch.hpp>

#include "eda/sourcing/crud_orders.hpp"
#include "eda/sourcing/memory_store.hpp"
#include "eda/sourcing/order_repository.hpp"
#include "order_fixture.hpp"
#include "store_fixture.hpp"

using namespace eda::sourcing;

TEST_CASE("for random command sequences, the CRUD rows equal the event-sourced state",
          "[baseline][property]") {
  test::TempDatabase file;
  baseline::CrudOrders crud({.path = file.path(), .durability = Durability::normal});
  InMemoryEventStore store;
  OrderRepository sourced(store);
  for (std::uint64_t order = 1; order <= 40; ++order) {
    std::mt19937_64 random(order * 7919);
    for (int step = 0; step < 25; ++step) {
      const OrderCommand command = test::random_command(random, sourced.load(order).state);
      bool crud_rejected = false;
      bool sourced_rejected = false;
      try {
        (void)crud.execute(order, command);
      } catch (const CommandRejected&) {
        crud_rejected = true;
      }
      try {
        (void)sourced.execute(order, command);
      } catch (const CommandRejected&) {
        sourced_rejected = true;
      }
      REQUIRE(crud_rejected == sourced_rejected);
    }
    REQUIRE(crud.load(order) == sourced.load(order).state);
  }
}

TEST_CASE("the CRUD baseline keeps only the present", "[baseline]") {
  test::TempDatabase file;
  {
    baseline::CrudOrders crud({.path = file.path()});
    crud.execute(1, PlaceOrder{"hana"});
    crud.execute(1, AddItem{"widget", 2, 300});
    crud.execute(1, RemoveItem{"widget"});
    CHECK_THROWS_AS(crud.execute(1, Pay{0}), CommandRejected);  // rejected: nothing written
  }
  baseline::CrudOrders reopened({.path = file.path()});
  const OrderState now = reopened.load(1);
  CHECK(now.status == OrderStatus::open);
  CHECK(now.lines.empty());  // the widget was there once; nothing says so any more
  CHECK(reopened.load(2).status == OrderStatus::none);
}
