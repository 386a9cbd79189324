// The per-partition event logs: one SQLite table keyed by (partition, offset).
#include "eda/scaling/partition_log.hpp"

#include <stdexcept>

namespace eda::scaling {
namespace {

constexpr const char* schema_sql = R"sql(
CREATE TABLE IF NOT EXISTS log_meta (
  partition_count INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS partition_log (
  partition_id INTEGER NOT NULL,
  log_offset   INTEGER NOT NULL,
  event_key    TEXT    NOT NULL,
  envelope     BLOB    NOT NULL,
  PRIMARY KEY (partition_id, log_offset)
) WITHOUT ROWID;
)sql";

/// Creates the tables, records the partition count in a new file and checks it in an old one;
/// returns the connection, for the statements.
sqlite3* with_schema(const sqlite::Database& db, std::uint32_t partition_count) {
  check_partition_count(partition_count, "PartitionLog");
  sqlite::Transaction transaction(db);
  db.exec(schema_sql);
  sqlite::Statement stored(db.handle(), "SELECT partition_count FROM log_meta");
  if (stored.step()) {
    const std::int64_t count = stored.integer(0);
    stored.done();
    if (count != partition_count) {
      throw StorageError("partition log " + db.path() + " has " + std::to_string(count) +
                         " partitions, not " + std::to_string(partition_count) +
                         ": keys would land on other partitions than before");
    }
  } else {
    sqlite::Statement insert(db.handle(), "INSERT INTO log_meta (partition_count) VALUES (?)");
    insert.bind(static_cast<std::int64_t>(partition_count)).run();
  }
  transaction.commit();
  return db.handle();
}

}  // namespace

PartitionLog::PartitionLog(const std::string& path, std::uint32_t partition_count,
                           sqlite::Durability durability)
    : db_(path, durability, "partition log"),
      partition_count_(partition_count),
      insert_(with_schema(db_, partition_count),
              "INSERT INTO partition_log (partition_id, log_offset, event_key, envelope) "
              "VALUES (?1, (SELECT coalesce(max(log_offset) + 1, 0) FROM partition_log "
              "WHERE partition_id = ?1), ?2, ?3) RETURNING log_offset"),
      read_(db_.handle(),
            "SELECT log_offset, event_key, envelope FROM partition_log WHERE partition_id = ? "
            "AND log_offset >= ? ORDER BY log_offset LIMIT ?"),
      end_(db_.handle(),
           "SELECT coalesce(max(log_offset) + 1, 0) FROM partition_log WHERE partition_id = ?"),
      ends_(db_.handle(),
            "SELECT partition_id, max(log_offset) + 1 FROM partition_log GROUP BY partition_id") {}

void PartitionLog::check(PartitionId partition) const {
  if (partition >= partition_count_) {
    throw std::invalid_argument("the partition log has partitions 0 to " +
                                std::to_string(partition_count_ - 1) + ", not " +
                                std::to_string(partition));
  }
}

std::vector<std::uint64_t> PartitionLog::append(const std::vector<LogAppend>& events) {
  for (const LogAppend& event : events) check(event.partition);
  std::vector<std::uint64_t> offsets;
  offsets.reserve(events.size());
  // One write transaction (BEGIN IMMEDIATE): two producers queue, so offsets never collide.
  sqlite::Transaction transaction(db_);
  for (const LogAppend& event : events) {
    insert_.bind(static_cast<std::int64_t>(event.partition), std::string_view(event.key),
                 sqlite::Statement::as_blob(event.envelope));
    insert_.step();
    offsets.push_back(static_cast<std::uint64_t>(insert_.integer(0)));
    insert_.done();
  }
  transaction.commit();
  return offsets;
}

std::vector<LoggedEvent> PartitionLog::read(PartitionId partition, std::uint64_t from,
                                            std::size_t limit) const {
  check(partition);
  std::vector<LoggedEvent> events;
  read_.bind(static_cast<std::int64_t>(partition), from, static_cast<std::int64_t>(limit));
  while (read_.step()) {
    events.push_back(LoggedEvent{static_cast<std::uint64_t>(read_.integer(0)),
                                 std::string(read_.text(1)), std::string(read_.blob(2))});
  }
  read_.done();
  return events;
}

std::uint64_t PartitionLog::end_offset(PartitionId partition) const {
  check(partition);
  return static_cast<std::uint64_t>(
      end_.bind(static_cast<std::int64_t>(partition)).single_integer());
}

std::vector<std::uint64_t> PartitionLog::end_offsets() const {
  std::vector<std::uint64_t> ends(partition_count_, 0);
  ends_.bind();
  while (ends_.step()) {
    const auto partition = static_cast<std::uint64_t>(ends_.integer(0));
    if (partition < ends.size()) ends[partition] = static_cast<std::uint64_t>(ends_.integer(1));
  }
  ends_.done();
  return ends;
}

}  // namespace eda::scaling
