/// @file memory_store.hpp
/// @brief An EventStore in memory: for tests and for reading the idea without a database.
#pragma once

#include <map>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "eda/sourcing/event_store.hpp"

namespace eda::sourcing {

/// @brief The event store as plain data structures: one log in position order, an index of
///        each stream's positions, and an index of event ids. Nothing survives the process.
///
/// @par Thread safety
/// All members may be called concurrently (a reader-writer lock).
class InMemoryEventStore final : public EventStore {
 public:
  AppendResult append(std::string_view stream, const ExpectedVersion& expected,
                      std::span<const EventData> events) override;
  [[nodiscard]] std::vector<RecordedEvent> read_stream(std::string_view stream, std::uint64_t from,
                                                       std::size_t max_count,
                                                       Direction direction) const override;
  [[nodiscard]] std::vector<RecordedEvent> read_all(std::uint64_t from,
                                                    std::size_t max_count) const override;
  [[nodiscard]] std::uint64_t stream_version(std::string_view stream) const override;
  [[nodiscard]] std::uint64_t last_position() const override;
  void save_snapshot(std::string_view stream, const Snapshot& snapshot) override;
  [[nodiscard]] std::optional<Snapshot> load_snapshot(std::string_view stream) const override;

 private:
  struct Stored {
    std::string stream;
    std::uint64_t version;
    std::string envelope;
  };
  mutable std::shared_mutex mutex_;
  std::vector<Stored> log_;                                                 // log_[position - 1]
  std::map<std::string, std::vector<std::uint64_t>, std::less<>> streams_;  // positions
  std::unordered_map<std::string, std::uint64_t> ids_;                      // id -> position
  std::map<std::string, Snapshot, std::less<>> snapshots_;                  // latest per stream
};

}  // namespace eda::sourcing
