#include "eda/sqlite/database.hpp"

#include <chrono>
#include <stdexcept>
#include <thread>

#include "eda/errors.hpp"

namespace eda::sqlite {

Statement::Statement(sqlite3* db, const char* sql) : db_(db) {
  if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK) {
    throw StorageError(std::string("cannot prepare '") + sql + "': " + sqlite3_errmsg(db));
  }
}

void Statement::fail() const { throw StorageError(std::string("SQLite: ") + sqlite3_errmsg(db_)); }

void exec(sqlite3* db, const char* sql, const std::string& path) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error != nullptr ? error : sqlite3_errmsg(db);
    sqlite3_free(error);
    throw StorageError("database " + path + ": " + message);
  }
}

Database::Database(const std::string& path, Durability durability, std::string_view what,
                   int busy_timeout_ms)
    : path_(path) {
  if (sqlite3_open_v2(path.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close_v2(db_);
    throw StorageError("cannot open " + std::string(what) + " " + path + ": " + message);
  }
  try {
    sqlite3_busy_timeout(db_, busy_timeout_ms);
    switch_to_wal(busy_timeout_ms);
    exec(durability == Durability::full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
  } catch (const std::exception& e) {
    sqlite3_close_v2(db_);
    throw StorageError("cannot open " + std::string(what) + " " + path + ": " + e.what());
  }
}

Database::~Database() { sqlite3_close_v2(db_); }

void Database::switch_to_wal(int busy_timeout_ms) {
  // Turning a new file to WAL takes an exclusive lock, and SQLite refuses a connection that
  // meets another's lock there at once ("database is locked") rather than calling the busy
  // handler, which could deadlock at that point. Two connections opening one new file
  // together (threads, or processes sharing a file) hit it: try again until the busy timeout.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(busy_timeout_ms);
  for (;;) {
    char* error = nullptr;
    const int status = sqlite3_exec(db_, "PRAGMA journal_mode=WAL", nullptr, nullptr, &error);
    sqlite3_free(error);
    if (status == SQLITE_OK) return;
    if ((status & 0xff) != SQLITE_BUSY || std::chrono::steady_clock::now() >= deadline) {
      exec("PRAGMA journal_mode=WAL");  // once more, to throw with SQLite's own message
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

Transaction::Transaction(const Database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  if (!done_) {
    sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

void Transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

}  // namespace eda::sqlite
