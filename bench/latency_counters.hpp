/// @file latency_counters.hpp
/// @brief The latency counters every benchmark reports the same way: `p50_us` and `p99_us`.
#pragma once

#include <benchmark/benchmark.h>

#include <string>

#include "eda/latency.hpp"

namespace eda::bench {

/// @brief Sets the `p50_us` and `p99_us` counters (names with an optional prefix, e.g.
///        `lag_`) from the samples of `recorder`, in microseconds.
inline void set_latency_counters(benchmark::State& state, const eda::LatencyRecorder& recorder,
                                 const std::string& prefix = "") {
  const eda::LatencySummary summary = recorder.summary();
  state.counters[prefix + "p50_us"] = static_cast<double>(summary.p50_ns) / 1e3;
  state.counters[prefix + "p99_us"] = static_cast<double>(summary.p99_ns) / 1e3;
}

}  // namespace eda::bench
