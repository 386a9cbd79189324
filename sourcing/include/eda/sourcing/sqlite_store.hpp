/// @file sqlite_store.hpp
/// @brief The embedded default EventStore: one SQLite file in WAL mode, durable by default.
///
/// The schema is one table; the position is SQLite's rowid, assigned at insert under the
/// database's single write lock, so positions grow in commit order and a reader never sees a
/// later position before an earlier one:
///
/// ```sql
/// CREATE TABLE events (
///   position INTEGER PRIMARY KEY,      -- global order, from 1
///   stream   TEXT    NOT NULL,
///   version  INTEGER NOT NULL,         -- 1, 2, 3, ... per stream
///   event_id TEXT    NOT NULL UNIQUE,  -- idempotent appends
///   type     TEXT    NOT NULL,
///   envelope BLOB    NOT NULL,         -- the kit's MessagePack envelope
///   UNIQUE (stream, version));         -- no two writers can both get version N
/// CREATE TABLE snapshots (                -- the latest state per stream, a cache
///   stream TEXT PRIMARY KEY, version INTEGER NOT NULL,
///   schema_version INTEGER NOT NULL, state BLOB NOT NULL);
/// ```
#pragma once

#include <memory>
#include <optional>
#include <mutex>
#include <string>

#include "eda/sourcing/event_store.hpp"
#include "eda/sqlite/database.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace eda::sourcing {

/// @brief How hard a SQLite store works to keep a committed append across a crash (the SQLite
///        layer's setting, under the name the stores' options use).
using Durability = sqlite::Durability;

/// @brief How a SqliteEventStore is opened.
struct SqliteStoreOptions {
  std::string path{};                        ///< The database file (created when absent).
  Durability durability = Durability::full;  ///< See Durability.
  int busy_timeout_ms = 10'000;  ///< How long a writer waits for another process's lock.
};

/// @brief An EventStore in one SQLite file. Several processes may open the same file: each
///        append is one `BEGIN IMMEDIATE` transaction, and the UNIQUE constraints make a lost
///        race a ConcurrencyConflict, never a duplicate version.
///
/// @par Thread safety
/// All members may be called concurrently; they share one connection, one call at a time.
class SqliteEventStore final : public EventStore {
 public:
  /// @brief Opens (creating if needed) the store at `options.path`; throws eda::StorageError
  ///        naming the file when it cannot be opened or is not an event store.
  explicit SqliteEventStore(SqliteStoreOptions options);
  ~SqliteEventStore() override;
  SqliteEventStore(const SqliteEventStore&) = delete;             ///< Owns a connection.
  SqliteEventStore& operator=(const SqliteEventStore&) = delete;  ///< Owns a connection.

  AppendResult append(std::string_view stream, const ExpectedVersion& expected,
                      std::span<const EventData> events) override;
  [[nodiscard]] std::vector<RecordedEvent> read_stream(std::string_view stream, std::uint64_t from,
                                                       std::size_t max_count,
                                                       Direction direction) const override;
  [[nodiscard]] std::vector<RecordedEvent> read_all(std::uint64_t from,
                                                    std::size_t max_count) const override;
  [[nodiscard]] std::uint64_t stream_version(std::string_view stream) const override;
  [[nodiscard]] std::uint64_t last_position() const override;
  /// @brief Group commit: all of `requests` in one transaction (one fsync), each append of
  ///        several events in a savepoint of its own so that one conflict does not undo the
  ///        others (an append of one event is one INSERT, undone on its own by SQLite).
  std::vector<AppendOutcome> append_all(std::span<const AppendRequest> requests) override;
  void save_snapshot(std::string_view stream, const Snapshot& snapshot) override;
  [[nodiscard]] std::optional<Snapshot> load_snapshot(std::string_view stream) const override;

  /// @brief Runs `PRAGMA integrity_check`; returns `ok` or SQLite's list of problems.
  [[nodiscard]] std::string integrity_check() const;

 private:
  struct Connection;
  AppendResult append_in_transaction(std::string_view stream, const ExpectedVersion& expected,
                                     std::span<const EventData> events,
                                     std::optional<std::uint64_t> known_version = std::nullopt);
  SqliteStoreOptions options_;
  mutable std::mutex mutex_;
  std::unique_ptr<Connection> db_;
};

}  // namespace eda::sourcing
