// The SQLite layer every database here is opened with (database.hpp): how a connection is set
// up, what a transaction keeps or drops, what binds and reads back, and how failures read.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "eda/sqlite/database.hpp"
#include "eda_test_support.hpp"

using namespace eda::sqlite;
using eda::test::TempDatabase;

namespace {

/// The one value a PRAGMA answers, as text.
std::string pragma(const Database& db, const char* sql) {
  Statement query(db.handle(), sql);
  REQUIRE(query.step());
  std::string value(query.text(0));
  query.done();
  return value;
}

std::int64_t count_rows(const Database& db) {
  return Statement(db.handle(), "SELECT count(*) FROM notes").single_integer();
}

}  // namespace

TEST_CASE("a database opens in WAL mode with the durability asked for", "[sqlite]") {
  TempDatabase file;
  {
    const Database db(file.path(), Durability::full, "test database");
    CHECK(pragma(db, "PRAGMA journal_mode") == "wal");
    CHECK(pragma(db, "PRAGMA synchronous") == "2");  // FULL
    CHECK(db.path() == file.path());
  }
  const Database db(file.path(), Durability::normal, "test database");
  CHECK(pragma(db, "PRAGMA synchronous") == "1");  // NORMAL
}

TEST_CASE("a database that cannot be opened is an error naming what and where", "[sqlite]") {
  const std::string path =
      (std::filesystem::temp_directory_path() / "eda-no-such-directory" / "x.db").string();
  CHECK_THROWS_WITH(Database(path, Durability::normal, "read-model database"),
                    Catch::StartsWith("cannot open read-model database " + path + ": "));
}

TEST_CASE("a transaction keeps its writes only when committed", "[sqlite]") {
  TempDatabase file;
  const Database db(file.path(), Durability::normal, "test database");
  db.exec("CREATE TABLE notes (text TEXT NOT NULL)");
  Statement insert(db.handle(), "INSERT INTO notes (text) VALUES (?)");
  {
    Transaction tx(db);
    insert.bind(std::string_view("dropped")).run();
  }  // not committed: rolled back
  CHECK(count_rows(db) == 0);
  try {
    Transaction tx(db);
    insert.bind(std::string_view("dropped too")).run();
    throw std::runtime_error("something failed before the commit");
  } catch (const std::runtime_error&) {
  }
  CHECK(count_rows(db) == 0);
  {
    Transaction tx(db);
    insert.bind(std::string_view("kept")).run();
    tx.commit();
  }
  CHECK(count_rows(db) == 1);
  CHECK(db.changes() == 1);
}

TEST_CASE("statements bind text, integers, NULL and bytes, and read them back", "[sqlite]") {
  TempDatabase file;
  const Database db(file.path(), Durability::normal, "test database");
  db.exec("CREATE TABLE cells (id INTEGER PRIMARY KEY, text TEXT, number INTEGER, bytes BLOB)");
  Statement insert(db.handle(), "INSERT INTO cells (id, text, number, bytes) VALUES (?, ?, ?, ?)");
  const std::string bytes("a\0b", 3);  // a zero byte inside
  insert
      .bind(std::int64_t{1}, std::string_view("text"), std::uint64_t{1} << 40,
            Statement::as_blob(bytes))
      .run();
  insert
      .bind(std::int64_t{2}, std::optional<std::string_view>{}, std::optional<std::int64_t>{},
            nullptr)
      .run();

  Statement select(db.handle(), "SELECT text, number, bytes FROM cells WHERE id = ?");
  CHECK(select.columns() == 3);
  REQUIRE(select.bind(std::int64_t{1}).step());
  CHECK(select.text(0) == "text");
  CHECK(select.integer(1) == std::int64_t{1} << 40);
  CHECK(select.blob(2) == bytes);
  CHECK_FALSE(select.is_null(0));
  CHECK_FALSE(select.step());
  REQUIRE(select.bind(std::int64_t{2}).step());  // binding again starts a new run
  CHECK(select.is_null(0));
  CHECK(select.is_null(1));
  CHECK(select.is_null(2));
  CHECK(select.text(0).empty());
  select.done();
  // A query of one integer reads NULL as 0.
  CHECK(Statement(db.handle(), "SELECT max(number) FROM cells WHERE id = 2").single_integer() == 0);
}

TEST_CASE("SQL that fails says why: not compiling, a constraint, a bad script", "[sqlite]") {
  TempDatabase file;
  const Database db(file.path(), Durability::normal, "test database");
  CHECK_THROWS_WITH(Statement(db.handle(), "SELEC 1"),
                    Catch::StartsWith("cannot prepare 'SELEC 1': "));
  db.exec("CREATE TABLE notes (text TEXT PRIMARY KEY)");
  Statement insert(db.handle(), "INSERT INTO notes (text) VALUES (?)");
  insert.bind(std::string_view("once")).run();
  CHECK_THROWS_WITH(insert.bind(std::string_view("once")).run(),
                    Catch::StartsWith("SQLite: ") && Catch::Contains("UNIQUE constraint failed"));
  CHECK_THROWS_WITH(
      db.exec("CREATE TABLE notes (x)"),
      Catch::StartsWith("database " + file.path() + ": ") && Catch::Contains("already exists"));
}

TEST_CASE("connections opening one new file at the same moment all open it in WAL mode",
          "[sqlite]") {
  // Turning a new file to WAL takes an exclusive lock, and a connection that meets another's
  // lock there can be refused at once ("database is locked") instead of waiting for it (seen
  // with two processes of the scaling module opening their shared files together).
  constexpr int rounds = 300;
  constexpr int openers = 8;
  int failures = 0;
  std::string last_error;
  for (int round = 0; round < rounds; ++round) {
    TempDatabase file;
    std::atomic<int> ready{0};
    std::atomic<int> failed{0};
    std::mutex error_mutex;
    std::vector<std::thread> threads;
    for (int i = 0; i < openers; ++i) {
      threads.emplace_back([&] {
        ready.fetch_add(1);
        // Start together (bounded: every thread arrives within microseconds).
        while (ready.load() < openers) std::this_thread::yield();
        try {
          const Database db(file.path(), Durability::full, "shared file");
          // No Catch2 assertion in a thread (Catch2 v2's are not thread-safe): counted instead.
          Statement mode(db.handle(), "PRAGMA journal_mode");
          if (!mode.step() || mode.text(0) != "wal") failed.fetch_add(1);
          mode.done();
        } catch (const std::exception& e) {
          failed.fetch_add(1);
          const std::lock_guard lock(error_mutex);
          last_error = e.what();
        }
      });
    }
    for (auto& thread : threads) thread.join();
    failures += failed.load();
  }
  INFO("last error: " << last_error);
  CHECK(failures == 0);
}
