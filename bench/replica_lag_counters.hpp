/// @file replica_lag_counters.hpp
/// @brief The replica lag run of the ZeroMQ replica (eda::workloads::ReplicaLagRun) as one
///        benchmark iteration, and its counters: bench-state-transfer measures it alone,
///        bench-brokers-kv beside the JetStream KV replica, whose counters have the same names.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <exception>
#include <memory>

#include "eda/latency.hpp"
#include "eda/workloads/replica_lag.hpp"

namespace eda::bench {

/// @brief Sets `lag_p50_us`, `lag_p99_us`, `lag_max_us` from `lag` and `updates_per_s`, the
///        rate the producer achieved.
inline void set_replica_lag_counters(benchmark::State& state, const eda::LatencyRecorder& lag,
                                     double updates_per_s) {
  const auto summary = lag.summary();
  state.counters["lag_p50_us"] = static_cast<double>(summary.p50_ns) / 1e3;
  state.counters["lag_p99_us"] = static_cast<double>(summary.p99_ns) / 1e3;
  state.counters["lag_max_us"] = static_cast<double>(summary.max_ns) / 1e3;
  state.counters["updates_per_s"] = updates_per_s;
}

/// @brief One paced run per iteration of the ZeroMQ replica's lag run (`options`), then its
///        counters, and `resyncs` (0 unless the replica lost updates: those a snapshot repaired
///        have no lag sample).
inline void run_zeromq_replica_lag(benchmark::State& state,
                                   const eda::workloads::ReplicaLagOptions& options) {
  std::unique_ptr<eda::workloads::ReplicaLagRun> run;
  try {
    run = std::make_unique<eda::workloads::ReplicaLagRun>(options);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  for (auto _ : state) {
    try {
      run->publish();
    } catch (const std::exception& e) {
      state.SkipWithError(e.what());
    }
  }
  run->stop();
  set_replica_lag_counters(state, run->lag(), run->changes_per_second());
  state.counters["resyncs"] = static_cast<double>(run->resyncs());
}

}  // namespace eda::bench
