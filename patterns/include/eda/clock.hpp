/// @file clock.hpp
/// @brief The monotonic clock used for every measurement, and deadlines for bounded waits.
#pragma once

#include <chrono>
#include <cstdint>

namespace eda {

/// @brief The clock for measuring durations: monotonic, never jumps with the wall clock.
using MonotonicClock = std::chrono::steady_clock;

/// @brief Monotonic time now in nanoseconds (only differences are meaningful).
inline std::int64_t monotonic_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             MonotonicClock::now().time_since_epoch())
      .count();
}

/// @brief A point in time after which a bounded wait gives up.
///
/// Every wait in the catalogue has one, so no loop in a demo, test or benchmark can hang.
class Deadline {
 public:
  /// @brief A deadline `budget` from now.
  explicit Deadline(std::chrono::nanoseconds budget) noexcept
      : end_(MonotonicClock::now() + budget) {}

  /// @brief Whether the deadline has passed.
  [[nodiscard]] bool expired() const noexcept { return MonotonicClock::now() >= end_; }

  /// @brief Time left, in whole milliseconds rounded up (0 once expired): suits zmq polls.
  [[nodiscard]] std::chrono::milliseconds remaining() const noexcept {
    const auto left = end_ - MonotonicClock::now();
    if (left <= MonotonicClock::duration::zero()) {
      return std::chrono::milliseconds(0);
    }
    return std::chrono::ceil<std::chrono::milliseconds>(left);
  }

 private:
  MonotonicClock::time_point end_;
};

}  // namespace eda
