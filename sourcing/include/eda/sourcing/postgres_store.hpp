/// @file postgres_store.hpp
/// @brief The EventStore for when one machine is not enough: PostgreSQL, reached with libpq
///        through a connection string. Same guarantees as the SQLite store, enforced by the
///        database server so that any number of processes on any number of machines may
///        append to the same store.
///
/// It is a library of its own, the CMake target `eda::sourcing_postgres` (the only one that
/// links libpq); linking it also lets open_event_store() open `postgresql://` specs. Its SQL is
/// kept as SQL: the schema in `sourcing/sql/postgres_schema.sql`, the append function in
/// `sourcing/sql/postgres_append_v1.sql`, both compiled in at build time.
///
/// The schema (created when absent, in one transaction, under an advisory lock so that
/// processes opening a new database at the same moment do not trip over each other):
///
/// ```sql
/// CREATE TABLE store_head (               -- one row: the last position handed out
///   id       boolean PRIMARY KEY CHECK (id),
///   position bigint  NOT NULL);
/// CREATE TABLE events (
///   position bigint PRIMARY KEY,          -- global order, from 1, in commit order
///   stream   text   NOT NULL,
///   version  bigint NOT NULL,             -- 1, 2, 3, ... per stream
///   event_id text   NOT NULL,
///   type     text   NOT NULL,
///   envelope bytea  NOT NULL,             -- the kit's MessagePack envelope
///   CONSTRAINT events_stream_version UNIQUE (stream, version),  -- no two writers get version N
///   CONSTRAINT events_event_id UNIQUE (event_id));               -- idempotent appends
/// CREATE TABLE snapshots (                -- the latest state per stream, a cache
///   stream text PRIMARY KEY, version bigint NOT NULL,
///   schema_version bigint NOT NULL, state bytea NOT NULL);
/// ```
///
/// @par Why positions come from a locked row, not from a sequence
/// A reader follows the whole store with read_all(): it asks for everything from position P,
/// and next time from one past the last position it got. That is only safe if no event can
/// ever appear *behind* a position the reader has already passed. A `bigserial` (a sequence)
/// breaks exactly that: sequence numbers are handed out when a row is inserted, not when its
/// transaction commits. Transaction A takes position 10, transaction B takes 11, and B commits
/// first. A reader at "from 10" sees 11, records it, and asks "from 12" next; when A commits a
/// moment later, event 10 is in the store forever and the reader never sees it. (A sequence
/// also leaves holes behind every rolled-back append, so a reader could not even tell a hole
/// from an event still in flight.)
///
/// This store hands out positions from the one row of `store_head` instead: every append
/// first locks that row (`SELECT position FROM store_head ... FOR UPDATE`) and, once its
/// events are in, moves it on by their number; the lock holds until the transaction commits
/// or rolls back. Appenders therefore take turns, each sees every earlier append committed,
/// and the position order is the commit order: a reader that sees position P sees everything
/// below it. An append that stores nothing leaves the head where it was, so positions have no
/// holes. The price is that appends to the whole store are serialised (as they are in
/// SQLite), the disk flush of each commit included; append_all() lets one transaction, and
/// one flush, carry many appends.
///
/// @par One round trip per append
/// The steps of an append (take the head, look for the event ids, read the stream's version,
/// insert the events, move the head on) run inside the database, in the function
/// `eda_append_v1` that opening the store creates, with the events passed as arrays. Sent one
/// statement at a time they cost a round trip to the server each — six for a one-event
/// append, over two hundred for a hundred events — and the head stayed locked through all of
/// them, so every other writer waited for those round trips too.
///
/// Numbers travel as bigints, which hold up to 2^63 - 1: a count or a bound beyond that means
/// "no bound" and is sent as the largest bigint, an expected version beyond it is a
/// ConcurrencyConflict (no stream gets there), and a snapshot version beyond it is refused with
/// std::out_of_range — never stored as another number.
///
/// The UNIQUE constraints stay as the last word: should a version be taken anyway (another
/// program writing to the tables without the head lock), the insert fails on
/// `events_stream_version` and the append is reported as a ConcurrencyConflict naming the
/// version actually stored (in a group, as the server's error for that append alone), never
/// as a duplicate version.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "eda/sourcing/event_store.hpp"

namespace eda::sourcing {

/// @brief How a PostgresEventStore connects.
struct PostgresStoreOptions {
  /// @brief The libpq connection string, as a URI (`postgresql://user@db.example:5432/shop`)
  ///        or as `key=value` pairs (`host=db.example dbname=shop`). Its keywords win over
  ///        the fields below; the environment variables libpq knows (`PGPASSWORD`, ...) apply.
  std::string connection{};
  /// @brief How long to wait for the server when connecting (libpq's `connect_timeout`).
  std::chrono::seconds connect_timeout = std::chrono::seconds(10);
  /// @brief Shown in error messages as the name of the application (`application_name`).
  std::string application_name = "eda-event-store";
};

/// @brief An EventStore in a PostgreSQL database: the same contract as SqliteEventStore,
///        shared by every process that connects to the same database.
///
/// Each append is one transaction and one call of the database function `eda_append_v1`: it
/// locks the store's head row (see the file's documentation for why positions are assigned
/// that way), checks retries and the expected version, inserts the events and moves the head
/// on. The UNIQUE constraints on
/// `(stream, version)` and `event_id` mean a lost race can only ever become a
/// ConcurrencyConflict or a retry, never a duplicate version or a stored-twice event.
///
/// @par Example
/// ```cpp
/// PostgresEventStore store({.connection = "postgresql://shop@db.example/shop"});
/// store.append("order-42", ExpectedVersion::no_stream(), events);
/// ```
///
/// @par Thread safety
/// All members may be called concurrently; they share one connection, one call at a time (a
/// mutex, as in SqliteEventStore). For parallel appends from one process, open several stores:
/// the database keeps them correct.
///
/// @par Errors
/// Opening throws StoreError naming the server (host, port, database and user, never
/// the password) when it cannot connect, and naming the database when the schema cannot be
/// created or the tables there are not an event store's; std::invalid_argument when the
/// connection string does not parse. A call that finds the connection lost fails; the next
/// one reconnects (once) before it runs. Stored bytes that do not decode throw CorruptEvent
/// naming the stream, version and position.
class PostgresEventStore final : public EventStore {
 public:
  /// @brief Connects and creates the schema when it is absent; throws StoreError
  ///        naming the server (never the password) when that fails.
  explicit PostgresEventStore(PostgresStoreOptions options);
  ~PostgresEventStore() override;
  PostgresEventStore(const PostgresEventStore&) = delete;             ///< Owns a connection.
  PostgresEventStore& operator=(const PostgresEventStore&) = delete;  ///< Owns a connection.

  AppendResult append(std::string_view stream, const ExpectedVersion& expected,
                      std::span<const EventData> events) override;
  /// @brief Group commit: all of `requests` in one transaction (one disk flush); an append
  ///        that is refused (a conflict, a bad retry) stores nothing and the others go on.
  std::vector<AppendOutcome> append_all(std::span<const AppendRequest> requests) override;
  [[nodiscard]] std::vector<RecordedEvent> read_stream(std::string_view stream, std::uint64_t from,
                                                       std::size_t max_count,
                                                       Direction direction) const override;
  [[nodiscard]] std::vector<RecordedEvent> read_all(std::uint64_t from,
                                                    std::size_t max_count) const override;
  [[nodiscard]] std::uint64_t stream_version(std::string_view stream) const override;
  [[nodiscard]] std::uint64_t last_position() const override;
  void save_snapshot(std::string_view stream, const Snapshot& snapshot) override;
  [[nodiscard]] std::optional<Snapshot> load_snapshot(std::string_view stream) const override;

  /// @brief Where the store is, for messages: `host:port/database as user` (no password).
  [[nodiscard]] const std::string& describe() const noexcept { return where_; }

 private:
  struct Connection;
  AppendResult append_once(std::string_view stream, const ExpectedVersion& expected,
                           std::span<const EventData> events);
  PostgresStoreOptions options_;
  std::string where_;
  mutable std::mutex mutex_;
  std::unique_ptr<Connection> db_;
};

}  // namespace eda::sourcing
