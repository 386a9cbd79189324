#include "eda/sourcing/postgres_store.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <utility>

#include "eda/sourcing/store_support.hpp"
#include "postgres_params.hpp"
#include "postgres_server.hpp"
#include "postgres_sql.hpp"  // generated from sourcing/sql/*.sql (embed_sql.cmake)

namespace eda::sourcing {

namespace {

using postgres::largest_bigint;
using postgres::Params;

// The parameter types as libpq takes them (Oid is libpq's name for the same 32-bit number).
constexpr Oid bytea_oid = postgres::oid::bytea;
constexpr Oid int8_oid = postgres::oid::int8;
constexpr Oid text_oid = postgres::oid::text;
constexpr Oid bytea_array_oid = postgres::oid::bytea_array;
constexpr Oid text_array_oid = postgres::oid::text_array;

// Serialises schema creation between processes opening the same new database at once
// (CREATE TABLE IF NOT EXISTS alone can still fail when two sessions race on it).
// The bytes of "eda-stor", as a key for pg_advisory_xact_lock.
constexpr const char* schema_lock_key = "7306071343340220274";

struct ResultDeleter {
  void operator()(PGresult* result) const noexcept { PQclear(result); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

/// Whether the UNIQUE constraint `constraint` refused the statement that raised `error` (a
/// row already there). A refused statement leaves a group's transaction failed: append_all()
/// then leaves that append out and runs the group again.
bool unique_violation_of(const StoreError& error, std::string_view constraint) {
  return error.sqlstate() == "23505" && error.constraint() == constraint;
}

/// A value of a binary result: bytes as they are, bigint from network order.
std::string_view bytes_at(const PGresult* result, int row, int column) {
  return {PQgetvalue(result, row, column),
          static_cast<std::size_t>(PQgetlength(result, row, column))};
}
std::uint64_t int8_at(const PGresult* result, int row, int column) {
  return postgres::int8_from_binary(bytes_at(result, row, column));
}

std::string trimmed(const char* message) {
  std::string text = message != nullptr ? message : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

void ignore_notice(void*, const char*) {}  // "relation already exists, skipping" and the like

/// The prepared statements: name, SQL, parameter types.
struct StatementDef {
  const char* name;
  const char* sql;
  std::vector<Oid> types;
};

const std::vector<StatementDef>& statements() {
  static const std::vector<StatementDef> all{
      // The whole append, in the database (sql/postgres_append_v1.sql): one round trip.
      {"append",
       "SELECT * FROM eda_append_v1($1, $2, $3, $4, $5)",
       {text_oid, int8_oid, text_array_oid, text_array_oid, bytea_array_oid}},
      {"version_of",
       "SELECT coalesce(max(version), 0)::bigint FROM events WHERE stream = $1",
       {text_oid}},
      {"forward",
       "SELECT version, position, envelope FROM events WHERE stream = $1 AND version >= $2 "
       "ORDER BY version LIMIT $3",
       {text_oid, int8_oid, int8_oid}},
      {"backward",
       "SELECT version, position, envelope FROM events WHERE stream = $1 AND version <= $2 "
       "ORDER BY version DESC LIMIT $3",
       {text_oid, int8_oid, int8_oid}},
      {"all",
       "SELECT stream, version, position, envelope FROM events WHERE position >= $1 "
       "ORDER BY position LIMIT $2",
       {int8_oid, int8_oid}},
      {"last", "SELECT position FROM store_head WHERE id", {}},
      {"save_snapshot",
       "INSERT INTO snapshots (stream, version, schema_version, state) VALUES ($1, $2, $3, $4) "
       "ON CONFLICT (stream) DO UPDATE SET version = excluded.version, "
       "schema_version = excluded.schema_version, state = excluded.state "
       "WHERE excluded.version >= snapshots.version",
       {text_oid, int8_oid, int8_oid, bytea_oid}},
      {"load_snapshot",
       "SELECT version, schema_version, state FROM snapshots WHERE stream = $1",
       {text_oid}},
  };
  return all;
}

// The function the whole append runs in, by its signature (sql/postgres_append_v1.sql says
// what it does and why). It is created when missing and never replaced: a change gets a new
// name, and a new file.
constexpr const char* append_function = "eda_append_v1(text,bigint,text[],text[],bytea[])";

/// A LIMIT, or where a backward read starts, for which anything beyond a bigint means "no
/// bound": the largest bigint says the same. (Params::int8 refuses what does not fit, so every
/// such bound is said here, on purpose, and nowhere silently.)
std::uint64_t at_most_bigint(std::uint64_t value) { return std::min(value, largest_bigint); }

constexpr std::string_view version_constraint = "events_stream_version";
constexpr std::string_view event_id_constraint = "events_event_id";

}  // namespace

/// One libpq connection with the store's statements prepared on it.
struct PostgresEventStore::Connection {
  Connection(const PostgresStoreOptions& options, std::string where_) : where(std::move(where_)) {
    const std::string timeout =
        std::to_string(std::max<long long>(options.connect_timeout.count(), 1));
    // Ours first: the connection string (expanded from "dbname") comes after and wins.
    const std::array<const char*, 4> keywords{"connect_timeout", "application_name", "dbname",
                                              nullptr};
    const std::array<const char*, 4> values{timeout.c_str(), options.application_name.c_str(),
                                            options.connection.c_str(), nullptr};
    conn = PQconnectdbParams(keywords.data(), values.data(), 1);
    if (conn == nullptr) throw std::bad_alloc();
    if (PQstatus(conn) != CONNECTION_OK) {
      const std::string reason = trimmed(PQerrorMessage(conn));
      PQfinish(conn);
      throw StoreError("cannot connect to the PostgreSQL event store at " + where + ": " + reason +
                       " (is the server running and the connection string right?)");
    }
    PQsetNoticeProcessor(conn, ignore_notice, nullptr);
    try {
      create_schema();
      prepare();
    } catch (...) {
      PQfinish(conn);  // the destructor does not run for a constructor that throws
      throw;
    }
  }
  ~Connection() { PQfinish(conn); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void create_schema() {
    try {
      command("BEGIN");
      command((std::string("SELECT pg_advisory_xact_lock(") + schema_lock_key + ")").c_str());
      // Only what is missing is created: a role allowed to use the store but not to create
      // in the schema (PostgreSQL 15 grants no CREATE on public by default) opens it too.
      if (missing("to_regclass('events') IS NULL OR to_regclass('snapshots') IS NULL OR "
                  "to_regclass('store_head') IS NULL")) {
        command(sql::postgres_schema, "CREATE TABLE IF NOT EXISTS (events, snapshots, store_head)");
      }
      if (missing(std::string("to_regprocedure('") + append_function + "') IS NULL")) {
        command(sql::postgres_append_v1, "CREATE FUNCTION eda_append_v1");
      }
      command("COMMIT");
    } catch (const std::exception& e) {
      rollback_quietly();
      throw StoreError("cannot create the event store's tables in " + where + ": " + e.what());
    }
  }

  /// Whether `condition`, a SQL test of what the database lacks (`... IS NULL`), is true.
  bool missing(const std::string& condition) {
    const Result result(PQexec(conn, ("SELECT " + condition).c_str()));
    if (PQresultStatus(result.get()) != PGRES_TUPLES_OK || PQntuples(result.get()) != 1) {
      fail(result.get(), "looking for the event store's tables");
    }
    return std::string_view(PQgetvalue(result.get(), 0, 0)) == "t";
  }

  /// Prepares the statements, and makes every transaction READ COMMITTED whatever the
  /// server's default: each statement then sees every append committed before it, in
  /// particular all those that held the head before this one (eda_append_v1 relies on it).
  void prepare() {
    command("SET default_transaction_isolation = 'read committed'");
    for (const StatementDef& def : statements()) {
      const Result result(PQprepare(conn, def.name, def.sql, static_cast<int>(def.types.size()),
                                    def.types.empty() ? nullptr : def.types.data()));
      if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
        throw StoreError("the database " + where + " does not hold an event store of this shape: " +
                         trimmed(PQresultErrorMessage(result.get())));
      }
    }
  }

  /// Before each call: a connection lost since the last one is re-established (once), with
  /// its statements prepared again; a transaction left open by a failure is ended.
  void ensure() {
    if (PQstatus(conn) != CONNECTION_OK) {
      PQreset(conn);
      if (PQstatus(conn) != CONNECTION_OK) {
        throw StoreError("lost the connection to the PostgreSQL event store at " + where +
                         " and cannot reconnect: " + trimmed(PQerrorMessage(conn)));
      }
      prepare();
    } else if (PQtransactionStatus(conn) != PQTRANS_IDLE) {
      rollback_quietly();
    }
  }

  [[noreturn]] void fail(const PGresult* result, std::string_view doing) const {
    const char* sqlstate = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    const char* constraint = PQresultErrorField(result, PG_DIAG_CONSTRAINT_NAME);
    const std::string reason =
        result != nullptr ? trimmed(PQresultErrorMessage(result)) : trimmed(PQerrorMessage(conn));
    throw StoreError("PostgreSQL event store at " + where + ": " + std::string(doing) +
                         " failed: " + (reason.empty() ? trimmed(PQerrorMessage(conn)) : reason),
                     sqlstate != nullptr ? sqlstate : "", constraint != nullptr ? constraint : "");
  }

  /// A statement without parameters (transaction control, the schema); `label` names it in
  /// error messages instead of the SQL.
  void command(const char* sql, const char* label = nullptr) {
    const Result result(PQexec(conn, sql));
    const ExecStatusType status = PQresultStatus(result.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      fail(result.get(), label != nullptr ? label : sql);
    }
  }

  /// A prepared statement, binary in and out.
  Result run(const char* name, const Params& params) {
    Result result(PQexecPrepared(conn, name, params.count(), params.values(), params.lengths(),
                                 params.formats(), 1));
    const ExecStatusType status = PQresultStatus(result.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail(result.get(), name);
    return result;
  }

  std::uint64_t single_int8(const char* name, const Params& params) {
    const Result result = run(name, params);
    if (PQntuples(result.get()) != 1) {
      throw StoreError("PostgreSQL event store at " + where + ": " + name +
                       " returned no row (is the store_head row missing?)");
    }
    return int8_at(result.get(), 0, 0);
  }

  /// Whether the open transaction failed (a statement refused): only a rollback ends it.
  [[nodiscard]] bool transaction_failed() const {
    return PQtransactionStatus(conn) == PQTRANS_INERROR;
  }

  /// Cleanup after a failure: never throws (a lost connection is noticed by the next call).
  void rollback_quietly() noexcept { PQclear(PQexec(conn, "ROLLBACK")); }

  /// Ends the group's transaction; a transaction that failed on the way "commits" as a
  /// rollback, which must not be reported as stored.
  void commit() {
    if (PQtransactionStatus(conn) != PQTRANS_INTRANS) {
      throw StoreError("PostgreSQL event store at " + where +
                       ": the transaction failed before its commit; nothing was stored");
    }
    command("COMMIT");
  }

  std::uint64_t stream_version(std::string_view stream) {
    return single_int8("version_of", Params().text(stream));
  }

  std::string where;
  PGconn* conn = nullptr;
};

PostgresEventStore::PostgresEventStore(PostgresStoreOptions options)
    : options_(std::move(options)),
      where_(postgres::describe_server(options_.connection)),
      db_(std::make_unique<Connection>(options_, where_)) {}

PostgresEventStore::~PostgresEventStore() = default;

/// One append: a call of eda_append_v1, on its own (a transaction by itself) or inside the
/// group's transaction. What the database answered becomes the result, a retry's original
/// result, or the ConcurrencyConflict.
AppendResult PostgresEventStore::append_once(std::string_view stream,
                                             const ExpectedVersion& expected,
                                             std::span<const EventData> events) {
  Connection& c = *db_;
  Params params;
  params.text(stream);
  // The version the stream must be at: NULL for any, 0 for "no stream yet" (as allows()).
  if (expected.kind() == ExpectedVersion::Kind::any) {
    params.null();
  } else if (expected.version() > largest_bigint) {
    // No stream ever gets there (a version is a bigint): the expectation cannot hold.
    throw ConcurrencyConflict(std::string(stream), expected, c.stream_version(stream));
  } else {
    params.int8(expected.version());
  }
  params.array(text_oid, events, [](const EventData& e) -> std::string_view { return e.event_id; })
      .array(text_oid, events, [](const EventData& e) -> std::string_view { return e.type; })
      .array(bytea_oid, events, [](const EventData& e) -> std::string_view { return e.envelope; });
  for (int attempt = 1;; ++attempt) {
    Result rows;
    try {
      rows = c.run("append", params);
    } catch (const StoreError& e) {
      // A row already there, which only a writer going around the head can have put there.
      // Inside a group the transaction has failed: append_all() leaves this append out.
      if (c.transaction_failed()) throw;
      // Alone: a version taken is a conflict unless any version will do (then look again, a
      // few times); an id taken meanwhile makes this a retry, which the next look finds.
      const bool version_taken = unique_violation_of(e, version_constraint);
      const bool id_taken = unique_violation_of(e, event_id_constraint);
      if (version_taken && (expected.kind() != ExpectedVersion::Kind::any || attempt >= 3)) {
        throw ConcurrencyConflict(std::string(stream), expected, c.stream_version(stream));
      }
      if (!(version_taken || id_taken) || attempt >= 3) throw;
      continue;
    }
    if (PQntuples(rows.get()) < 1) {
      throw StoreError("PostgreSQL event store at " + where_ +
                       ": eda_append_v1 answered nothing (is this an event store?)");
    }
    const std::string_view outcome = bytes_at(rows.get(), 0, 0);
    const std::uint64_t version = int8_at(rows.get(), 0, 1);
    const std::uint64_t head = int8_at(rows.get(), 0, 2);
    if (outcome == "stored") {
      return AppendResult{version + 1, version + events.size(), head - events.size() + 1, head,
                          false};
    }
    if (outcome == "conflict") {
      throw ConcurrencyConflict(std::string(stream), expected, version);
    }
    if (outcome != "found") {
      throw StoreError("PostgreSQL event store at " + where_ + ": eda_append_v1 answered '" +
                       std::string(outcome) + "'");
    }
    // Where each event of this append is stored, if it is (matched by id).
    std::vector<std::optional<detail::StoredAt>> found(events.size());
    for (int row = 0; row < PQntuples(rows.get()); ++row) {
      const std::string_view id = bytes_at(rows.get(), row, 3);
      for (std::size_t i = 0; i < events.size(); ++i) {
        if (events[i].event_id == id) {
          found[i] = detail::StoredAt{std::string(bytes_at(rows.get(), row, 4)),
                                      int8_at(rows.get(), row, 1), int8_at(rows.get(), row, 5)};
        }
      }
    }
    if (auto retry = detail::check_retry(stream, found)) return *retry;
    throw std::logic_error("eda_append_v1 reported stored ids it did not name");
  }
}

AppendResult PostgresEventStore::append(std::string_view stream, const ExpectedVersion& expected,
                                        std::span<const EventData> events) {
  detail::check_batch(stream, events);
  std::lock_guard lock(mutex_);
  db_->ensure();
  return append_once(stream, expected, events);
}

std::vector<AppendOutcome> PostgresEventStore::append_all(std::span<const AppendRequest> requests) {
  std::vector<AppendOutcome> outcomes(requests.size());
  std::vector<bool> pending = detail::check_group(requests, outcomes);
  std::lock_guard lock(mutex_);
  Connection& c = *db_;
  // Group commit: one transaction, so one disk flush, for the whole group. An append that is
  // refused (a conflict, a retry, a row already there) stores nothing, so the others go on.
  // One the server fails with an error leaves the transaction failed: it keeps its error, and
  // the group runs again without it (nothing was committed) — at most once per append.
  for (std::size_t round = 0; round <= requests.size(); ++round) {
    std::optional<std::size_t> failed_on_server;
    try {
      c.ensure();
      c.command("BEGIN");
      for (std::size_t i = 0; i < requests.size() && !failed_on_server; ++i) {
        if (!pending[i]) continue;
        outcomes[i] = AppendOutcome{};
        try {
          outcomes[i].result =
              append_once(requests[i].stream, requests[i].expected, requests[i].events);
        } catch (const StoreError&) {
          outcomes[i].failure = detail::append_failure(requests[i]);
          if (c.transaction_failed()) failed_on_server = i;
        } catch (const std::exception&) {
          outcomes[i].failure = detail::append_failure(requests[i]);
        }
      }
      if (!failed_on_server) {
        c.commit();
        return outcomes;
      }
      c.rollback_quietly();
      pending[*failed_on_server] = false;
    } catch (...) {
      // The group's transaction failed as a whole (the connection was lost, the commit
      // failed): nothing of the group is stored.
      c.rollback_quietly();
      for (std::size_t i = 0; i < outcomes.size(); ++i) {
        if (pending[i])
          outcomes[i] = AppendOutcome{std::nullopt, detail::append_failure(requests[i])};
      }
      return outcomes;
    }
  }
  return outcomes;  // every append failed on the server: each has its own error
}

std::vector<RecordedEvent> PostgresEventStore::read_stream(std::string_view stream,
                                                           std::uint64_t from,
                                                           std::size_t max_count,
                                                           Direction direction) const {
  std::lock_guard lock(mutex_);
  std::vector<RecordedEvent> out;
  if (max_count == 0) return out;
  db_->ensure();
  const bool forward = direction == Direction::forward;
  if (forward && from > largest_bigint) return out;  // no version is that high
  const std::uint64_t bound = forward ? std::max<std::uint64_t>(from, 1)
                                      : (from == 0 ? largest_bigint : at_most_bigint(from));
  const Result rows = db_->run(forward ? "forward" : "backward",
                               Params().text(stream).int8(bound).int8(at_most_bigint(max_count)));
  const int count = PQntuples(rows.get());
  out.reserve(static_cast<std::size_t>(count));
  for (int row = 0; row < count; ++row) {
    out.push_back(detail::recorded(std::string(stream), int8_at(rows.get(), row, 0),
                                   int8_at(rows.get(), row, 1), bytes_at(rows.get(), row, 2)));
  }
  return out;
}

std::vector<RecordedEvent> PostgresEventStore::read_all(std::uint64_t from,
                                                        std::size_t max_count) const {
  std::lock_guard lock(mutex_);
  std::vector<RecordedEvent> out;
  if (max_count == 0 || from > largest_bigint) return out;  // no position is that high
  db_->ensure();
  // One statement, one snapshot: because positions are handed out in commit order, the rows
  // it returns have no hole that a later commit could fill.
  const Result rows = db_->run(
      "all", Params().int8(std::max<std::uint64_t>(from, 1)).int8(at_most_bigint(max_count)));
  const int count = PQntuples(rows.get());
  out.reserve(static_cast<std::size_t>(count));
  for (int row = 0; row < count; ++row) {
    out.push_back(detail::recorded(std::string(bytes_at(rows.get(), row, 0)),
                                   int8_at(rows.get(), row, 1), int8_at(rows.get(), row, 2),
                                   bytes_at(rows.get(), row, 3)));
  }
  return out;
}

std::uint64_t PostgresEventStore::stream_version(std::string_view stream) const {
  std::lock_guard lock(mutex_);
  db_->ensure();
  return db_->stream_version(stream);
}

std::uint64_t PostgresEventStore::last_position() const {
  std::lock_guard lock(mutex_);
  db_->ensure();
  return db_->single_int8("last", Params());
}

void PostgresEventStore::save_snapshot(std::string_view stream, const Snapshot& snapshot) {
  std::lock_guard lock(mutex_);
  db_->ensure();
  db_->run("save_snapshot", Params()
                                .text(stream)
                                .int8(snapshot.version)
                                .int8(snapshot.schema_version)
                                .bytes(snapshot.state));
}

std::optional<Snapshot> PostgresEventStore::load_snapshot(std::string_view stream) const {
  std::lock_guard lock(mutex_);
  db_->ensure();
  const Result rows = db_->run("load_snapshot", Params().text(stream));
  if (PQntuples(rows.get()) != 1) return std::nullopt;
  return Snapshot{int8_at(rows.get(), 0, 0), static_cast<std::uint32_t>(int8_at(rows.get(), 0, 1)),
                  std::string(bytes_at(rows.get(), 0, 2))};
}

}  // namespace eda::sourcing
