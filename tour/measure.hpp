/// @file measure.hpp
/// @brief Small tools every stop's measurement uses: loops bounded in count and in time,
///        medians of repeated rounds, and numbers written for people.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "eda/clock.hpp"

namespace eda::tour {

/// @brief How much one measured loop may do: it stops at whichever limit it reaches first,
///        so a slow machine makes a measurement less precise, never longer.
struct Budget {
  std::size_t max_count = 1000;              ///< Iterations at most.
  std::chrono::milliseconds max_time{1000};  ///< Time at most.
};

/// @brief What a bounded loop did.
struct LoopResult {
  std::size_t count = 0;  ///< Iterations run.
  double seconds = 0;     ///< Time they took.

  /// @brief Iterations per second (0 when nothing ran).
  [[nodiscard]] double per_second() const {
    return seconds > 0 ? static_cast<double>(count) / seconds : 0;
  }
};

/// @brief Calls `step(i)` for i = 0, 1, ... until `budget` runs out (at least once).
template <class Step>
LoopResult run_bounded(const Budget& budget, Step step) {
  const std::int64_t start = monotonic_ns();
  const Deadline deadline(budget.max_time);
  std::size_t i = 0;
  do {
    step(i);
    ++i;
  } while (i < budget.max_count && !deadline.expired());
  return {i, static_cast<double>(monotonic_ns() - start) / 1e9};
}

/// @brief The median of `values` (0 for none).
double median(std::vector<double> values);

/// @brief Runs `round()` `rounds` times (each returns a number) and returns their median.
template <class Round>
double median_of(int rounds, Round round) {
  std::vector<double> results;
  for (int i = 0; i < rounds; ++i) results.push_back(round());
  return median(results);
}

/// @brief A count for people, thousands grouped: `95 000`.
std::string format_count(double value);

/// @brief A rate: `95 000/s`.
std::string format_rate(double per_second);

/// @brief A size in bytes: `237 B`, `12.4 KiB`, `3.1 MiB`.
std::string format_bytes(double bytes);

/// @brief A duration in nanoseconds, with a fitting unit: `850ns`, `12.3us`, `4.56ms`.
std::string format_ns(double ns);

/// @brief How many times `numerator` is `denominator`: `38x`, `2.4x`, `0.72x` (`-` when the
///        denominator is 0).
std::string format_ratio(double numerator, double denominator);

/// @brief Two rates (higher is better) compared: `38x faster` or `1.2x slower`.
std::string compare_rates(double pattern_per_s, double baseline_per_s);

/// @brief Two durations (lower is better) compared: `129x faster` or `12x slower`.
std::string compare_times(double pattern_ns, double baseline_ns);

/// @brief `part of whole`, e.g. `3 of 3`.
std::string format_share(std::size_t part, std::size_t whole);

}  // namespace eda::tour
