/// @file dead_letter.hpp
/// @brief Where malformed messages go: kept with their raw bytes, the reason and the origin.
///
/// A consumer that cannot decode a message must neither crash nor drop it silently. It hands
/// the message to a DeadLetterSink and goes on with the next one; a person (or a repair job)
/// looks at the dead letters later.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "eda/errors.hpp"

namespace eda {

/// @brief One message that could not be processed.
struct DeadLetter {
  std::vector<std::string> frames{};       ///< The raw frames exactly as received.
  WireFault fault = WireFault::bad_field;  ///< What kind of problem it was.
  std::string reason{};                    ///< The decoder's explanation.
  std::string origin{};                    ///< Where it came from (endpoint, consumer name, ...).
  std::int64_t received_at_ns = 0;         ///< Wall-clock time it was dead-lettered.
};

/// @brief Receives dead letters. Implementations must be safe to call from several threads.
class DeadLetterSink {
 public:
  virtual ~DeadLetterSink() = default;
  /// @brief Keeps (or forwards) one dead letter.
  virtual void put(DeadLetter letter) = 0;
};

/// @brief An in-memory sink that counts every dead letter and keeps the most recent ones.
///
/// @par Thread safety
/// All members may be called concurrently.
class DeadLetterBox : public DeadLetterSink {
 public:
  /// @brief A box that keeps the last `capacity` letters (counts are never capped).
  explicit DeadLetterBox(std::size_t capacity = 1000);

  /// @brief Counts the letter and keeps it, dropping the oldest kept one when full.
  void put(DeadLetter letter) override;

  /// @brief Number of letters ever put.
  [[nodiscard]] std::uint64_t total() const;

  /// @brief Number of letters ever put with this fault.
  [[nodiscard]] std::uint64_t count(WireFault fault) const;

  /// @brief A copy of the kept letters, oldest first.
  [[nodiscard]] std::vector<DeadLetter> recent() const;

 private:
  mutable std::mutex mutex_;
  std::size_t capacity_{};
  std::deque<DeadLetter> kept_{};
  std::uint64_t total_ = 0;
  std::map<WireFault, std::uint64_t> by_fault_{};
};

/// @brief A sink that appends each dead letter as one JSON line to a file, and counts them.
class DeadLetterFile : public DeadLetterSink {
 public:
  /// @brief Opens (creates or appends to) `path`; throws StorageError if it cannot.
  explicit DeadLetterFile(const std::string& path);

  /// @brief Writes the letter as one JSON line and flushes, so a crash loses nothing written.
  void put(DeadLetter letter) override;

  /// @brief Number of letters written by this sink.
  [[nodiscard]] std::uint64_t total() const;

 private:
  mutable std::mutex mutex_;
  std::ofstream out_{};
  std::uint64_t total_ = 0;
};

}  // namespace eda
