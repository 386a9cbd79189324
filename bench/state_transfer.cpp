/// @file state_transfer.cpp
/// @brief bench-state-transfer: event-carried state transfer against its synchronous baseline,
///        in the same run, with the same codec, over tcp loopback.
///
/// What the pattern buys, and what it costs:
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
#include <cstdlib>
#include <limits>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "eda/clock.hpp"
#include "eda/codec.hpp"
#include "eda/endpoint.hpp"
#include "eda/envelope.hpp"
#include "eda/latency.hpp"
#include "eda/rpc.hpp"
#include "eda/state_transfer/baseline.hpp"
#include "eda/state_transfer/customer.hpp"
#include "eda/state_transfer/customer_service.hpp"
#include "eda/state_transfer/replica.hpp"
#include "eda/state_transfer/service_thread.hpp"
#include "eda/state_transfer/shipping.hpp"
#include "latency_counters.hpp"

namespace {

using namespace std::chrono_literals;
using namespace eda::state_transfer;

/// Customers Shipping looks up, and the data set the lag run changes.
constexpr std::size_t customers = 10'000;
/// Length of the pseudo-random shipping plan (a power of two, so `n & (plan_size - 1)` cycles).
constexpr std::size_t plan_size = 1 << 16;

/// A positive count from the environment variable `name`, or `fallback`.
std::uint64_t env_count(const char* name, std::uint64_t fallback) {
  const char* text = std::getenv(name);
  const long long value = text != nullptr ? std::strtoll(text, nullptr, 10) : 0;
  return value > 0 ? static_cast<std::uint64_t>(value) : fallback;
}

/// A Customer service on ephemeral tcp loopback ports.
CustomerServiceOptions source_options() {
  return CustomerServiceOptions{
      .update_endpoints = {eda::ephemeral_endpoint(eda::Transport::tcp, "customer-updates")},
      .snapshot_endpoints = {eda::ephemeral_endpoint(eda::Transport::tcp, "customer-snapshots")}};
}

/// A replica of `source` (a CustomerService or a CustomerServiceThread), named `name`.
template <class Source>
ReplicaOptions replica_options(const Source& source, std::string name) {
  return ReplicaOptions{.name = std::move(name),
                        .updates_endpoint = source.update_endpoints().front(),
                        .snapshot_endpoint = source.snapshot_endpoints().front()};
}

/// A Replica that follows its source on a thread of its own, as a Shipping service's would.
class FollowingReplica {
 public:
  FollowingReplica(zmq::context_t& context, ReplicaOptions options)
      : replica_(context, std::move(options)),
        follower_([this](const std::stop_token& stop) { replica_.run(stop, 5ms); }) {}

  Replica& replica() noexcept { return replica_; }

  /// Stops following; afterwards, what the following thread wrote may be read safely.
  void stop() {
    follower_.request_stop();
    if (follower_.joinable()) follower_.join();
  }

 private:
  Replica replica_;
  std::jthread follower_;  // declared last: stops before the replica is destroyed
};

/// Whether `replica` has synchronised and is following its source.
bool is_live(const Replica& replica) { return replica.status().state == ReplicaState::live; }

/// The customers the orders go to: pseudo-random ids in 1..count, drawn before the timed loop
/// so that both designs ship to the same customers, at no cost to either.
std::vector<CustomerId> shipping_plan(std::size_t count) {
  CustomerGenerator random(7);
  std::vector<CustomerId> plan(plan_size);
  for (CustomerId& id : plan) id = random.below(count) + 1;
  return plan;
}

/// Bytes one baseline `GetCustomer` call moves for `customer`: the request's frames (method
/// name, encoded id) plus the reply's (status, encoded CustomerReply), encoded exactly as the
/// RPC encodes them. Frame contents only: ZeroMQ's few bytes of framing per frame and the
/// TCP/IP headers come on top, in both designs alike.
std::size_t rpc_bytes(const Customer& customer) {
  constexpr std::string_view reply_status = "ok";  // the status frame of a successful reply
  const std::size_t request =
      baseline::method::get_customer.size() + eda::encode_value(customer.id).size();
  const std::size_t reply =
      reply_status.size() +
      eda::encode_value(baseline::CustomerReply{.found = true, .customer = customer}).size();
  return request + reply;
}

/// rpc_bytes() averaged over every customer of `table`.
double mean_rpc_bytes(const CustomerTable& table) {
  double total = 0;
  for (const auto& [id, customer] : table) total += static_cast<double>(rpc_bytes(customer));
  return table.empty() ? 0.0 : total / static_cast<double>(table.size());
}

/// Counters shared by both lookup benchmarks.
void report_shipping(benchmark::State& state, const eda::LatencyRecorder& latency,
                     std::uint64_t owner_requests) {
  const auto shipments = static_cast<double>(state.iterations());
  state.SetItemsProcessed(state.iterations());
  eda::bench::set_latency_counters(state, latency);
  state.counters["owner_requests_per_shipment"] =
      shipments > 0 ? static_cast<double>(owner_requests) / shipments : 0.0;
}

/// Ships one order per iteration, to the customers of `plan` in turn, and times each label;
/// `missing` is the error when a customer that should exist has no record.
template <class AnyShipping>
eda::LatencyRecorder ship_orders(benchmark::State& state, AnyShipping& shipping,
                                 const std::vector<CustomerId>& plan, const char* missing) {
  eda::LatencyRecorder latency;
  std::uint64_t n = 0;
  for (auto _ : state) {
    const ShipOrder order{.order_id = ++n, .customer_id = plan[n & (plan_size - 1)]};
    const std::int64_t start = eda::monotonic_ns();
    const auto label = shipping.label_for(order);
    latency.record(eda::monotonic_ns() - start);
    if (!label) {
      state.SkipWithError(missing);
      break;
    }
    benchmark::DoNotOptimize(label);
  }
  return latency;
}

// Each label is timed on its own, so the percentiles are per label. The two clock reads
// around it (a vDSO call each, about 35 ns together on a 2.5 GHz Xeon) are included: for the
// pattern's local read the recorded latency is an upper bound, for the baseline's round trip
// they are noise.
void BM_StateTransfer_Lookup(benchmark::State& state) {
  zmq::context_t context;
  CustomerServiceThread source(context, source_options(), CustomerGenerator().table(customers));
  FollowingReplica follower(context, replica_options(source, "shipping"));
  const Replica& replica = follower.replica();
  // await_sequence(0) holds once the replica has synchronised: the first snapshot is in.
  if (!replica.await_sequence(0, 30s) || replica.status().records != customers) {
    state.SkipWithError("the replica did not synchronise within 30 s");
    return;
  }
  const Shipping shipping(replica);
  const std::vector<CustomerId> plan = shipping_plan(customers);
  // The owner's own count of the requests it served (snapshots: the only thing a replica asks
  // for), read on its thread before and after the run.
  const auto requests_served = [&] {
    return source.call([](CustomerService& service) { return service.stats().snapshots_served; });
  };
  const std::uint64_t served_before = requests_served();

  const eda::LatencyRecorder latency =
      ship_orders(state, shipping, plan, "the replica has no record of a customer it should hold");
  report_shipping(state, latency, requests_served() - served_before);
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
  const std::vector<CustomerId> plan = shipping_plan(customers);

  eda::LatencyRecorder latency;
  try {
    latency = ship_orders(state, shipping, plan,
                          "the Customer service has no record of a customer it should hold");
  } catch (const eda::RpcTimeout& e) {
    state.SkipWithError(e.what());
  }
  serving.request_stop();
  serving.join();  // from here on the owner's counters are this thread's to read
  report_shipping(state, latency, owner.lookups_served());
  state.counters["bytes_per_shipment"] = mean_rpc_bytes(owner.records());
}

/// The thin alternative, for comparison only: "customer 42 changed", and nothing else (event
/// notification; whoever needs the new address must then call the owner for it).
struct CustomerChanged {
  static constexpr std::string_view event_type = "shop.customer.changed";
  static constexpr std::uint32_t schema_version = 1;
  CustomerId customer_id = 0;
  MSGPACK_DEFINE(customer_id)
};

/// Bytes of the message that publishes `payload` as change number `sequence`: the topic frame
/// plus the envelope, encoded as the Publisher encodes them.
template <class Payload>
std::size_t message_bytes(const Payload& payload, std::uint64_t sequence) {
  eda::Event<Payload> event{eda::make_metadata<Payload>(CustomerServiceOptions{}.source),
                            payload};
  event.meta.sequence = sequence;  // the Publisher stamps it; its size depends on the value
  return Payload::event_type.size() + eda::encode_event(event).size();
}

// One iteration encodes the fat and the thin message of one change (how long that takes is
// bench-codec's subject; here the sizes are), averaged over a thousand sample customers. The
// baseline publishes nothing when a customer changes; it pays `baseline_bytes_per_shipment`
// on every label instead.
void BM_StateTransfer_BytesPerChange(benchmark::State& state) {
  const CustomerTable table = CustomerGenerator().table(1'000);
  std::vector<Customer> sample;
  for (const auto& [id, customer] : table) sample.push_back(customer);

  std::uint64_t fat = 0;
  std::uint64_t thin = 0;
  std::uint64_t n = 0;
  for (auto _ : state) {
    const Customer& customer = sample[n % sample.size()];
    ++n;
    fat += message_bytes(CustomerUpdated{new_incarnation(), customer}, n);
    thin += message_bytes(CustomerChanged{customer.id}, n);
  }
  const auto changes = static_cast<double>(std::max<std::uint64_t>(n, 1));
  state.counters["fat_bytes_per_change"] = static_cast<double>(fat) / changes;
  state.counters["thin_bytes_per_change"] = static_cast<double>(thin) / changes;
  state.counters["baseline_bytes_per_shipment"] = mean_rpc_bytes(table);
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
  CustomerServiceThread source(context, source_options(), CustomerGenerator().table(records));

  double seconds = 0;
  double bytes_per_record = 0;
  std::uint64_t n = 0;
  for (auto _ : state) {
    ReplicaOptions options = replica_options(source, "replica-" + std::to_string(++n));
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
  state.counters["records_per_s"] =
      seconds > 0 ? static_cast<double>(records * n) / seconds : 0.0;
  state.counters["replica_bytes_per_record"] = bytes_per_record;
}

/// `count` changes to make to `records`: customers moving house, drawn before the run starts.
std::vector<Customer> planned_moves(const CustomerTable& records, std::uint64_t count) {
  CustomerGenerator random(11);
  std::vector<Customer> moves;
  moves.reserve(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    moves.push_back(random.moved(records.at(random.below(records.size()) + 1)));
  }
  return moves;
}

// One iteration = a paced run: the Customer service, driven on this thread, publishes
// `updates` changes at `rate` per second while a replica follows on its own thread. The
// replica's `applied` hook, on that thread, records each change's lag: wall clock now minus
// the timestamp the publisher stamped (both from this machine's clock).
void BM_StateTransfer_Lag(benchmark::State& state) {
  const auto rate = static_cast<std::uint64_t>(state.range(0));
  const std::uint64_t updates = env_count("EDA_BENCH_UPDATES", 20'000);
  zmq::context_t context;
  CustomerService source(context, source_options(), CustomerGenerator().table(customers));
  const std::vector<Customer> moves = planned_moves(source.records(), updates);

  eda::LatencyRecorder lag;  // written on the replica's thread only, read after it stopped
  ReplicaOptions options = replica_options(source, "shipping");
  options.applied = [&lag](const eda::EventMetadata& meta) {
    if (meta.type == CustomerUpdated::event_type) {  // not the heartbeats
      lag.record(eda::wall_clock_ns() - meta.timestamp_ns);
    }
  };
  FollowingReplica follower(context, std::move(options));
  Replica& replica = follower.replica();
  // The source answers the replica's handshake and snapshot request from this thread.
  const eda::Deadline synchronised(30s);
  while (!is_live(replica) && !synchronised.expired()) source.serve(1ms);
  if (!is_live(replica)) {
    state.SkipWithError("the replica did not synchronise within 30 s");
    return;
  }

  double publish_seconds = 0;
  for (auto _ : state) {
    const std::int64_t period_ns = 1'000'000'000 / static_cast<std::int64_t>(rate);
    const std::int64_t start = eda::monotonic_ns();
    std::uint64_t last = 0;
    for (std::uint64_t i = 0; i < updates; ++i) {
      // Busy pacing, yielding so that the replica and ZeroMQ's I/O thread keep a core on a
      // small machine.
      const std::int64_t due = start + static_cast<std::int64_t>(i) * period_ns;
      while (eda::monotonic_ns() < due) std::this_thread::yield();
      last = source.upsert(moves[i]);
    }
    publish_seconds = static_cast<double>(eda::monotonic_ns() - start) / 1e9;
    // Serving meanwhile, in case the replica lost an update and asks for a snapshot.
    const eda::Deadline drained(30s);
    while (!replica.await_sequence(last, 1ms) && !drained.expired()) source.serve(0ms);
    if (!replica.await_sequence(last, 0ms)) {
      state.SkipWithError("the replica did not catch up within 30 s");
    }
  }
  follower.stop();

  const auto summary = lag.summary();
  const ReplicaStats stats = replica.stats();
  state.counters["lag_p50_us"] = static_cast<double>(summary.p50_ns) / 1e3;
  state.counters["lag_p99_us"] = static_cast<double>(summary.p99_ns) / 1e3;
  state.counters["lag_max_us"] = static_cast<double>(summary.max_ns) / 1e3;
  state.counters["updates_per_s"] =
      publish_seconds > 0 ? static_cast<double>(updates) / publish_seconds : 0.0;
  // 0 unless the replica lost updates: those a snapshot repaired have no lag sample.
  state.counters["resyncs"] =
      static_cast<double>(stats.resyncs_after_gap + stats.resyncs_after_silence +
                          stats.resyncs_after_restart + stats.resyncs_after_bad_update);
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
