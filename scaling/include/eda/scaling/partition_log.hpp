/// @file partition_log.hpp
/// @brief Where the keyed producer's events wait for Billing: a durable log per partition, in
///        one SQLite file, that members read from a position.
///
/// Why a log and not the kit's PUB/SUB: a consumer group moves partitions between members, and
/// the new owner must resume from the last committed checkpoint, which is usually behind what
/// the old owner had seen. The events must therefore be re-readable from a position, for as
/// long as a checkpoint may point at them. A publisher forgets an event once sent; a log keeps
/// it. This is Kafka's design (a partition is an append-only log, a checkpoint an offset into
/// it); SQLite gives it here in one file with no server, shared by every process on the
/// machine (WAL: readers never block the producer). A partition's offsets are 0, 1, 2 ...
/// without gaps, so "events behind" (lag) is a subtraction.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "eda/errors.hpp"
#include "eda/scaling/partitioner.hpp"
#include "eda/sqlite/database.hpp"

namespace eda::scaling {

/// @brief One event of a partition's log.
struct LoggedEvent {
  std::uint64_t offset = 0;  ///< Its position in its partition: 0, 1, 2 ...
  std::string key;           ///< Its key (the order id).
  std::string envelope;      ///< The encoded event (the kit's envelope).
};

/// @brief One event to append: its partition, key and envelope.
struct LogAppend {
  PartitionId partition = 0;  ///< Where it goes (the partitioner's choice for its key).
  std::string key;            ///< Its key.
  std::string envelope;       ///< The encoded event.
};

/// @brief The per-partition logs of one topic, in one SQLite file (see the file's description).
///
/// @par Thread safety
/// One object per thread; any number of objects and processes may open one file.
class PartitionLog {
 public:
  /// @brief Opens (creating if needed) the log in `path` with `partition_count` partitions.
  ///        Throws std::invalid_argument for a bad count, eda::StorageError when the file cannot
  ///        be used or was created with another partition count.
  PartitionLog(const std::string& path, std::uint32_t partition_count,
               sqlite::Durability durability = sqlite::Durability::normal);

  /// @brief Appends `events` in one transaction, each at the end of its partition; returns
  ///        their offsets, in order. Throws std::invalid_argument for a partition out of range.
  std::vector<std::uint64_t> append(const std::vector<LogAppend>& events);

  /// @brief Up to `limit` events of `partition` from offset `from` on, in offset order.
  [[nodiscard]] std::vector<LoggedEvent> read(PartitionId partition, std::uint64_t from,
                                              std::size_t limit) const;

  /// @brief The offset the next event of `partition` will get (its event count).
  [[nodiscard]] std::uint64_t end_offset(PartitionId partition) const;

  /// @brief end_offset() of every partition, by partition index.
  [[nodiscard]] std::vector<std::uint64_t> end_offsets() const;

  /// @brief The number of partitions.
  [[nodiscard]] std::uint32_t partition_count() const noexcept { return partition_count_; }

 private:
  void check(PartitionId partition) const;

  sqlite::Database db_;
  std::uint32_t partition_count_;
  mutable sqlite::Statement insert_;
  mutable sqlite::Statement read_;
  mutable sqlite::Statement end_;
  mutable sqlite::Statement ends_;
};

}  // namespace eda::scaling
