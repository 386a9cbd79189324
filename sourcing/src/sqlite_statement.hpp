// SQLite helpers shared by the event store and the CRUD baseline (private to this module):
// a prepared statement with RAII, and running plain SQL with errors that name the database.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace eda::sourcing::sqlite {

/// One prepared statement, reset and finalized by RAII.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string("cannot prepare '") + sql + "': " + sqlite3_errmsg(db));
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  /// Binds the parameters (1-based, in order) for the next run; clears the last run.
  template <class... Values>
  Statement& bind(const Values&... values) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    int index = 0;
    (bind_one(++index, values), ...);
    return *this;
  }
  /// Advances to the next row: true while there is one.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw std::runtime_error(std::string("SQLite: ") + sqlite3_errmsg(db_));
  }
  /// Runs a statement that returns no rows.
  void run() {
    (void)step();
    done();
  }
  /// Ends the current run. A statement left on a row keeps its read transaction open, and
  /// with it the connection's view of the database: every single-row query ends with this.
  void done() { sqlite3_reset(stmt_); }
  /// Runs a query of one integer (NULL reads as 0) and ends it.
  std::int64_t single_integer() {
    const std::int64_t value = step() ? integer(0) : 0;
    done();
    return value;
  }
  [[nodiscard]] std::int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
  [[nodiscard]] bool is_null(int column) const {
    return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
  }
  [[nodiscard]] std::string_view text(int column) const {
    const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    return {data == nullptr ? "" : data, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))};
  }
  [[nodiscard]] std::string_view blob(int column) const {
    const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
    return {data == nullptr ? "" : data, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))};
  }

 private:
  void bind_one(int index, std::string_view text) {
    sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
  }
  void bind_one(int index, std::uint64_t value) {
    sqlite3_bind_int64(stmt_, index, static_cast<sqlite3_int64>(value));
  }
  void bind_one(int index, std::int64_t value) { sqlite3_bind_int64(stmt_, index, value); }
  struct Blob {
    std::string_view bytes;
  };
  void bind_one(int index, Blob blob) {
    sqlite3_bind_blob(stmt_, index, blob.bytes.data(), static_cast<int>(blob.bytes.size()),
                      SQLITE_STATIC);
  }

 public:
  /// Marks bytes to bind as a BLOB (text binds as TEXT).
  static Blob as_blob(std::string_view bytes) { return Blob{bytes}; }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

inline void exec(sqlite3* db, const char* sql, const std::string& path) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error != nullptr ? error : sqlite3_errmsg(db);
    sqlite3_free(error);
    throw std::runtime_error("database " + path + ": " + message);
  }
}

}  // namespace eda::sourcing::sqlite
