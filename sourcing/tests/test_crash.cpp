// Crash safety: a writer process killed with SIGKILL at random moments, a hundred times.
// Afterwards the database is intact, every append the writer saw acknowledged is there
// exactly once, every stream's versions run 1..N without a hole, positions run 1..last, no
// append is there in part, every payload decodes. (This covers process crashes; power loss
// is what synchronous=FULL is for.) The writer and the checks are crash_writer.hpp's, which
// the PostgreSQL version (test_postgres_crash.cpp) shares.
#include <chrono>
#include <random>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include "crash_writer.hpp"
#include "eda/sourcing/sqlite_store.hpp"
#include "store_fixture.hpp"

using namespace eda::sourcing;
using eda::sourcing::test::KilledWriter;

TEST_CASE(
    "a writer killed with SIGKILL a hundred times loses no acknowledged event and "
    "leaves no damage",
    "[sqlite][crash]") {
  test::TempDatabase file;
  const std::string spec = "sqlite:" + file.path();
  { SqliteEventStore create({.path = file.path()}); }  // the schema exists before the first kill
  std::set<std::string> acknowledged;
  std::mt19937 random(2026);
  for (std::uint64_t round = 1; round <= 100; ++round) {
    KilledWriter writer(spec, round);
    // Let it run a random while (the point at which it dies is what is being tested).
    std::this_thread::sleep_for(std::chrono::microseconds(500 + random() % 20'000));
    REQUIRE(writer.kill());  // it did not fail on its own
    for (const std::string& id : writer.acknowledged()) acknowledged.insert(id);
  }

  SqliteEventStore store({.path = file.path()});
  CHECK(store.integrity_check() == "ok");
  test::check_store_after_crashes(store, acknowledged);
}
