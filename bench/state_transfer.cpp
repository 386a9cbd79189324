/// @file state_transfer.cpp
/// @brief bench-state-transfer: event-carried state transfer against its synchronous baseline,
///        in the same run, with the same codec, over tcp loopback.
///
/// The workloads and what each counter measures are defined once, in the shop workloads
/// (`workloads/`, target eda::shop_workloads), which the tour's state-transfer stop runs too at
/// a smaller size: the label latency (eda::workloads::make_label, over an
/// eda::workloads::ShippingPlan), the bytes on the wire (eda::workloads::ChangeBytes,
/// eda::workloads::mean_rpc_bytes) and the replica lag (eda::workloads::ReplicaLagRun). What
/// the pattern buys, and what it costs:
///
/// - BM_StateTransfer_Lookup / BM_StateTransfer_Sync_Lookup: one iteration = Shipping makes the
///   label for one order to a pseudo-random customer out of 10k, from its local Replica (the
///   pattern) or by calling the Customer service (the baseline). items/s = shipments/s;
///   `p50_us`/`p99_us` per label; `owner_requests_per_shipment`, the work each shipment puts on
///   the owner of the data; the baseline's `bytes_per_shipment` (request + reply).
/// - BM_StateTransfer_BytesPerChange: the price of the pattern. Every change travels whole:
///   bytes of one CustomerUpdated message against a thin "customer 42 changed" notification.
///   The baseline sends nothing per change, and `bytes_per_shipment` per label instead.
/// - BM_StateTransfer_Converge/records:N: how long a new replica takes to go live holding N
///   records (handshake, snapshot, apply), and the memory its copy costs per record.
/// - BM_StateTransfer_Lag/rate:R: the Customer service publishes R changes per second; the lag
///   from publication until the replica has applied a change (how stale a label can be).
///
/// The CTest smoke run shrinks the work with EDA_BENCH_UPDATES (changes per lag run, default
/// 20000) and EDA_BENCH_RECORDS (caps the converge data sets).
#include <benchmark/benchmark.h>

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>
#include <limits>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "eda/clock.hpp"
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
#include "environment.hpp"
#include "latency_counters.hpp"
#include "replica_lag_counters.hpp"

namespace {

using namespace std::chrono_literals;
using namespace eda::state_transfer;
using namespace eda::workloads;
using eda::bench::env_count;

/// Customers Shipping looks up, and the data set the lag run changes.
constexpr std::size_t customers = suite_customers;

/// Counters shared by both lookup benchmarks.
void report_shipping(benchmark::State& state, const eda::LatencyRecorder& latency,
                     std::uint64_t owner_requests) {
  const auto shipments = static_cast<double>(state.iterations());
  state.SetItemsProcessed(state.iterations());
  eda::bench::set_latency_counters(state, latency);
  state.counters["owner_requests_per_shipment"] =
      shipments > 0 ? static_cast<double>(owner_requests) / shipments : 0.0;
}

/// Ships one order per iteration, to the customers of the shipping plan in turn, and times
/// each label; `missing` is the error when a customer that should exist has no record.
template <class AnyShipping>
eda::LatencyRecorder ship_orders(benchmark::State& state, AnyShipping& shipping,
                                 const char* missing) {
  ShippingPlan plan(customers);
  eda::LatencyRecorder latency;
  for (auto _ : state) {
    if (!make_label(shipping, plan.next(), latency)) {
      state.SkipWithError(missing);
      break;
    }
  }
  return latency;
}

void BM_StateTransfer_Lookup(benchmark::State& state) {
  zmq::context_t context;
  CustomerServiceThread source(context, customer_service_options(),
                               CustomerGenerator().table(customers));
  FollowingReplica follower(context, replica_of(source, "shipping"));
  const Replica& replica = follower.replica();
  // await_sequence(0) holds once the replica has synchronised: the first snapshot is in.
  if (!replica.await_sequence(0, 30s) || replica.status().records != customers) {
    state.SkipWithError("the replica did not synchronise within 30 s");
    return;
  }
  const Shipping shipping(replica);
  // The owner's own count of the requests it served, read on its thread before and after.
  const std::uint64_t served_before = snapshots_served(source);

  const eda::LatencyRecorder latency =
      ship_orders(state, shipping, "the replica has no record of a customer it should hold");
  report_shipping(state, latency, snapshots_served(source) - served_before);
}

void BM_StateTransfer_Sync_Lookup(benchmark::State& state) {
  zmq::context_t context;
  baseline::CustomerService owner(
      context, {.endpoints = {eda::ephemeral_endpoint(eda::Transport::tcp, "customer-rpc")}},
      CustomerGenerator().table(customers));
  std::jthread serving([&](const std::stop_token& stop) {
    owner.serve_while([&] { return !stop.stop_requested(); }, 5ms);
  });
  baseline::SyncShipping shipping(context, {.endpoint = owner.endpoints().front()});

  eda::LatencyRecorder latency;
  try {
    latency = ship_orders(state, shipping,
                          "the Customer service has no record of a customer it should hold");
  } catch (const eda::RpcTimeout& e) {
    state.SkipWithError(e.what());
  }
  serving.request_stop();
  serving.join();  // from here on the owner's counters are this thread's to read
  report_shipping(state, latency, owner.lookups_served());
  state.counters["bytes_per_shipment"] = mean_rpc_bytes(owner.records());
}

// One iteration encodes the fat and the thin message of one change (how long that takes is
// bench-codec's subject; here the sizes are), over a thousand sample customers in turn. The
// baseline publishes nothing when a customer changes; it pays `baseline_bytes_per_shipment`
// on every label instead.
void BM_StateTransfer_BytesPerChange(benchmark::State& state) {
  ChangeBytes sizes(1'000);
  for (auto _ : state) sizes.add_next();
  state.counters["fat_bytes_per_change"] = sizes.fat_bytes_per_change();
  state.counters["thin_bytes_per_change"] = sizes.thin_bytes_per_change();
  state.counters["baseline_bytes_per_shipment"] = mean_rpc_bytes(sizes.sample());
}

/// Heap bytes in use, from glibc's mallinfo2() (all arenas): small blocks (uordblks) plus the
/// large ones glibc maps directly (hblkhd), where a big hash table's bucket array lands.
double heap_in_use() {
  const struct mallinfo2 info = mallinfo2();
  return static_cast<double>(info.uordblks + info.hblkhd);
}

// One iteration = a new replica, from construction until it is live and holds every record
// (the subscription handshake, the snapshot in chunks, the swap), timed by hand so that tearing
// it down again does not count. The source, on its own thread, is built once per run.
//
// `replica_bytes_per_record`: the heap growth while this thread copies the live replica's
// table. The copy is the same container holding the same records (libstdc++ even keeps the
// bucket count), so it costs what the replica's own copy costs; measuring it rather than the
// synchronisation keeps sockets, snapshot chunks in flight and other threads' allocations out.
void BM_StateTransfer_Converge(benchmark::State& state) {
  const std::uint64_t records =
      std::min(static_cast<std::uint64_t>(state.range(0)),
               env_count("EDA_BENCH_RECORDS", std::numeric_limits<std::uint64_t>::max()));
  zmq::context_t context;
  CustomerServiceThread source(context, customer_service_options(),
                               CustomerGenerator().table(records));

  double seconds = 0;
  double bytes_per_record = 0;
  std::uint64_t n = 0;
  for (auto _ : state) {
    ReplicaOptions options = replica_of(source, "replica-" + std::to_string(++n));
    const std::int64_t start = eda::monotonic_ns();
    Replica replica(context, std::move(options));
    const eda::Deadline deadline(30s);
    while (!is_live(replica) && !deadline.expired()) replica.pump(10ms);
    const double elapsed = static_cast<double>(eda::monotonic_ns() - start) / 1e9;
    state.SetIterationTime(elapsed);
    seconds += elapsed;
    if (!is_live(replica) || replica.status().records != records) {
      state.SkipWithError("the replica did not converge within 30 s");
      break;
    }
    if (n == 1) {
      const double before = heap_in_use();
      const CustomerTable copy = replica.copy();
      bytes_per_record = (heap_in_use() - before) / static_cast<double>(copy.size());
    }
  }
  state.counters["records"] = static_cast<double>(records);
  state.counters["records_per_s"] = seconds > 0 ? static_cast<double>(records * n) / seconds : 0.0;
  state.counters["replica_bytes_per_record"] = bytes_per_record;
}

// One iteration = a paced run (eda::workloads::ReplicaLagRun): the Customer service, driven
// on this thread, publishes `updates` changes at `rate` per second while a replica follows on
// its own thread.
void BM_StateTransfer_Lag(benchmark::State& state) {
  eda::bench::run_zeromq_replica_lag(
      state, ReplicaLagOptions{.customers = customers,
                               .changes = env_count("EDA_BENCH_UPDATES", 20'000),
                               .changes_per_second = static_cast<std::uint64_t>(state.range(0))});
}

}  // namespace

BENCHMARK(BM_StateTransfer_Lookup)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_StateTransfer_Sync_Lookup)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_StateTransfer_BytesPerChange)->Unit(benchmark::kMicrosecond);
// The largest data set takes a few hundred milliseconds per replica: three are enough.
BENCHMARK(BM_StateTransfer_Converge)
    ->ArgName("records")
    ->Arg(1'000)
    ->Arg(10'000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_StateTransfer_Converge)
    ->ArgName("records")
    ->Arg(100'000)
    ->Iterations(3)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
// A fixed number of changes per run (EDA_BENCH_UPDATES): the run is as long as the pacing says.
BENCHMARK(BM_StateTransfer_Lag)
    ->ArgName("rate")
    ->Arg(10'000)
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
