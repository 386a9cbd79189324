// The dual-write baseline, in one process: it does publish each decision after committing it,
// which is why its bug shows only when the process dies in between (test_crash.cpp).
#include <chrono>

#include <catch2/catch.hpp>

#include "eda/saga/baseline/dual_write_inventory.hpp"
#include "eda_test_support.hpp"

using namespace eda::saga;
using namespace std::chrono_literals;

TEST_CASE("the dual write commits a decision, then publishes its event", "[saga][baseline]") {
  eda::test::TempDatabase file;
  zmq::context_t context;
  eda::Publisher publisher(context, {.source = "inventory", .endpoints = {"tcp://127.0.0.1:*"}});
  eda::Subscriber inbox(context, {.endpoints = publisher.endpoints()});
  REQUIRE(eda::test::handshake(publisher, inbox));
  std::vector<std::uint64_t> seen_committed;
  baseline::DualWriteInventory inventory(file.path(), publisher,
                                         {.committed = [&](const Reservation& decided) {
                                           seen_committed.push_back(decided.order_id);
                                         }});
  inventory.stock_up("SKU-1", 2);
  CHECK(inventory.reserve(1, "SKU-1", 2).reserved);
  CHECK_FALSE(inventory.reserve(2, "SKU-1", 1).reserved);
  CHECK_FALSE(inventory.reserve(1, "SKU-1", 2).fresh);  // a retry publishes nothing
  CHECK(seen_committed == std::vector<std::uint64_t>{1, 2});

  auto first = inbox.receive(10s);
  REQUIRE(first);
  CHECK(first->event.payload_as<StockReserved>().order_id == 1);
  auto second = inbox.receive(10s);
  REQUIRE(second);
  CHECK(second->event.payload_as<StockRejected>().order_id == 2);
  CHECK_FALSE(inbox.receive(100ms).has_value());
  CHECK(inventory.ledger().reservations().size() == 2);
}
