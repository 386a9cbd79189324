// The runtime's storage: the stand-in gateway (idempotency keys; its double-charge and order
// checks find what they are meant to find), the per-partition log (offsets without gaps,
// reading from a position, its partition count kept), and the keyed producer (every event of
// an order on one partition, in order).
#include <set>
#include <stdexcept>
#include <string>

#include <catch2/catch.hpp>

#include "scaling_test_support.hpp"

using namespace eda::scaling;
using scaling_test::Shop;

namespace {

ChargeRequest charge(const std::string& key, const std::string& order, std::uint32_t step) {
  return ChargeRequest{key, order, step, "charge", 1250, "billing-1"};
}

}  // namespace

TEST_CASE("gateway: a charge with a key already charged is answered already charged, not recorded",
          "[scaling][gateway]") {
  Shop shop;
  auto gateway = shop.gateway();
  CHECK(gateway.charge(charge("event-1", "order-1", 1)));
  CHECK_FALSE(gateway.charge(charge("event-1", "order-1", 1)));
  CHECK(gateway.charge(charge("event-2", "order-1", 2)));
  CHECK(gateway.charges() == 2);
  CHECK(gateway.double_charges() == 0);
  CHECK(gateway.order_violations() == 0);
  CHECK(gateway.orders() == 1);
}

TEST_CASE(
    "gateway: charges without a key are each recorded, and the double-charge check finds them",
    "[scaling][gateway]") {
  Shop shop;
  auto gateway = shop.gateway();
  CHECK(gateway.charge(charge("", "order-1", 1)));
  CHECK(gateway.charge(charge("", "order-1", 1)));
  CHECK(gateway.charge(charge("", "order-1", 1)));
  CHECK(gateway.charges() == 3);
  CHECK(gateway.double_charges() == 2);
}

TEST_CASE("gateway: a step charged after a later step of its order is an order violation",
          "[scaling][gateway]") {
  Shop shop;
  auto gateway = shop.gateway();
  REQUIRE(gateway.charge(charge("a1", "order-a", 1)));
  REQUIRE(gateway.charge(charge("b2", "order-b", 2)));  // another order: does not count
  REQUIRE(gateway.charge(charge("a3", "order-a", 3)));
  REQUIRE(gateway.charge(charge("a2", "order-a", 2)));  // late
  REQUIRE(gateway.charge(charge("b1", "order-b", 1)));  // late
  CHECK(gateway.order_violations() == 2);
  CHECK(gateway.double_charges() == 0);
}

TEST_CASE("gateway: a negative amount is declined every time and recorded never",
          "[scaling][gateway]") {
  Shop shop;
  auto gateway = shop.gateway();
  ChargeRequest bad = charge("event-9", "order-9", 2);
  bad.amount_cents = -5;
  for (int attempt = 0; attempt < 3; ++attempt)
    CHECK_THROWS_AS(gateway.charge(bad), ChargeDeclined);
  CHECK(gateway.charges() == 0);
}

TEST_CASE("billing: the handler charges the three events by kind and refuses other bytes",
          "[scaling][gateway]") {
  Shop shop(4);
  shop.produce(1, 1, 3);  // placed, amended, cancelled
  PartitionLog log(shop.log_file.path(), 4);
  const Partitioner partitioner(4);
  const auto events = log.read(partitioner.partition_of("order-1"), 0, 10);
  REQUIRE(events.size() == 3);
  auto gateway = shop.gateway();
  for (const auto& event : events)
    CHECK(bill(gateway, event.envelope, "billing-1") == BillingOutcome::charged);
  for (const auto& event : events) {
    CHECK(bill(gateway, event.envelope, "billing-1") == BillingOutcome::already_charged);
  }
  CHECK(gateway.charges() == 3);
  CHECK_THROWS_AS(bill(gateway, "not an envelope", "billing-1"), eda::MalformedMessage);
}

TEST_CASE("partition log: offsets per partition start at 0 without gaps, and reads start anywhere",
          "[scaling][log]") {
  eda::test::TempDatabase file;
  PartitionLog log(file.path(), 3);
  const auto offsets = log.append({{0, "a", "x0"}, {1, "b", "y0"}, {0, "a", "x1"}, {0, "c", "x2"}});
  CHECK(offsets == std::vector<std::uint64_t>{0, 0, 1, 2});
  CHECK(log.end_offsets() == std::vector<std::uint64_t>{3, 1, 0});
  CHECK(log.end_offset(2) == 0);
  const auto from_one = log.read(0, 1, 10);
  REQUIRE(from_one.size() == 2);
  CHECK(from_one[0].offset == 1);
  CHECK(from_one[0].envelope == "x1");
  CHECK(from_one[1].key == "c");
  CHECK(log.read(0, 0, 1).size() == 1);
  CHECK(log.read(1, 5, 10).empty());
  CHECK_THROWS_AS(log.read(3, 0, 1), std::invalid_argument);
  CHECK_THROWS_AS(log.append({{7, "k", "e"}}), std::invalid_argument);
  CHECK(log.end_offset(0) == 3);  // the refused append wrote nothing
}

TEST_CASE("partition log: reopened, it keeps its events, and refuses another partition count",
          "[scaling][log]") {
  eda::test::TempDatabase file;
  {
    PartitionLog log(file.path(), 8);
    (void)log.append({{5, "k", "e"}});
  }
  PartitionLog again(file.path(), 8);
  CHECK(again.end_offset(5) == 1);
  CHECK_THROWS_AS(PartitionLog(file.path(), 16), eda::StorageError);
  CHECK_THROWS_AS(PartitionLog(file.path(), 0), std::invalid_argument);
}

TEST_CASE("keyed producer: every event of an order lands on its key's partition, in order",
          "[scaling][log]") {
  Shop shop(16);
  const std::uint64_t events = shop.produce(1, 200, 4);
  CHECK(events == 800);
  PartitionLog log(shop.log_file.path(), 16);
  std::uint64_t total = 0;
  std::set<PartitionId> used;
  for (PartitionId p = 0; p < 16; ++p) {
    std::map<std::string, std::uint32_t> last_step;
    for (const auto& logged : log.read(p, 0, 10'000)) {
      const auto decoded = eda::DecodedEvent::decode(logged.envelope);
      const OrderStep step = order_step_of(decoded);
      CHECK(step.order_id == logged.key);
      CHECK(log.partition_count() == 16);
      CHECK(Partitioner(16).partition_of(step.order_id) == p);
      CHECK(step.step == last_step[step.order_id] + 1);
      last_step[step.order_id] = step.step;
      used.insert(p);
      ++total;
    }
  }
  CHECK(total == 800);
  CHECK(used.size() == 16);  // 200 orders spread over every partition
}

TEST_CASE("gateway: charges are counted per member name", "[scaling][gateway]") {
  Shop shop;
  auto gateway = shop.gateway();
  ChargeRequest request = charge("e1", "order-1", 1);
  request.charged_by = "child-3";
  REQUIRE(gateway.charge(request));
  request = charge("e2", "order-1", 2);
  request.charged_by = "children-4";
  REQUIRE(gateway.charge(request));
  CHECK(gateway.charges_by("child") == 1);
  CHECK(gateway.charges_by("children") == 1);
  CHECK(gateway.charges_by("billing") == 0);
}

TEST_CASE(
    "keyed producer: a cause continues its correlation, and the observer sees each event "
    "appended once, in order, only after the flush",
    "[scaling][log]") {
  Shop shop(4);
  PartitionLog log(shop.log_file.path(), 4);
  KeyedProducer producer(log, "order-service");
  std::vector<LogAppend> seen;
  producer.on_appended([&seen](const LogAppend& appended) { seen.push_back(appended); });
  producer.add("order-1", OrderPlaced{"order-1", 1, 1000});
  const eda::EventMetadata placed = producer.last_added();
  producer.add("order-1", OrderAmended{"order-1", 2, 1200}, eda::Cause::of(placed));
  const eda::EventMetadata amended = producer.last_added();
  producer.add("order-2", OrderPlaced{"order-2", 1, 900});
  CHECK(seen.empty());  // queued, not appended yet
  REQUIRE(producer.flush() == 3);
  REQUIRE(seen.size() == 3);

  CHECK(placed.correlation_id == placed.event_id);
  CHECK(placed.causation_id.empty());
  CHECK(amended.correlation_id == placed.event_id);
  CHECK(amended.causation_id == placed.event_id);
  const auto second = eda::DecodedEvent::decode(seen[1].envelope);
  CHECK(second.meta().event_id == amended.event_id);
  CHECK(second.meta().causation_id == placed.event_id);
  const auto third = eda::DecodedEvent::decode(seen[2].envelope);
  CHECK(third.meta().correlation_id == third.meta().event_id);  // a new order, a new chain
  CHECK(third.meta().sequence == 3);
  for (const LogAppend& appended : seen) {
    CHECK(appended.partition == Partitioner(4).partition_of(appended.key));
  }
  CHECK(producer.flush() == 0);
  CHECK(seen.size() == 3);  // an empty flush announces nothing
  CHECK(log.read(Partitioner(4).partition_of("order-1"), 0, 10).at(1).envelope == seen[1].envelope);
}
