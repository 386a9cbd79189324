/// @file latency.hpp
/// @brief A latency recorder that reports p50, p90, p99 and max.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace eda {

/// @brief Percentiles of a set of recorded latencies, in nanoseconds.
struct LatencySummary {
  std::uint64_t count = 0;  ///< Number of samples recorded (including any not kept).
  std::int64_t min_ns = 0;  ///< Smallest sample.
  std::int64_t p50_ns = 0;  ///< Median.
  std::int64_t p90_ns = 0;  ///< 90th percentile.
  std::int64_t p99_ns = 0;  ///< 99th percentile.
  std::int64_t max_ns = 0;  ///< Largest sample.
  double mean_ns = 0;       ///< Arithmetic mean.

  /// @brief One line, e.g. `n=1000 p50=12.3us p90=15.0us p99=40.1us max=1.2ms`.
  [[nodiscard]] std::string to_string() const;
};

/// @brief A duration in nanoseconds written with a fitting unit: `850ns`, `12.3us`, `4.56ms`, `1.20s`.
std::string format_duration(std::int64_t ns);

/// @brief Records latency samples and reports percentiles.
///
/// Memory is bounded: it keeps at most `capacity` samples; beyond that each new sample replaces
/// a random kept one (reservoir sampling), so percentiles stay representative of the whole run
/// while min, max, mean and count stay exact.
///
/// @par Thread safety
/// None: use one recorder per thread and merge(), or guard it.
class LatencyRecorder {
 public:
  /// @brief A recorder keeping at most `capacity` samples (default one million).
  explicit LatencyRecorder(std::size_t capacity = 1'000'000);

  /// @brief Records one sample in nanoseconds (negative values are clamped to 0).
  void record(std::int64_t ns);

  /// @brief Records one sample given as a duration.
  template <class Rep, class Period>
  void record(std::chrono::duration<Rep, Period> d) {
    record(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
  }

  /// @brief Adds what `other` recorded to this recorder.
  ///
  /// Count, min, max and mean stay exact. When either side has overflowed its capacity, the
  /// merged samples are drawn from both sides in proportion to how many each recorded, so the
  /// percentiles describe both runs and not just the one that kept more samples.
  void merge(const LatencyRecorder& other);

  /// @brief Number of samples recorded.
  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }

  /// @brief Percentiles over the samples so far (all zero when there are none).
  [[nodiscard]] LatencySummary summary() const;

  /// @brief Forgets every sample.
  void reset();

 private:
  std::size_t capacity_;
  std::vector<std::int64_t> samples_;
  std::uint64_t count_ = 0;
  std::int64_t min_ = 0;
  std::int64_t max_ = 0;
  long double sum_ = 0;
  std::mt19937_64 random_{42};  // fixed seed: the same run keeps the same samples
};

}  // namespace eda
