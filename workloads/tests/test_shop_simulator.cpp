// The simulated shop: exactly the events asked for, the same history every time, over the
// whole 90 days.

#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "eda/workloads/shop_simulator.hpp"

using namespace eda::workloads;

namespace {

/// Every order of a history of `events` events.
std::vector<OrderLife> whole_history(std::uint64_t events) {
  ShopSimulator shop(events);
  std::vector<OrderLife> lives;
  while (std::optional<OrderLife> life = shop.next_order()) lives.push_back(std::move(*life));
  return lives;
}

std::uint64_t event_count(const std::vector<OrderLife>& lives) {
  std::uint64_t events = 0;
  for (const OrderLife& life : lives) events += life.events.size();
  return events;
}

}  // namespace

TEST_CASE("a simulated history holds exactly the events asked for", "[workloads][shop]") {
  for (const std::uint64_t wanted : {1ULL, 7ULL, 1000ULL, 2345ULL}) {
    CHECK(event_count(whole_history(wanted)) == wanted);
  }
}

TEST_CASE("two simulators of the same size make the same history", "[workloads][shop]") {
  const std::vector<OrderLife> first = whole_history(1500);
  const std::vector<OrderLife> second = whole_history(1500);
  REQUIRE(first.size() == second.size());
  for (std::size_t i = 0; i < first.size(); ++i) {
    CHECK(first[i].order_id == i + 1);
    REQUIRE(first[i].commands.size() == second[i].commands.size());
    REQUIRE(first[i].events.size() == second[i].events.size());
    for (std::size_t e = 0; e < first[i].events.size(); ++e) {
      CHECK(first[i].events[e].at_ns == second[i].events[e].at_ns);
      CHECK(first[i].events[e].event.index() == second[i].events[e].event.index());
    }
  }
}

TEST_CASE("a simulated history spans the 90 days whatever its size", "[workloads][shop]") {
  for (const std::uint64_t wanted : {500ULL, 5000ULL}) {
    const std::vector<OrderLife> lives = whole_history(wanted);
    REQUIRE(!lives.empty());
    const std::int64_t first_placed = lives.front().events.front().at_ns;
    const std::int64_t last_placed = lives.back().events.front().at_ns;
    CHECK(first_placed >= history_start_ns);
    CHECK(first_placed < history_start_ns + day_ns);
    CHECK(last_placed > history_end_ns - 2 * day_ns);
    CHECK(last_placed < history_end_ns);
  }
}

TEST_CASE("the customers listed are those who placed orders", "[workloads][shop]") {
  ShopSimulator shop(3000);
  std::set<std::string> placed_by;
  while (const std::optional<OrderLife> life = shop.next_order()) {
    const auto* placed = std::get_if<eda::sourcing::PlaceOrder>(&life->commands.front().command);
    REQUIRE(placed != nullptr);
    placed_by.insert(placed->customer);
  }
  const std::vector<std::string> customers = shop.customers();
  CHECK(std::set<std::string>(customers.begin(), customers.end()) == placed_by);
  CHECK(customer_name(7) == "customer-0007");
  CHECK(customer_name(12345) == "customer-12345");
  CHECK(product_sku(7) == "sku-07");
  CHECK(product_sku(19) == "sku-19");
}
