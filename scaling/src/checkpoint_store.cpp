// The checkpoint store: committed offsets per (group, partition) in SQLite, each request one
// transaction, with the per-partition generation fence.
#include "eda/scaling/checkpoint_store.hpp"

#include <algorithm>
#include <stdexcept>

namespace eda::scaling {
namespace {

constexpr const char* schema_sql = R"sql(
CREATE TABLE IF NOT EXISTS consumer_groups (
  group_name      TEXT    NOT NULL PRIMARY KEY,
  partition_count INTEGER NOT NULL CHECK (partition_count BETWEEN 1 AND 65536)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS partition_checkpoints (
  group_name       TEXT    NOT NULL REFERENCES consumer_groups (group_name),
  partition_id     INTEGER NOT NULL CHECK (partition_id >= 0),
  generation       INTEGER NOT NULL CHECK (generation >= 0),
  committed_offset INTEGER NOT NULL CHECK (committed_offset >= 0),
  owner            TEXT,
  PRIMARY KEY (group_name, partition_id)
) WITHOUT ROWID;
)sql";

ErrorCategory category_of(CheckpointRefusal refusal) {
  return refusal == CheckpointRefusal::stale_generation || refusal == CheckpointRefusal::not_owner
             ? ErrorCategory::conflict
             : ErrorCategory::application;
}

std::string quoted(std::string_view group) { return "'" + printable(group) + "'"; }

void check_group_name(std::string_view group) {
  if (group.empty() || group.size() > max_group_name_bytes) {
    throw CheckpointRejected(CheckpointRefusal::invalid_group_name,
                             "a group name has 1 to " + std::to_string(max_group_name_bytes) +
                                 " bytes, not " + std::to_string(group.size()));
  }
}

void check_member_id(std::string_view member) {
  if (member.empty() || member.size() > max_group_name_bytes) {
    throw CheckpointRejected(CheckpointRefusal::invalid_member_id,
                             "a member id has 1 to " + std::to_string(max_group_name_bytes) +
                                 " bytes, not " + std::to_string(member.size()));
  }
}

void check_value(std::uint64_t value, const char* what, std::string_view group) {
  if (value > max_checkpoint_value) {
    throw CheckpointRejected(CheckpointRefusal::value_out_of_range,
                             std::string(what) + " " + std::to_string(value) + " for group " +
                                 quoted(group) + " is above the largest the store keeps (" +
                                 std::to_string(max_checkpoint_value) +
                                 "): a negative number cast to unsigned?");
  }
}

void check_partition(PartitionId partition, std::uint32_t partition_count, std::string_view group) {
  if (partition >= partition_count) {
    throw CheckpointRejected(CheckpointRefusal::unknown_partition,
                             "group " + quoted(group) + " has partitions 0 to " +
                                 std::to_string(partition_count - 1) + ", not " +
                                 std::to_string(partition));
  }
}

void check_no_duplicates(std::vector<PartitionId> partitions, std::string_view group) {
  std::sort(partitions.begin(), partitions.end());
  const auto twice = std::adjacent_find(partitions.begin(), partitions.end());
  if (twice != partitions.end()) {
    throw CheckpointRejected(CheckpointRefusal::duplicate_partition,
                             "one request for group " + quoted(group) + " names partition " +
                                 std::to_string(*twice) + " twice");
  }
}

/// Ends a statement's run however the scope is left (a value that fails a check throws while
/// the statement is still on a row, which would keep its read transaction open).
class EndRun {
 public:
  explicit EndRun(sqlite::Statement& statement) : statement_(statement) {}
  ~EndRun() { statement_.done(); }
  EndRun(const EndRun&) = delete;
  EndRun& operator=(const EndRun&) = delete;

 private:
  sqlite::Statement& statement_;
};

std::int64_t as_column(std::uint64_t checked_value) {
  return static_cast<std::int64_t>(checked_value);
}

/// A stored value, which the table's CHECKs keep at 0 or above; anything else is a file that
/// something other than this store wrote.
std::uint64_t from_column(std::int64_t value, const char* what, const std::string& path) {
  if (value < 0) {
    throw StorageError("checkpoint store " + path + " holds " + what + " " + std::to_string(value) +
                       ", which it never writes: the file was changed "
                       "by something else; restore it from a backup");
  }
  return static_cast<std::uint64_t>(value);
}

}  // namespace

std::string_view to_string(CheckpointRefusal refusal) noexcept {
  switch (refusal) {
    case CheckpointRefusal::stale_generation:
      return "stale_generation";
    case CheckpointRefusal::not_owner:
      return "not_owner";
    case CheckpointRefusal::offset_backwards:
      return "offset_backwards";
    case CheckpointRefusal::unknown_group:
      return "unknown_group";
    case CheckpointRefusal::unknown_partition:
      return "unknown_partition";
    case CheckpointRefusal::value_out_of_range:
      return "value_out_of_range";
    case CheckpointRefusal::duplicate_partition:
      return "duplicate_partition";
    case CheckpointRefusal::partition_count_mismatch:
      return "partition_count_mismatch";
    case CheckpointRefusal::invalid_group_name:
      return "invalid_group_name";
    case CheckpointRefusal::invalid_member_id:
      return "invalid_member_id";
  }
  return "unknown";
}

CheckpointRejected::CheckpointRejected(CheckpointRefusal refusal, const std::string& message)
    : Error(category_of(refusal),
            "checkpoint refused (" + std::string(to_string(refusal)) + "): " + message),
      refusal_(refusal) {}

StaleGeneration::StaleGeneration(std::string_view group, PartitionId partition,
                                 std::uint64_t request_generation,
                                 std::uint64_t partition_generation)
    : CheckpointRejected(CheckpointRefusal::stale_generation,
                         "partition " + std::to_string(partition) + " of group " + quoted(group) +
                             " belongs to generation " + std::to_string(partition_generation) +
                             ", the request is from generation " +
                             std::to_string(request_generation) +
                             ": the partition moved in a rebalance; rejoin the group and resume "
                             "from its committed offset") {}

NotOwner::NotOwner(std::string_view group, PartitionId partition, std::string_view member,
                   std::string_view owner)
    : CheckpointRejected(CheckpointRefusal::not_owner,
                         "partition " + std::to_string(partition) + " of group " + quoted(group) +
                             (owner.empty() ? std::string(" was never granted to anyone")
                                            : " was granted to " + quoted(owner)) +
                             ", not to " + quoted(member) +
                             ": a member commits only what it owns; rejoin the group") {}

CheckpointStore::Schema::Schema(const sqlite::Database& db) { db.exec(schema_sql); }

CheckpointStore::CheckpointStore(const std::string& path, sqlite::Durability durability)
    : db_(path, durability, "checkpoint store"),
      schema_(db_),
      select_group_(db_.handle(),
                    "SELECT partition_count FROM consumer_groups WHERE group_name = ?"),
      insert_group_(db_.handle(),
                    "INSERT INTO consumer_groups (group_name, partition_count) VALUES (?, ?)"),
      insert_partition_(db_.handle(),
                        "INSERT INTO partition_checkpoints "
                        "(group_name, partition_id, generation, committed_offset) "
                        "VALUES (?, ?, 0, 0)"),
      select_partition_(db_.handle(),
                        "SELECT generation, committed_offset, owner FROM partition_checkpoints "
                        "WHERE group_name = ? AND partition_id = ?"),
      select_partitions_(db_.handle(),
                         "SELECT partition_id, generation, committed_offset, owner "
                         "FROM partition_checkpoints WHERE group_name = ? ORDER BY partition_id"),
      update_partition_(db_.handle(),
                        "UPDATE partition_checkpoints SET generation = ?, committed_offset = ?, "
                        "owner = ? "
                        "WHERE group_name = ? AND partition_id = ?") {}

std::optional<std::uint32_t> CheckpointStore::partition_count(std::string_view group) const {
  select_group_.bind(group);
  if (!select_group_.step()) {
    select_group_.done();
    return std::nullopt;
  }
  const std::int64_t count = select_group_.integer(0);
  select_group_.done();
  if (count < 1 || count > static_cast<std::int64_t>(max_partitions)) {
    throw StorageError("checkpoint store " + path() + " gives group " + quoted(group) + " " +
                       std::to_string(count) +
                       " partitions, which it never writes: the file was changed by something "
                       "else; restore it from a backup");
  }
  return static_cast<std::uint32_t>(count);
}

std::uint32_t CheckpointStore::require_group(std::string_view group) const {
  check_group_name(group);
  const auto count = partition_count(group);
  if (!count) {
    throw CheckpointRejected(CheckpointRefusal::unknown_group,
                             "no group " + quoted(group) + " is registered");
  }
  return *count;
}

void CheckpointStore::register_group(std::string_view group, std::uint32_t partition_count) {
  check_partition_count(partition_count, "CheckpointStore::register_group");
  check_group_name(group);
  sqlite::Transaction transaction(db_);
  if (const auto existing = this->partition_count(group)) {
    if (*existing != partition_count) {
      throw CheckpointRejected(CheckpointRefusal::partition_count_mismatch,
                               "group " + quoted(group) + " has " + std::to_string(*existing) +
                                   " partitions, not " + std::to_string(partition_count) +
                                   " (a new count would move keys between partitions)");
    }
    return;  // the transaction rolls back: nothing was written
  }
  insert_group_.bind(group, std::int64_t{partition_count}).run();
  for (std::uint32_t p = 0; p < partition_count; ++p) {
    insert_partition_.bind(group, std::int64_t{p}).run();
  }
  transaction.commit();
}

PartitionCheckpoint CheckpointStore::read_row(std::string_view group, PartitionId partition) const {
  select_partition_.bind(group, std::int64_t{partition});
  const EndRun end(select_partition_);
  if (!select_partition_.step()) {
    throw StorageError("checkpoint store " + path() + " has no row for partition " +
                       std::to_string(partition) + " of group " + quoted(group) +
                       ": the file was changed by something else; restore it from a backup");
  }
  PartitionCheckpoint row;
  row.generation = from_column(select_partition_.integer(0), "generation", path());
  row.offset = from_column(select_partition_.integer(1), "offset", path());
  row.owner = select_partition_.text(2);
  return row;
}

void CheckpointStore::fence(std::string_view group, std::string_view owner,
                            std::uint64_t generation, const std::vector<PartitionId>& partitions) {
  check_group_name(group);
  check_member_id(owner);
  check_value(generation, "generation", group);
  sqlite::Transaction transaction(db_);
  const std::uint32_t count = require_group(group);
  for (const PartitionId p : partitions) check_partition(p, count, group);
  check_no_duplicates(partitions, group);
  for (const PartitionId p : partitions) {
    const PartitionCheckpoint row = read_row(group, p);
    if (generation < row.generation) {
      throw StaleGeneration(group, p, generation, row.generation);
    }
    update_partition_
        .bind(as_column(generation), as_column(row.offset), owner, group, std::int64_t{p})
        .run();
  }
  transaction.commit();
}

void CheckpointStore::commit(std::string_view group, std::string_view member,
                             std::uint64_t generation, const std::vector<Checkpoint>& checkpoints) {
  check_group_name(group);
  check_member_id(member);
  check_value(generation, "generation", group);
  std::vector<PartitionId> partitions;
  partitions.reserve(checkpoints.size());
  for (const Checkpoint& c : checkpoints) {
    check_value(c.offset, "offset", group);
    partitions.push_back(c.partition);
  }
  sqlite::Transaction transaction(db_);
  const std::uint32_t count = require_group(group);
  for (const PartitionId p : partitions) check_partition(p, count, group);
  check_no_duplicates(partitions, group);
  for (const Checkpoint& c : checkpoints) {
    const PartitionCheckpoint row = read_row(group, c.partition);
    if (row.owner != member) {
      throw NotOwner(group, c.partition, member, row.owner);
    }
    if (generation < row.generation) {
      throw StaleGeneration(group, c.partition, generation, row.generation);
    }
    if (c.offset < row.offset) {
      throw CheckpointRejected(CheckpointRefusal::offset_backwards,
                               "partition " + std::to_string(c.partition) + " of group " +
                                   quoted(group) + " is committed up to offset " +
                                   std::to_string(row.offset) + "; offsets never go back (to " +
                                   std::to_string(c.offset) + ")");
    }
    update_partition_
        .bind(as_column(generation), as_column(c.offset), member, group, std::int64_t{c.partition})
        .run();
  }
  transaction.commit();
}

PartitionCheckpoint CheckpointStore::read(std::string_view group, PartitionId partition) const {
  const std::uint32_t count = require_group(group);
  check_partition(partition, count, group);
  return read_row(group, partition);
}

std::vector<PartitionCheckpoint> CheckpointStore::read_all(std::string_view group) const {
  const std::uint32_t count = require_group(group);
  std::vector<PartitionCheckpoint> result(count);
  std::vector<bool> seen(count, false);
  {
    select_partitions_.bind(group);
    const EndRun end(select_partitions_);
    while (select_partitions_.step()) {
      const std::int64_t p = select_partitions_.integer(0);
      if (p < 0 || p >= static_cast<std::int64_t>(count)) {
        throw StorageError("checkpoint store " + path() + " holds partition " + std::to_string(p) +
                           " of group " + quoted(group) + ", which has " + std::to_string(count) +
                           ": the file was changed by something else; restore it from a backup");
      }
      const auto index = static_cast<std::size_t>(p);
      result[index].generation = from_column(select_partitions_.integer(1), "generation", path());
      result[index].offset = from_column(select_partitions_.integer(2), "offset", path());
      result[index].owner = select_partitions_.text(3);
      seen[index] = true;
    }
  }
  if (std::find(seen.begin(), seen.end(), false) != seen.end()) {
    throw StorageError("checkpoint store " + path() + " lacks partitions of group " +
                       quoted(group) +
                       ": the file was changed by something else; restore it from a backup");
  }
  return result;
}

}  // namespace eda::scaling
