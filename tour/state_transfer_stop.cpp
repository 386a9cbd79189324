// The event-carried-state-transfer stop: Shipping reads customer addresses from its own
// replica, kept current by fat events; the baseline asks the Customer service every time. The
// workloads are bench-state-transfer's (eda::shop_workloads), at a smaller size.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>

#include "demo_programs.hpp"
#include "eda/endpoint.hpp"
#include "eda/latency.hpp"
#include "eda/rpc.hpp"
#include "eda/state_transfer/baseline.hpp"
#include "eda/state_transfer/customer.hpp"
#include "eda/state_transfer/customer_service.hpp"
#include "eda/state_transfer/replica.hpp"
#include "eda/state_transfer/service_thread.hpp"
#include "eda/state_transfer/shipping.hpp"
#include "eda/workloads/customer_lookups.hpp"
#include "eda/workloads/replica_lag.hpp"
#include "eda/workloads/wire_bytes.hpp"
#include "measure.hpp"
#include "progress.hpp"
#include "stop.hpp"

namespace eda::tour {

namespace {

using namespace std::chrono_literals;
using namespace eda::state_transfer;
using namespace eda::workloads;

/// How big the measurements are (bench-state-transfer: 10 000 customers; its lag run
/// publishes 20 000 changes at 10 000/s).
struct Sizes {
  std::size_t customers = suite_customers;  ///< Records the Customer service owns.
  Budget replica_labels;                    ///< Labels made from the replica.
  Budget rpc_labels;                        ///< Labels made by asking the Customer service.
  std::size_t down_labels = 100;            ///< Labels tried while the Customer service is down.
  std::size_t down_tries = 3;               ///< ... by the baseline, each waiting `down_timeout`.
  std::chrono::milliseconds down_timeout{100};
  std::uint64_t changes = 5000;          ///< Changes published to measure the replica's lag ...
  std::uint64_t changes_per_s = 10'000;  ///< ... at this rate.
};

Sizes sizes_for(const TourOptions& options) {
  if (options.quick) {
    return {.customers = 1000,
            .replica_labels = {2000, 100ms},
            .rpc_labels = {200, 150ms},
            .down_labels = 20,
            .down_tries = 2,
            .down_timeout = 50ms,
            .changes = 200};
  }
  return {.replica_labels = {200'000, 300ms}, .rpc_labels = {3000, 1000ms}};
}

/// Labels made in a row: how long each took, and how many per second.
struct LabelRun {
  LatencySummary latency;  ///< Per label (eda::workloads::make_label).
  double per_second = 0;   ///< Labels per second, one after the other on one thread.
};

/// Makes labels for the orders of a shipping plan until `budget` runs out, timing each;
/// `shipping` is the pattern's Shipping or the baseline's SyncShipping.
template <class AnyShipping>
LabelRun make_labels(AnyShipping& shipping, const Budget& budget, std::size_t customers) {
  ShippingPlan plan(customers);  // the same customers for both designs
  LatencyRecorder latency;
  const LoopResult loop = run_bounded(budget, [&](std::size_t) {
    const ShipOrder order = plan.next();
    if (!make_label(shipping, order, latency))
      throw std::runtime_error("no record of customer " + std::to_string(order.customer_id));
  });
  return {latency.summary(), loop.per_second()};
}

/// What one design did: labels while the Customer service was up, then while it was down.
struct ShippingResult {
  LabelRun labels;                      ///< With the Customer service up.
  double owner_requests_per_label = 0;  ///< Requests the Customer service served per label.
  std::size_t down_made = 0;            ///< Labels made while it was down ...
  std::size_t down_tried = 0;           ///< ... of these.
  double down_wait_ns = 0;              ///< Baseline: how long a failed label waited.
  double down_staleness_ns = 0;         ///< Pattern: the oldest answer given while it was down.
};

ShippingResult pattern_shipping(const Sizes& sizes) {
  zmq::context_t context;
  CustomerServiceThread source(context, customer_service_options(),
                               CustomerGenerator().table(sizes.customers));
  FollowingReplica follower(context, replica_of(source, "shipping"));
  const Replica& replica = follower.replica();
  // await_sequence(0) holds once the first snapshot is in.
  if (!replica.await_sequence(0, 30s) || replica.status().records != sizes.customers) {
    throw std::runtime_error("the replica did not synchronise within 30 s");
  }
  const std::uint64_t served_before = snapshots_served(source);
  const Shipping shipping(replica);
  ShippingResult result;
  result.labels = make_labels(shipping, sizes.replica_labels, sizes.customers);
  result.owner_requests_per_label = static_cast<double>(snapshots_served(source) - served_before) /
                                    static_cast<double>(result.labels.latency.count);

  (void)source.stop();  // the Customer service goes down
  result.down_tried = sizes.down_labels;
  for (std::size_t i = 0; i < sizes.down_labels; ++i) {
    const auto label =
        shipping.label_for({.order_id = i + 1, .customer_id = i % sizes.customers + 1});
    if (!label) continue;
    ++result.down_made;
    result.down_staleness_ns =
        std::max(result.down_staleness_ns, static_cast<double>(label->staleness.count()));
  }
  return result;
}

ShippingResult baseline_shipping(const Sizes& sizes) {
  zmq::context_t context;
  baseline::CustomerService owner(
      context, {.endpoints = {ephemeral_endpoint(Transport::tcp, "customer-rpc")}},
      CustomerGenerator().table(sizes.customers));
  std::jthread serving([&owner](const std::stop_token& stop) {
    owner.serve_while([&] { return !stop.stop_requested(); }, 5ms);
  });
  baseline::SyncShipping shipping(context, {.endpoint = owner.endpoints().front(), .timeout = 5s});
  ShippingResult result;
  result.labels = make_labels(shipping, sizes.rpc_labels, sizes.customers);

  serving.request_stop();  // the Customer service goes down (bound, but no longer answering)
  serving.join();          // from here on its counters are this thread's to read
  result.owner_requests_per_label = static_cast<double>(owner.lookups_served()) /
                                    static_cast<double>(result.labels.latency.count);
  baseline::SyncShipping impatient(
      context,
      {.endpoint = owner.endpoints().front(), .timeout = sizes.down_timeout, .attempts = 1});
  result.down_tried = sizes.down_tries;
  for (std::size_t i = 0; i < sizes.down_tries; ++i) {
    const std::int64_t start = monotonic_ns();
    try {
      if (impatient.label_for({.order_id = i + 1, .customer_id = i + 1})) ++result.down_made;
    } catch (const RpcTimeout&) {
      result.down_wait_ns = static_cast<double>(monotonic_ns() - start);
    }
  }
  return result;
}

/// The replica lag (eda::workloads::ReplicaLagRun) while the Customer service publishes
/// `sizes.changes` changes at `sizes.changes_per_s`.
LatencySummary replica_lag(const Sizes& sizes) {
  ReplicaLagRun run({.customers = sizes.customers,
                     .changes = sizes.changes,
                     .changes_per_second = sizes.changes_per_s});
  run.publish();
  run.stop();
  return run.lag().summary();
}

/// Bytes on the wire per change, per replica (eda::workloads::ChangeBytes), over as many
/// changes as the lag run publishes.
double bytes_per_change(const Sizes& sizes) {
  ChangeBytes sizes_of(1000);
  for (std::uint64_t i = 0; i < sizes.changes; ++i) sizes_of.add_next();
  return sizes_of.fat_bytes_per_change();
}

std::string p50_p99(const LatencySummary& summary) {
  return format_ns(static_cast<double>(summary.p50_ns)) + " / " +
         format_ns(static_cast<double>(summary.p99_ns));
}

Findings measure(const TourOptions& options, Progress& progress) {
  const Sizes sizes = sizes_for(options);
  const std::string customers = format_count(static_cast<double>(sizes.customers));
  const ShippingResult pattern =
      progress.stage("measuring the pattern: labels from the local replica of " + customers +
                         " customers, then the owner down",
                     [&] { return pattern_shipping(sizes); });
  const ShippingResult sync = progress.stage(
      "measuring the baseline: labels by asking the Customer service, then the owner down",
      [&] { return baseline_shipping(sizes); });
  const LatencySummary lag = progress.stage(
      "measuring the replica's lag: " + format_count(static_cast<double>(sizes.changes)) +
          " changes at " + format_rate(static_cast<double>(sizes.changes_per_s)),
      [&] { return replica_lag(sizes); });
  const double fat_bytes = bytes_per_change(sizes);

  const double pattern_p50 = static_cast<double>(pattern.labels.latency.p50_ns);
  const double sync_p50 = static_cast<double>(sync.labels.latency.p50_ns);
  const std::string down_pattern = format_share(pattern.down_made, pattern.down_tried);
  const std::string down_sync = format_share(sync.down_made, sync.down_tried);
  Findings findings;
  findings.rows = {
      {"label p50 / p99", p50_p99(pattern.labels.latency), p50_p99(sync.labels.latency),
       compare_times(pattern_p50, sync_p50) + " (p50)"},
      {"labels/s, one thread", format_rate(pattern.labels.per_second),
       format_rate(sync.labels.per_second),
       compare_rates(pattern.labels.per_second, sync.labels.per_second)},
      {"requests the Customer service serves per label",
       format_count(pattern.owner_requests_per_label), format_count(sync.owner_requests_per_label),
       "its load no longer grows with Shipping's"},
      {"Customer service down: labels made",
       down_pattern + ", the oldest answer " + format_ns(pattern.down_staleness_ns) + " old",
       down_sync + ", each failed after " + format_ns(sync.down_wait_ns),
       "Shipping keeps shipping"},
      {"change published -> in the replica, p50 / p99", p50_p99(lag), "- (asks every time)",
       "how stale an answer can be"},
      {"bytes on the wire per change, per replica", format_bytes(fat_bytes), "0",
       "every change travels whole"},
  };
  findings.notes = {
      "Labels for orders to pseudo-random customers out of " + customers +
          ", the same ones in both designs: " +
          format_count(static_cast<double>(pattern.labels.latency.count)) + " from the replica, " +
          format_count(static_cast<double>(sync.labels.latency.count)) +
          " over RPC (tcp loopback).",
      "While the Customer service is down the replica answers from what it has, and each answer "
      "says how "
      "old it may be; the baseline waits for its timeout, then cannot ship.",
      "bench-state-transfer measures these labels, the lag and the bytes with the same code at "
      "its own sizes: labels to 10 000 customers (here " +
          customers + "), the lag with 20 000 changes at 10 000/s (here " +
          format_count(static_cast<double>(sizes.changes)) + " at " +
          format_rate(static_cast<double>(sizes.changes_per_s)) +
          "), the bytes per change over as many changes as its loop runs (here " +
          format_count(static_cast<double>(sizes.changes)) + ").",
  };
  findings.buys = {
      "latency: a label " + compare_times(pattern_p50, sync_p50) + " (p50 " +
          format_ns(pattern_p50) + " vs " + format_ns(sync_p50) + ")",
      "availability: Customer service down, " + down_pattern + " labels made (baseline " +
          down_sync + ")",
      "coupling: Shipping never calls the Customer service",
  };
  findings.costs = {
      "staleness: a change reaches the replica in p50 " +
          format_ns(static_cast<double>(lag.p50_ns)) + ", p99 " +
          format_ns(static_cast<double>(lag.p99_ns)),
      "storage: every replica holds all " + customers + " records; " + format_bytes(fat_bytes) +
          " per change to each",
      "complexity: snapshots, sequence numbers, heartbeats",
  };
  return findings;
}

}  // namespace

Stop state_transfer_stop() {
  return {
      .name = "state-transfer",
      .title = "Event-carried state transfer",
      .intent =
          "When a customer's record changes, the Customer service publishes the whole new "
          "record. Shipping keeps its own replica, current by those events and repaired by "
          "snapshots, and reads addresses locally: it never calls the owner.",
      .baseline = "Shipping asking the Customer service for the address every time it ships",
      .demo_program = demo_programs::state_transfer,
      .demo_args = {"--count", "4", "--late-joiner", "--lose", "3"},
      .quick_demo_args = {"--count", "2", "--late-joiner", "--lose", "1"},
      .demo_shows =
          "A replica that joined late synchronised from a snapshot, and one that lost "
          "updates noticed the gap and repaired itself.",
      .measure = measure,
  };
}

}  // namespace eda::tour
