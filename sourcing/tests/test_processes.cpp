// Writers in separate processes, one SQLite file, one stream: the database's write lock and
// its UNIQUE (stream, version) constraint keep versions 1..K without a hole or a duplicate,
// and a writer that lost a race is told so with a ConcurrencyConflict, never overwritten.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <set>
#include <string>

#include <catch2/catch.hpp>

#include "eda/sourcing/order.hpp"
#include "eda/sourcing/sqlite_store.hpp"
#include "store_fixture.hpp"

using namespace eda::sourcing;

namespace {

constexpr int writers = 3;
constexpr int appends_each = 20;

/// The child: waits for the start signal (the parent closing `start`), then appends its
/// events one at a time expecting the version it just read, retrying after each conflict.
/// Reports `<attempts> <conflicts>` on `report`; exits 2 on any other failure.
[[noreturn]] void race(const std::string& path, int writer, int start, int report) {
  try {
    SqliteEventStore store({.path = path});
    char go = 0;
    (void)::read(start, &go, 1);  // returns (0 bytes) when the parent closes its end
    int attempts = 0;
    int conflicts = 0;
    for (int n = 0; n < appends_each; ++n) {
      const ItemAdded item{"w" + std::to_string(writer) + "-" + std::to_string(n), 1, 100};
      const std::vector event{EventData::of(eda::make_metadata<ItemAdded>("writer"), item)};
      for (bool stored = false; !stored;) {
        if (++attempts > 100'000) _exit(4);  // bounded: a livelock fails the test
        const std::uint64_t seen = store.stream_version("order-7");
        try {
          store.append("order-7",
                       seen == 0 ? ExpectedVersion::no_stream() : ExpectedVersion::exactly(seen),
                       event);
          stored = true;
        } catch (const ConcurrencyConflict&) {
          ++conflicts;  // another process appended between our read and our write
        }
      }
    }
    const std::string line = std::to_string(attempts) + " " + std::to_string(conflicts) + "\n";
    if (::write(report, line.data(), line.size()) < 0) _exit(3);
    _exit(0);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "writer %d: %s\n", writer, e.what());
    _exit(2);
  }
}

}  // namespace

TEST_CASE(
    "writer processes racing on one stream of one SQLite file: versions 1..K, every "
    "event once, every lost race reported as a conflict",
    "[sqlite][processes]") {
  test::TempDatabase file;
  { SqliteEventStore create({.path = file.path()}); }
  int start[2];
  REQUIRE(::pipe(start) == 0);
  std::vector<std::pair<pid_t, int>> children;  // pid, read end of its report pipe
  for (int w = 0; w < writers; ++w) {
    int report[2];
    REQUIRE(::pipe(report) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      ::close(start[1]);
      ::close(report[0]);
      race(file.path(), w, start[0], report[1]);
    }
    ::close(report[1]);
    children.emplace_back(child, report[0]);
  }
  ::close(start[0]);
  ::close(start[1]);  // all writers go at once

  int attempts = 0;
  int conflicts = 0;
  for (const auto& [pid, report] : children) {
    char text[64] = {};
    const ssize_t n = ::read(report, text, sizeof text - 1);
    ::close(report);
    int status = 0;
    ::waitpid(pid, &status, 0);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    REQUIRE(n > 0);
    int a = 0;
    int c = 0;
    REQUIRE(std::sscanf(text, "%d %d", &a, &c) == 2);
    attempts += a;
    conflicts += c;
  }

  SqliteEventStore store({.path = file.path()});
  const auto events = store.read_stream("order-7", 1, 1000, Direction::forward);
  REQUIRE(events.size() == writers * appends_each);
  std::set<std::string> skus;
  for (std::size_t i = 0; i < events.size(); ++i) {
    REQUIRE(events[i].version == i + 1);  // no hole, no duplicate
    skus.insert(events[i].event.payload_as<ItemAdded>().sku);
  }
  CHECK(skus.size() == writers * appends_each);  // every writer's every event, once
  INFO("conflicts across processes: " << conflicts);
  // Every attempt either stored its event or was told it lost: nothing was silently dropped.
  CHECK(attempts - conflicts == writers * appends_each);
  CHECK(store.integrity_check() == "ok");
}
