/// @file brokers_kv.cpp
/// @brief bench-brokers-kv: event-carried state transfer by the ZeroMQ replica (the Clone
///        pattern built in state-transfer/) against the JetStream KV bucket watched by a
///        KvReplica (brokers/), in the same run, with the same records and the same envelope.
///
/// - BM_Replica_Converge_ZeroMQ/records:N and BM_Replica_Converge_KV/records:N: one iteration
///   = a new replica, from construction until it holds all N records (ZeroMQ: subscription
///   handshake, snapshot in chunks, swap; KV: connection, bucket lookup, a watch delivering
///   each key's latest value, then the "initial values done" marker). Manual time; counter
///   `records_per_s`.
/// - BM_Replica_Lag_ZeroMQ/rate:R and BM_Replica_Lag_KV/rate:R: the Customer service changes
///   records (customers moving house, drawn in advance) at R per second while a replica follows
///   on its own thread; `lag_p50_us`, `lag_p99_us`, `lag_max_us` = the time from the event's
///   timestamp (stamped by the producer) until the replica has applied it. ZeroMQ publishes
///   (PUB, no acknowledgement); the KV producer's kvStore_Put waits for the server's
///   acknowledgement (the record is stored) before the next change, so `updates_per_s` says
///   whether it kept the rate.
///
/// Durability differs and is said, not hidden: the ZeroMQ source keeps its records in memory;
/// the bucket is a JetStream file-storage stream, written (not fsynced: nats-server 2.9 syncs
/// on a timer) before each put is acknowledged. The JetStream server is started by the run
/// (nats-server on a free loopback port, a temporary store); without nats-server the KV rows
/// are skipped and say why.
///
/// Sizes: EDA_BENCH_KV_UPDATES changes per lag run (default 10 000), EDA_BENCH_KV_RECORDS caps
/// the converge data sets (the CTest smoke run shrinks both).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <limits>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "eda/brokers/jetstream_server.hpp"
#include "eda/brokers/kv_replica.hpp"
#include "eda/clock.hpp"
#include "eda/envelope.hpp"
#include "eda/latency.hpp"
#include "eda/state_transfer/customer.hpp"
#include "eda/state_transfer/replica.hpp"
#include "eda/state_transfer/service_thread.hpp"
#include "eda/workloads/customer_lookups.hpp"
#include "eda/workloads/replica_lag.hpp"
#include "environment.hpp"
#include "replica_lag_counters.hpp"

namespace {

using namespace std::chrono_literals;
using namespace eda::state_transfer;
using eda::bench::env_count;

/// The records the lag runs change (as bench-state-transfer's).
constexpr std::size_t lag_customers = eda::workloads::suite_customers;

/// The converge data set of `state`: its argument, capped by EDA_BENCH_KV_RECORDS.
std::uint64_t converge_records(const benchmark::State& state) {
  return std::min(static_cast<std::uint64_t>(state.range(0)),
                  env_count("EDA_BENCH_KV_RECORDS", std::numeric_limits<std::uint64_t>::max()));
}

/// A JetStream server for a KV row, or null (the row skipped, saying why).
std::unique_ptr<eda::brokers::JetStreamServer> start_jetstream(benchmark::State& state) {
  const auto program = eda::brokers::find_nats_server();
  if (!program) {
    state.SkipWithError("nats-server is not installed (Debian: nats-server)");
    return nullptr;
  }
  try {
    return std::make_unique<eda::brokers::JetStreamServer>(*program);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return nullptr;
  }
}

/// Times one new replica per iteration until `converged(replica)`, pumping it with
/// `pump(replica)`; `make(n)` builds the n-th replica. Sets the converge counters.
template <class Make, class Pump, class Converged>
void time_convergence(benchmark::State& state, std::uint64_t records, Make make, Pump pump,
                      Converged converged) {
  double seconds = 0;
  std::uint64_t n = 0;
  for (auto _ : state) {
    const std::int64_t start = eda::monotonic_ns();
    auto replica = make(++n);
    const eda::Deadline deadline(30s);
    while (!converged(*replica) && !deadline.expired()) pump(*replica);
    const double elapsed = static_cast<double>(eda::monotonic_ns() - start) / 1e9;
    state.SetIterationTime(elapsed);
    seconds += elapsed;
    if (!converged(*replica)) {
      state.SkipWithError("the replica did not converge within 30 s");
      break;
    }
  }
  state.counters["records"] = static_cast<double>(records);
  state.counters["records_per_s"] = seconds > 0 ? static_cast<double>(records * n) / seconds : 0.0;
}

void BM_Replica_Converge_ZeroMQ(benchmark::State& state) {
  const std::uint64_t records = converge_records(state);
  zmq::context_t context;
  CustomerServiceThread source(context, eda::workloads::customer_service_options(),
                               CustomerGenerator().table(records));
  time_convergence(
      state, records,
      [&](std::uint64_t n) {
        return std::make_unique<Replica>(
            context, eda::workloads::replica_of(source, "replica-" + std::to_string(n)));
      },
      [](Replica& replica) { replica.pump(10ms); },
      [&](const Replica& replica) {
        return eda::workloads::is_live(replica) && replica.status().records == records;
      });
}

void BM_Replica_Converge_KV(benchmark::State& state) {
  const std::uint64_t records = converge_records(state);
  auto server = start_jetstream(state);
  if (!server) return;
  {
    eda::brokers::CustomerBucket bucket(server->url());
    for (const auto& [id, customer] : CustomerGenerator().table(records)) bucket.upsert(customer);
  }
  time_convergence(
      state, records,
      [&](std::uint64_t n) {
        return std::make_unique<eda::brokers::KvReplica>(eda::brokers::KvReplicaOptions{
            .url = server->url(), .name = "replica-" + std::to_string(n)});
      },
      [](eda::brokers::KvReplica& replica) { replica.pump(10ms); },
      [&](const eda::brokers::KvReplica& replica) {
        return replica.live() && replica.record_count() == records;
      });
}

// The ZeroMQ replica's lag run is the shop workloads' (bench-state-transfer's BM_StateTransfer_Lag
// measures the same), here at the KV row's rate, in the same run.
void BM_Replica_Lag_ZeroMQ(benchmark::State& state) {
  eda::bench::run_zeromq_replica_lag(
      state, eda::workloads::ReplicaLagOptions{
                 .customers = lag_customers,
                 .changes = env_count("EDA_BENCH_KV_UPDATES", 10'000),
                 .changes_per_second = static_cast<std::uint64_t>(state.range(0))});
}

// The same changes put in the bucket, paced the same way, while a KvReplica follows.
void BM_Replica_Lag_KV(benchmark::State& state) {
  auto server = start_jetstream(state);
  if (!server) return;
  const std::uint64_t changes = env_count("EDA_BENCH_KV_UPDATES", 10'000);
  const std::int64_t period_ns = 1'000'000'000 / state.range(0);
  eda::brokers::CustomerBucket bucket(server->url());
  const CustomerTable records = CustomerGenerator().table(lag_customers);
  for (const auto& [id, customer] : records) bucket.upsert(customer);
  const std::vector<Customer> moves = eda::workloads::planned_moves(records, changes);

  eda::LatencyRecorder lag;  // written on the replica's thread only, read after it stopped
  // The initial values are not changes: only what is put once the replica is live is a sample
  // (every initial value is applied before the replica goes live).
  std::atomic<bool> sampling{false};
  eda::brokers::KvReplica replica(
      {.url = server->url(), .applied = [&](const eda::EventMetadata& meta, std::uint64_t) {
         if (sampling.load(std::memory_order_relaxed)) {
           lag.record(eda::wall_clock_ns() - meta.timestamp_ns);
         }
       }});
  std::jthread follower([&](const std::stop_token& stop) { replica.run(stop, 20ms); });
  if (!replica.await_live(30s)) {
    state.SkipWithError("the KV replica did not go live within 30 s");
    return;
  }
  sampling = true;
  double seconds = 0;
  for (auto _ : state) {
    const std::int64_t start = eda::monotonic_ns();
    std::uint64_t last = 0;
    for (std::uint64_t i = 0; i < changes; ++i) {
      const std::int64_t due = start + static_cast<std::int64_t>(i) * period_ns;
      while (eda::monotonic_ns() < due) std::this_thread::yield();
      last = bucket.upsert(moves[i]);
    }
    seconds = static_cast<double>(eda::monotonic_ns() - start) / 1e9;
    if (!replica.await_revision(last, 30s)) {
      state.SkipWithError("the KV replica did not catch up within 30 s");
    }
  }
  follower.request_stop();
  follower.join();
  eda::bench::set_replica_lag_counters(state, lag,
                                       seconds > 0 ? static_cast<double>(changes) / seconds : 0.0);
}

}  // namespace

/// A new replica holding 1 000, then 10 000 records.
void converge_sizes(benchmark::internal::Benchmark* benchmark) {
  benchmark->ArgName("records")->Arg(1'000)->Arg(10'000)->UseManualTime()->Unit(
      benchmark::kMillisecond);
}

/// One paced run, at a rate the KV producer's acknowledged puts keep on a small machine.
void lag_rate(benchmark::internal::Benchmark* benchmark) {
  benchmark->ArgName("rate")->Arg(2'000)->Iterations(1)->UseRealTime()->Unit(
      benchmark::kMillisecond);
}

BENCHMARK(BM_Replica_Converge_ZeroMQ)->Apply(converge_sizes);
BENCHMARK(BM_Replica_Converge_KV)->Apply(converge_sizes);
BENCHMARK(BM_Replica_Lag_ZeroMQ)->Apply(lag_rate);
BENCHMARK(BM_Replica_Lag_KV)->Apply(lag_rate);

BENCHMARK_MAIN();
