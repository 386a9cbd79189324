// Shipping's plan and labels, the bytes on the wire, and the replica lag run.

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <optional>

#include <zmq.hpp>

#include "eda/latency.hpp"
#include "eda/state_transfer/customer.hpp"
#include "eda/state_transfer/service_thread.hpp"
#include "eda/state_transfer/shipping.hpp"
#include "eda/workloads/customer_lookups.hpp"
#include "eda/workloads/replica_lag.hpp"
#include "eda/workloads/wire_bytes.hpp"

using namespace std::chrono_literals;
using namespace eda::workloads;
using namespace eda::state_transfer;

namespace {

/// A Shipping stand-in that knows customers 1..10 only.
struct TenCustomers {
  std::optional<ShippingLabel> label_for(const ShipOrder& order) const {
    if (order.customer_id < 1 || order.customer_id > 10) return std::nullopt;
    ShippingLabel label;
    label.order_id = order.order_id;
    label.customer_id = order.customer_id;
    return label;
  }
};

}  // namespace

TEST_CASE("a shipping plan ships orders 1, 2, ... to the same customers every time",
          "[workloads][shipping]") {
  ShippingPlan first(50);
  ShippingPlan second(50);
  for (std::uint64_t n = 1; n <= 1000; ++n) {
    const ShipOrder order = first.next();
    CHECK(order.order_id == n);
    CHECK(order.customer_id >= 1);
    CHECK(order.customer_id <= 50);
    CHECK(second.next().customer_id == order.customer_id);
  }
}

TEST_CASE("a label is timed whether or not there is one, and says which", "[workloads][shipping]") {
  const TenCustomers shipping;
  eda::LatencyRecorder latency;
  CHECK(make_label(shipping, {.order_id = 1, .customer_id = 3}, latency));
  CHECK_FALSE(make_label(shipping, {.order_id = 2, .customer_id = 11}, latency));
  CHECK(latency.count() == 2);
}

TEST_CASE("a following replica goes live from one snapshot", "[workloads][shipping]") {
  zmq::context_t context;
  CustomerServiceThread source(context, customer_service_options(), CustomerGenerator().table(100));
  FollowingReplica follower(context, replica_of(source, "shipping"));
  REQUIRE(follower.replica().await_sequence(0, 30s));
  CHECK(is_live(follower.replica()));
  CHECK(follower.replica().status().records == 100);
  CHECK(snapshots_served(source) == 1);
  const Shipping shipping(follower.replica());
  eda::LatencyRecorder latency;
  CHECK(make_label(shipping, {.order_id = 1, .customer_id = 100}, latency));
  CHECK_FALSE(make_label(shipping, {.order_id = 2, .customer_id = 101}, latency));
  follower.stop();
}

TEST_CASE("bytes per change: the fat event outweighs the thin one, and both are averaged",
          "[workloads][bytes]") {
  ChangeBytes sizes(100);
  CHECK(sizes.fat_bytes_per_change() == 0);
  for (int i = 0; i < 100; ++i) sizes.add_next();
  CHECK(sizes.changes() == 100);
  CHECK(sizes.thin_bytes_per_change() > 20);
  CHECK(sizes.fat_bytes_per_change() > sizes.thin_bytes_per_change() + 30);
  // Numbers past 127 take more bytes to encode: the mean grows with the number of changes.
  const double first_hundred = sizes.thin_bytes_per_change();
  for (int i = 0; i < 900; ++i) sizes.add_next();
  CHECK(sizes.thin_bytes_per_change() > first_hundred);
  CHECK(sizes.sample().size() == 100);
}

TEST_CASE("the baseline's bytes per label average its calls", "[workloads][bytes]") {
  const CustomerTable table = CustomerGenerator().table(3);
  double total = 0;
  for (const auto& [id, customer] : table) {
    CHECK(rpc_bytes(customer) > customer.name.size());
    total += static_cast<double>(rpc_bytes(customer));
  }
  CHECK(mean_rpc_bytes(table) == Approx(total / 3));
  CHECK(mean_rpc_bytes({}) == 0);
}

TEST_CASE("a replica lag run times every change the replica applies", "[workloads][lag]") {
  ReplicaLagRun run({.customers = 1000, .changes = 300, .changes_per_second = 10'000});
  run.publish();
  run.stop();
  CHECK(run.lag().count() == 300);
  CHECK(run.lag().summary().min_ns > 0);
  CHECK(run.resyncs() == 0);
  CHECK(run.changes_per_second() > 0);
  CHECK(run.changes_per_second() < 20'000);
}

TEST_CASE("planned moves change addresses of existing customers, the same every time",
          "[workloads][lag]") {
  const CustomerTable records = CustomerGenerator().table(50);
  const std::vector<Customer> first = planned_moves(records, 20);
  const std::vector<Customer> second = planned_moves(records, 20);
  REQUIRE(first.size() == 20);
  for (std::size_t i = 0; i < first.size(); ++i) {
    CHECK(records.count(first[i].id) == 1);
    CHECK(first[i].id == second[i].id);
    CHECK(first[i].city == second[i].city);
  }
}
