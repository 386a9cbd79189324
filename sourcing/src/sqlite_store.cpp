#include "eda/sourcing/sqlite_store.hpp"

#include <sqlite3.h>

#include <limits>
#include <unordered_map>
#include <utility>

#include "eda/sourcing/store_support.hpp"
#include "eda/sqlite/database.hpp"

namespace eda::sourcing {

using sqlite::exec;
using sqlite::Statement;
/// The connection and its prepared statements (prepared once: appends and reads are hot).
struct SqliteEventStore::Connection {
  explicit Connection(const SqliteStoreOptions& options)
      : database(options.path, options.durability, "event store", options.busy_timeout_ms),
        db(database.handle()) {
    exec(db, "PRAGMA mmap_size=1073741824", options.path);
    exec(db,
         "CREATE TABLE IF NOT EXISTS events ("
         " position INTEGER PRIMARY KEY,"
         " stream TEXT NOT NULL,"
         " version INTEGER NOT NULL,"
         " event_id TEXT NOT NULL UNIQUE,"
         " type TEXT NOT NULL,"
         " envelope BLOB NOT NULL,"
         " UNIQUE (stream, version))",
         options.path);
    exec(db,
         "CREATE TABLE IF NOT EXISTS snapshots ("
         " stream TEXT PRIMARY KEY,"
         " version INTEGER NOT NULL,"
         " schema_version INTEGER NOT NULL,"
         " state BLOB NOT NULL)",
         options.path);
    prepare();
  }

  void prepare() {
    find_id = std::make_unique<Statement>(
        db, "SELECT stream, version, position FROM events WHERE event_id = ?");
    version_of =
        std::make_unique<Statement>(db, "SELECT max(version) FROM events WHERE stream = ?");
    insert = std::make_unique<Statement>(
        db,
        "INSERT INTO events (stream, version, event_id, type, envelope) VALUES (?, ?, ?, ?, ?)");
    forward = std::make_unique<Statement>(
        db,
        "SELECT version, position, envelope FROM events WHERE stream = ? AND version >= ? "
        "ORDER BY version LIMIT ?");
    backward = std::make_unique<Statement>(
        db,
        "SELECT version, position, envelope FROM events WHERE stream = ? AND version <= ? "
        "ORDER BY version DESC LIMIT ?");
    all = std::make_unique<Statement>(
        db,
        "SELECT stream, version, position, envelope FROM events WHERE position >= ? "
        "ORDER BY position LIMIT ?");
    last = std::make_unique<Statement>(db, "SELECT max(position) FROM events");
    save_snapshot = std::make_unique<Statement>(
        db,
        "INSERT INTO snapshots (stream, version, schema_version, state) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (stream) DO UPDATE SET version = excluded.version, "
        "schema_version = excluded.schema_version, state = excluded.state "
        "WHERE excluded.version >= snapshots.version");
    load_snapshot = std::make_unique<Statement>(
        db, "SELECT version, schema_version, state FROM snapshots WHERE stream = ?");
    begin = std::make_unique<Statement>(db, "BEGIN IMMEDIATE");
    savepoint = std::make_unique<Statement>(db, "SAVEPOINT one_append");
    release = std::make_unique<Statement>(db, "RELEASE one_append");
    rollback_to = std::make_unique<Statement>(db, "ROLLBACK TO one_append");
    commit = std::make_unique<Statement>(db, "COMMIT");
    rollback = std::make_unique<Statement>(db, "ROLLBACK");
  }

  // The database first: members are destroyed in reverse order, so every statement is
  // finalized before the connection closes.
  sqlite::Database database;
  sqlite3* db;
  std::unique_ptr<Statement> find_id, version_of, insert, forward, backward, all, last,
      save_snapshot, load_snapshot, begin, savepoint, release, rollback_to, commit, rollback;
};

SqliteEventStore::SqliteEventStore(SqliteStoreOptions options)
    : options_(std::move(options)), db_(std::make_unique<Connection>(options_)) {}

SqliteEventStore::~SqliteEventStore() = default;

/// One append inside an open transaction (the caller commits or rolls back); checks retries
/// and the expected version, inserts the events. `known_version`: the stream's version when
/// the caller knows it (an earlier append of the same transaction left it there).
AppendResult SqliteEventStore::append_in_transaction(std::string_view stream,
                                                     const ExpectedVersion& expected,
                                                     std::span<const EventData> events,
                                                     std::optional<std::uint64_t> known_version) {
  Connection& c = *db_;
  std::vector<std::optional<detail::StoredAt>> found;
  for (const EventData& event : events) {
    if (c.find_id->bind(std::string_view(event.event_id)).step()) {
      found.emplace_back(detail::StoredAt{std::string(c.find_id->text(0)),
                                          static_cast<std::uint64_t>(c.find_id->integer(1)),
                                          static_cast<std::uint64_t>(c.find_id->integer(2))});
    } else {
      found.emplace_back();
    }
    c.find_id->done();
  }
  if (auto retry = detail::check_retry(stream, found)) {
    return *retry;
  }
  const auto current =
      known_version ? *known_version
                    : static_cast<std::uint64_t>(c.version_of->bind(stream).single_integer());
  if (!expected.allows(current)) {
    throw ConcurrencyConflict(std::string(stream), expected, current);
  }
  AppendResult result{current + 1, current + events.size(), 0, 0, false};
  std::uint64_t version = current;
  for (const EventData& event : events) {
    c.insert
        ->bind(stream, ++version, std::string_view(event.event_id), std::string_view(event.type),
               Statement::as_blob(event.envelope))
        .run();
    const auto position = static_cast<std::uint64_t>(sqlite3_last_insert_rowid(c.db));
    if (result.first_position == 0) result.first_position = position;
    result.last_position = position;
  }
  return result;
}

AppendResult SqliteEventStore::append(std::string_view stream, const ExpectedVersion& expected,
                                      std::span<const EventData> events) {
  detail::check_batch(stream, events);
  std::lock_guard lock(mutex_);
  Connection& c = *db_;
  // BEGIN IMMEDIATE takes the write lock now (waiting up to busy_timeout for other
  // processes), so the version read inside cannot change before the inserts.
  c.begin->bind().run();
  try {
    const AppendResult result = append_in_transaction(stream, expected, events);
    c.commit->bind().run();  // a retry stored nothing: committing an empty change is free
    return result;
  } catch (...) {
    c.rollback->bind().run();
    throw;
  }
}

std::vector<AppendOutcome> SqliteEventStore::append_all(std::span<const AppendRequest> requests) {
  std::vector<AppendOutcome> outcomes(requests.size());
  const std::vector<bool> valid = detail::check_group(requests, outcomes);
  std::lock_guard lock(mutex_);
  Connection& c = *db_;
  // Group commit: one transaction, so one fsync, for the whole group. An append of several
  // events runs in a savepoint of its own, so a conflict undoes that append only; an append
  // of one event needs none: it is one INSERT, and a failed statement is undone by SQLite
  // alone (the transaction goes on), which saves two statements per event.
  c.begin->bind().run();
  // The versions this group has left its streams at, so that the next append to the same
  // stream needs no lookup (the keys view `requests`, which outlives the loop).
  std::unordered_map<std::string_view, std::uint64_t> versions;
  try {
    for (std::size_t i = 0; i < requests.size(); ++i) {
      if (!valid[i]) continue;
      const AppendRequest& request = requests[i];
      const bool in_savepoint = request.events.size() > 1;
      if (in_savepoint) c.savepoint->bind().run();
      try {
        const auto known = versions.find(request.stream);
        const AppendResult result = append_in_transaction(
            request.stream, request.expected, request.events,
            known == versions.end() ? std::nullopt : std::optional(known->second));
        if (in_savepoint) c.release->bind().run();
        if (!result.already_stored) versions[request.stream] = result.last_version;
        outcomes[i].result = result;
      } catch (const std::exception&) {
        outcomes[i].failure = detail::append_failure(request);
        // An I/O error or a full disk can make SQLite roll the whole transaction back: then
        // nothing of the group is stored, and the handler below says so for every append.
        if (sqlite3_get_autocommit(c.db) != 0) throw;
        if (in_savepoint) {
          c.rollback_to->bind().run();
          c.release->bind().run();
        }
      }
    }
    c.commit->bind().run();
  } catch (...) {
    // The commit itself failed (disk full, I/O error), or SQLite rolled the transaction back:
    // nothing of the group is stored.
    if (sqlite3_get_autocommit(c.db) == 0) c.rollback->bind().run();
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
      if (outcomes[i].result) {
        outcomes[i].result.reset();
        outcomes[i].failure = detail::append_failure(requests[i]);
      }
    }
  }
  return outcomes;
}

std::vector<RecordedEvent> SqliteEventStore::read_stream(std::string_view stream,
                                                         std::uint64_t from, std::size_t max_count,
                                                         Direction direction) const {
  std::lock_guard lock(mutex_);
  std::vector<RecordedEvent> out;
  if (max_count == 0) return out;
  Statement& query = direction == Direction::forward ? *db_->forward : *db_->backward;
  const std::uint64_t bound = direction == Direction::forward
                                  ? std::max<std::uint64_t>(from, 1)
                                  : (from == 0 ? std::numeric_limits<std::int64_t>::max() : from);
  const auto limit = static_cast<std::uint64_t>(
      std::min<std::size_t>(max_count, std::numeric_limits<std::int64_t>::max()));
  query.bind(stream, bound, limit);
  try {
    while (query.step()) {
      out.push_back(detail::recorded(std::string(stream),
                                     static_cast<std::uint64_t>(query.integer(0)),
                                     static_cast<std::uint64_t>(query.integer(1)), query.blob(2)));
    }
  } catch (...) {
    query.done();  // a corrupt row: end the read before reporting it
    throw;
  }
  return out;
}

std::vector<RecordedEvent> SqliteEventStore::read_all(std::uint64_t from,
                                                      std::size_t max_count) const {
  std::lock_guard lock(mutex_);
  std::vector<RecordedEvent> out;
  if (max_count == 0) return out;
  const auto limit = static_cast<std::uint64_t>(
      std::min<std::size_t>(max_count, std::numeric_limits<std::int64_t>::max()));
  // Growing a vector of these (a few hundred bytes each) row by row moves every event several
  // times; a page's worth up front, bounded for callers that ask for "everything".
  out.reserve(std::min<std::size_t>(max_count, 16'384));
  Statement& query = *db_->all;
  query.bind(std::max<std::uint64_t>(from, 1), limit);
  try {
    while (query.step()) {
      out.push_back(detail::recorded(std::string(query.text(0)),
                                     static_cast<std::uint64_t>(query.integer(1)),
                                     static_cast<std::uint64_t>(query.integer(2)), query.blob(3)));
    }
  } catch (...) {
    query.done();
    throw;
  }
  return out;
}

std::uint64_t SqliteEventStore::stream_version(std::string_view stream) const {
  std::lock_guard lock(mutex_);
  return static_cast<std::uint64_t>(db_->version_of->bind(stream).single_integer());
}

std::uint64_t SqliteEventStore::last_position() const {
  std::lock_guard lock(mutex_);
  return static_cast<std::uint64_t>(db_->last->bind().single_integer());
}

void SqliteEventStore::save_snapshot(std::string_view stream, const Snapshot& snapshot) {
  std::lock_guard lock(mutex_);
  db_->save_snapshot
      ->bind(stream, snapshot.version, static_cast<std::uint64_t>(snapshot.schema_version),
             Statement::as_blob(snapshot.state))
      .run();
}

std::optional<Snapshot> SqliteEventStore::load_snapshot(std::string_view stream) const {
  std::lock_guard lock(mutex_);
  Statement& query = *db_->load_snapshot;
  std::optional<Snapshot> snapshot;
  if (query.bind(stream).step()) {
    snapshot = Snapshot{static_cast<std::uint64_t>(query.integer(0)),
                        static_cast<std::uint32_t>(query.integer(1)), std::string(query.blob(2))};
  }
  query.done();
  return snapshot;
}

std::string SqliteEventStore::integrity_check() const {
  std::lock_guard lock(mutex_);
  Statement check(db_->db, "PRAGMA integrity_check");
  std::string result;
  while (check.step()) {
    if (!result.empty()) result += "\n";
    result += check.text(0);
  }
  return result;
}

}  // namespace eda::sourcing
