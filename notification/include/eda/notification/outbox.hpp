/// @file outbox.hpp
/// @brief The Order service's bounded outbox: the recent events a returning consumer can replay.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "eda/notification/shop.hpp"

namespace eda::notification {

/// @brief Keeps the last `capacity` published events (their envelope bytes), so a consumer that
///        was down can ask for everything after the last sequence it processed.
///
/// Memory is bounded by design: when full, the oldest event is dropped. A consumer that was
/// away longer than the outbox reaches back learns it from ReplayReply::first_available
/// instead of silently missing events.
class Outbox {
 public:
  /// @brief An outbox holding at most `capacity` events (at least 1).
  explicit Outbox(std::size_t capacity);

  /// @brief Keeps the envelope of the event with `sequence` (sequences must increase by one).
  void append(std::uint64_t sequence, std::string_view envelope);

  /// @brief Up to `max_events` events after `after_sequence`, oldest first.
  [[nodiscard]] ReplayReply after(std::uint64_t after_sequence, std::size_t max_events) const;

  /// @brief Oldest sequence held (0 when empty).
  [[nodiscard]] std::uint64_t first_sequence() const noexcept;
  /// @brief Newest sequence held (0 when empty).
  [[nodiscard]] std::uint64_t last_sequence() const noexcept { return last_; }
  /// @brief Number of events held.
  [[nodiscard]] std::size_t size() const noexcept { return events_.size(); }
  /// @brief Bytes of envelopes held (the outbox's memory, not counting bookkeeping).
  [[nodiscard]] std::size_t bytes() const noexcept { return bytes_; }
  /// @brief Most events it holds.
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

 private:
  std::size_t capacity_;
  std::deque<std::string> events_;  // events_[i] has sequence first_sequence() + i
  std::uint64_t last_ = 0;
  std::size_t bytes_ = 0;
};

}  // namespace eda::notification
