/// @file checkpoint_store.hpp
/// @brief Where each partition of a consumer group has got to: committed offsets kept durably
///        in SQLite, guarded by a fence (owner and generation) so that a member that lost a
///        partition in a rebalance (a "zombie") can no longer overwrite its new owner's progress.
///
/// A member of Billing processes a partition's events in order and now and then commits the
/// offset of the next event it has not processed yet (Kafka's convention). When the partition
/// moves to another member, the new owner resumes from that offset: the events after the last
/// commit are delivered again (which is why the handler must be idempotent), none is skipped.
///
/// Kafka's classic group coordinator refuses an offset commit whose member id is unknown or
/// whose generation is not the group's current one, without looking at which partitions the
/// member owns. The fence here is kept per partition instead: each partition remembers the
/// member it was last granted to and the highest generation granted (fence()) or committed
/// (commit()). A commit is refused with NotOwner when it comes from another member, and with
/// StaleGeneration when its generation is older. Both checks are needed: in a cooperative
/// rebalance the old and the new owner of a moved partition share one generation (the one that
/// moved it), so only the owner check stops the old one; and a member that kept a partition
/// commits under whatever newer generation it knows.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eda/errors.hpp"
#include "eda/scaling/assignment.hpp"
#include "eda/scaling/partitioner.hpp"
#include "eda/sqlite/database.hpp"

namespace eda::scaling {

/// @brief The largest offset or generation the store keeps (SQLite's integers are signed 64-bit).
inline constexpr std::uint64_t max_checkpoint_value = 9'223'372'036'854'775'807ULL;

/// @brief The longest group name or member id the store accepts, in bytes.
inline constexpr std::size_t max_group_name_bytes = 255;

/// @brief One partition's progress, as a member commits it.
struct Checkpoint {
  PartitionId partition = 0;  ///< The partition.
  std::uint64_t offset = 0;   ///< The offset of the next event to process (all before it are done).
};

/// @brief One partition's stored state.
struct PartitionCheckpoint {
  std::uint64_t offset = 0;  ///< Committed offset: where a new owner resumes (0: from the start).
  std::uint64_t generation = 0;  ///< The highest generation granted or committed (0: none yet).
  MemberId owner;                ///< The member it was last granted to (empty: never granted).
  /// @brief Equal when every field is.
  friend bool operator==(const PartitionCheckpoint&, const PartitionCheckpoint&) = default;
};

/// @brief Why the store refused a request.
enum class CheckpointRefusal {
  stale_generation,          ///< The request's generation is older than the partition's.
  not_owner,                 ///< The committing member is not the one the partition was last
                             ///< granted to (or it was never granted).
  offset_backwards,          ///< The offset is below the committed one: offsets never go back.
  unknown_group,             ///< No group of that name was registered.
  unknown_partition,         ///< The partition index is not below the group's partition count.
  value_out_of_range,        ///< An offset or generation above max_checkpoint_value (e.g. a
                             ///< negative number cast to unsigned).
  duplicate_partition,       ///< One request names a partition twice.
  partition_count_mismatch,  ///< The group exists with another partition count.
  invalid_group_name,        ///< Empty, or longer than max_group_name_bytes.
  invalid_member_id,         ///< Empty, or longer than max_group_name_bytes.
};

/// @brief A short, stable name for a refusal (`"stale_generation"`, ...).
std::string_view to_string(CheckpointRefusal refusal) noexcept;

/// @brief A request the checkpoint store refused; nothing of it was stored.
///
/// Its category is ErrorCategory::conflict for a stale generation or another owner (the
/// partition has moved on: rejoin and resume from the committed offset) and
/// ErrorCategory::application otherwise (the request itself is wrong: do not retry it as it is).
class CheckpointRejected : public Error {
 public:
  /// @brief A refusal of kind `refusal`, with a message saying what and why.
  CheckpointRejected(CheckpointRefusal refusal, const std::string& message);
  /// @brief Why the request was refused.
  [[nodiscard]] CheckpointRefusal refusal() const noexcept { return refusal_; }

 private:
  CheckpointRefusal refusal_;
};

/// @brief A request from a generation older than the partition's: a zombie member's commit
///        after a rebalance. Nothing was stored.
class StaleGeneration : public CheckpointRejected {
 public:
  /// @brief The refusal of a request from `request_generation` on `partition`, held by
  ///        `partition_generation`.
  StaleGeneration(std::string_view group, PartitionId partition, std::uint64_t request_generation,
                  std::uint64_t partition_generation);
};

/// @brief A commit from a member that does not own the partition (any more): a zombie member's
///        commit after its partition was granted to another. Nothing was stored.
class NotOwner : public CheckpointRejected {
 public:
  /// @brief The refusal of `member`'s commit of `partition`, granted to `owner` (empty: never
  ///        granted).
  NotOwner(std::string_view group, PartitionId partition, std::string_view member,
           std::string_view owner);
};

/// @brief The committed offsets of consumer groups, one SQLite file, durable across restarts of
///        the members and of the coordinator.
///
/// Every request is one transaction: a commit of several partitions stores all of them or, when
/// any one is refused, none.
///
/// @par Example
/// @code
/// eda::scaling::CheckpointStore store("billing-checkpoints.db");
/// store.register_group("billing", 16);
/// store.fence("billing", "billing-2", 3, {5});       // generation 3 granted partition 5
/// store.commit("billing", "billing-2", 3, {{5, 120}});  // offsets 0..119 are done
/// store.commit("billing", "billing-1", 3, {{5, 130}});  // throws NotOwner: a zombie
/// @endcode
///
/// @par Thread safety
/// None: one thread per store object (the coordinator's). Several processes may open one file;
/// SQLite serialises their writes.
class CheckpointStore {
 public:
  /// @brief Opens (creating if needed) the store in `path`; throws eda::StorageError saying why
  ///        it cannot.
  explicit CheckpointStore(const std::string& path,
                           sqlite::Durability durability = sqlite::Durability::full);

  /// @brief Registers `group` with `partition_count` partitions, each at offset 0 and
  ///        generation 0. Registering it again with the same count does nothing.
  ///
  /// Throws std::invalid_argument for a count outside 1..max_partitions, and CheckpointRejected
  /// for an invalid name or a group registered with another count (partitions cannot be added
  /// without moving keys: the partitioner's modulo would change).
  void register_group(std::string_view group, std::uint32_t partition_count);

  /// @brief The group's partition count, or nothing when it is not registered.
  [[nodiscard]] std::optional<std::uint32_t> partition_count(std::string_view group) const;

  /// @brief Records that `generation` granted `partitions` to `owner`: commits from other
  ///        members or older generations are refused from now on. The coordinator calls it
  ///        before a new owner starts (see GroupCoordinator::take_grants).
  ///
  /// Throws StaleGeneration when a partition already has a newer generation, CheckpointRejected
  /// for bad input; then nothing changed.
  void fence(std::string_view group, std::string_view owner, std::uint64_t generation,
             const std::vector<PartitionId>& partitions);

  /// @brief Commits the offsets of several partitions of `group` for `member`, which knows
  ///        `generation`, all or none.
  ///
  /// Each partition must have been granted to `member` (else NotOwner), its generation must not
  /// be newer than `generation` (else StaleGeneration), and the new offset must not be below the
  /// committed one (recommitting the same offset is fine). A commit raises each partition's
  /// generation to `generation`. Throws CheckpointRejected for an unknown group or partition, a
  /// value above max_checkpoint_value, a partition named twice, or an empty or too long member
  /// id; then nothing changed.
  void commit(std::string_view group, std::string_view member, std::uint64_t generation,
              const std::vector<Checkpoint>& checkpoints);

  /// @brief The stored state of one partition; throws CheckpointRejected for an unknown group or
  ///        partition, eda::StorageError when the file holds a value the store never writes.
  [[nodiscard]] PartitionCheckpoint read(std::string_view group, PartitionId partition) const;

  /// @brief The stored state of every partition of `group`, by partition index.
  [[nodiscard]] std::vector<PartitionCheckpoint> read_all(std::string_view group) const;

  /// @brief The file.
  [[nodiscard]] const std::string& path() const noexcept { return db_.path(); }

 private:
  /// Creates the tables before the statements below are prepared against them.
  struct Schema {
    explicit Schema(const sqlite::Database& db);
  };

  /// The group's partition count; throws CheckpointRejected when it is not registered.
  std::uint32_t require_group(std::string_view group) const;
  /// Reads one partition's row inside the current transaction (or on its own).
  PartitionCheckpoint read_row(std::string_view group, PartitionId partition) const;

  sqlite::Database db_;
  Schema schema_;
  mutable sqlite::Statement select_group_;
  mutable sqlite::Statement insert_group_;
  mutable sqlite::Statement insert_partition_;
  mutable sqlite::Statement select_partition_;
  mutable sqlite::Statement select_partitions_;
  mutable sqlite::Statement update_partition_;
};

}  // namespace eda::scaling
