/// @file database.hpp
/// @brief A thin RAII layer over SQLite's C API, shared by every SQLite database in the
///        catalogue (the event store, the CRUD baseline, CQRS's read models and its single
///        model): a connection opened the same way everywhere, prepared statements, and
///        transactions that roll back unless committed.
///
/// The calls made per row (binding, stepping, reading a column) are inline: an event store
/// replaying a stream makes millions of them.
#pragma once

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

/// @brief The RAII layer over SQLite (see database.hpp).
namespace eda::sqlite {

/// @brief How hard SQLite works to keep a committed write across a crash.
enum class Durability {
  full,    ///< `synchronous=FULL`: survives power loss (an fsync per commit). The default.
  normal,  ///< `synchronous=NORMAL` in WAL: survives a process crash; power loss may lose the
           ///< last commits (never corrupts).
};

/// @brief One prepared statement, reset and finalized by RAII.
class Statement {
 public:
  /// @brief Prepares `sql` on `db`; throws eda::StorageError quoting it when it does not
  ///        compile.
  Statement(sqlite3* db, const char* sql);
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;             ///< Owns the statement.
  Statement& operator=(const Statement&) = delete;  ///< Owns the statement.

  /// @brief Binds the parameters (1-based, in order) for the next run; clears the last run.
  ///        An empty std::optional binds NULL.
  template <class... Values>
  Statement& bind(const Values&... values) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    int index = 0;
    (bind_one(++index, values), ...);
    return *this;
  }
  /// @brief Advances to the next row: true while there is one; throws eda::StorageError with
  ///        SQLite's message when the statement fails.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail();
  }
  /// @brief Runs a statement that returns no rows.
  void run() {
    (void)step();
    done();
  }
  /// @brief Ends the current run. A statement left on a row keeps its read transaction open, and
  /// with it the connection's view of the database: every single-row query ends with this.
  void done() { sqlite3_reset(stmt_); }
  /// @brief Runs a query of one integer (NULL reads as 0) and ends it.
  std::int64_t single_integer() {
    const std::int64_t value = step() ? integer(0) : 0;
    done();
    return value;
  }
  /// @brief Column `column` (from 0) of the current row as an integer.
  [[nodiscard]] std::int64_t integer(int column) const {
    return sqlite3_column_int64(stmt_, column);
  }
  /// @brief How many columns a row of this statement has.
  [[nodiscard]] int columns() const { return sqlite3_column_count(stmt_); }
  /// @brief Whether column `column` of the current row is NULL.
  [[nodiscard]] bool is_null(int column) const {
    return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
  }
  /// @brief Column `column` as text, valid until the next step() or done().
  [[nodiscard]] std::string_view text(int column) const {
    const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    return {data == nullptr ? "" : data,
            static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))};
  }
  /// @brief Column `column` as bytes, valid until the next step() or done().
  [[nodiscard]] std::string_view blob(int column) const {
    const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
    return {data == nullptr ? "" : data,
            static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))};
  }

 private:
  [[noreturn]] void fail() const;  // step()'s error: SQLite's message
  void bind_one(int index, std::string_view text) {
    sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
  }
  void bind_one(int index, std::uint64_t value) {
    sqlite3_bind_int64(stmt_, index, static_cast<sqlite3_int64>(value));
  }
  void bind_one(int index, std::int64_t value) { sqlite3_bind_int64(stmt_, index, value); }
  void bind_one(int index, std::nullptr_t) { sqlite3_bind_null(stmt_, index); }
  template <class T>
  void bind_one(int index, const std::optional<T>& value) {  // empty binds NULL
    if (value) {
      bind_one(index, *value);
    } else {
      sqlite3_bind_null(stmt_, index);
    }
  }
  struct Blob {
    std::string_view bytes;
  };
  void bind_one(int index, Blob blob) {
    sqlite3_bind_blob(stmt_, index, blob.bytes.data(), static_cast<int>(blob.bytes.size()),
                      SQLITE_STATIC);
  }

 public:
  /// @brief Marks bytes to bind as a BLOB (text binds as TEXT).
  static Blob as_blob(std::string_view bytes) { return Blob{bytes}; }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

/// @brief Runs plain SQL (several statements allowed); errors name the database `path`.
void exec(sqlite3* db, const char* sql, const std::string& path);

/// @brief One open SQLite connection, set up the way every database here is: WAL (readers
///        never block the writer), the chosen durability, a busy timeout for other processes'
///        write locks.
class Database {
 public:
  /// @brief Opens (creating if needed) `path`; `what` names the database in errors (e.g.
  ///        "event store"). Throws eda::StorageError saying which file and why.
  Database(const std::string& path, Durability durability, std::string_view what,
           int busy_timeout_ms = 10'000);
  /// @brief Closes the connection (statements still open are finalized by their owners).
  ~Database();
  Database(const Database&) = delete;             ///< Owns the connection.
  Database& operator=(const Database&) = delete;  ///< Owns the connection.

  /// @brief Runs plain SQL; errors name the file.
  void exec(const char* sql) const { sqlite::exec(db_, sql, path_); }
  /// @brief The connection, for preparing statements.
  [[nodiscard]] sqlite3* handle() const noexcept { return db_; }
  /// @brief The file.
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  /// @brief Rows changed by the last INSERT, UPDATE or DELETE.
  [[nodiscard]] int changes() const noexcept { return sqlite3_changes(db_); }

 private:
  /// Sets WAL mode, retrying while another connection holds the lock the switch needs.
  void switch_to_wal(int busy_timeout_ms);

  std::string path_;
  sqlite3* db_ = nullptr;
};

/// @brief A write transaction (`BEGIN IMMEDIATE`: the write lock is taken at once, so two
///        writers queue instead of failing half-way); rolled back unless commit() is called.
class Transaction {
 public:
  /// @brief Begins on `db`.
  explicit Transaction(const Database& db);
  /// @brief Rolls back when commit() was not reached (an exception is on its way).
  ~Transaction();
  Transaction(const Transaction&) = delete;             ///< One per BEGIN.
  Transaction& operator=(const Transaction&) = delete;  ///< One per BEGIN.
  /// @brief Commits (with the database's durability).
  void commit();

 private:
  const Database& db_;
  bool done_ = false;
};

}  // namespace eda::sqlite
