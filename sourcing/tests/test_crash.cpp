// Crash safety: a writer process killed with SIGKILL at random moments, a hundred times.
// Afterwards the database is intact, every append the writer saw acknowledged is there
// exactly once, every stream's versions run 1..N without a hole, every payload decodes.
// (This covers process crashes; power loss is what synchronous=FULL is for.)
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include "eda/sourcing/sqlite_store.hpp"
#include "store_fixture.hpp"

using namespace eda::sourcing;

namespace {

struct Written {
  static constexpr std::string_view event_type = "test.written";
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t round = 0;
  std::string filler = std::string(200, 'x');  // a payload worth tearing
  MSGPACK_DEFINE(round, filler)
};

/// The child: appends batches of 1..3 events to a few streams until it is killed, writing the
/// id of the first event of every acknowledged append to `acks` (one line each).
[[noreturn]] void write_until_killed(const std::string& path, int acks, std::uint64_t round) {
  try {
    SqliteEventStore store({.path = path});
    std::mt19937_64 random(round);
    for (std::uint64_t n = 0;; ++n) {
      std::vector<EventData> batch;
      for (std::uint64_t i = 0; i <= random() % 3; ++i) {
        batch.push_back(EventData::of(eda::make_metadata<Written>("writer"), Written{round}));
      }
      store.append("stream-" + std::to_string(random() % 4), ExpectedVersion::any(), batch);
      std::string line;
      for (const EventData& event : batch) line += event.event_id + " ";
      line += "\n";
      if (::write(acks, line.data(), line.size()) < 0) _exit(3);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "writer: %s\n", e.what());
    _exit(2);
  }
}

}  // namespace

TEST_CASE("a writer killed with SIGKILL a hundred times loses no acknowledged event and "
          "leaves no damage", "[sqlite][crash]") {
  test::TempDatabase file;
  { SqliteEventStore create({.path = file.path()}); }  // the schema exists before the first kill
  std::set<std::string> acknowledged;
  std::mt19937 random(2026);
  for (std::uint64_t round = 1; round <= 100; ++round) {
    int pipe_fds[2];
    REQUIRE(::pipe(pipe_fds) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      ::close(pipe_fds[0]);
      write_until_killed(file.path(), pipe_fds[1], round);
    }
    ::close(pipe_fds[1]);
    // Let it run a random while (the point at which it dies is what is being tested).
    std::this_thread::sleep_for(std::chrono::microseconds(500 + random() % 20'000));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    REQUIRE((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));  // it did not fail on its own
    std::string text;
    char chunk[4096];
    for (ssize_t n; (n = ::read(pipe_fds[0], chunk, sizeof chunk)) > 0;) text.append(chunk, n);
    ::close(pipe_fds[0]);
    // Only complete lines were acknowledged; a torn last line was not.
    for (std::size_t start = 0, end; (end = text.find('\n', start)) != std::string::npos;
         start = end + 1) {
      std::string line = text.substr(start, end - start);
      for (std::size_t a = 0, b; (b = line.find(' ', a)) != std::string::npos; a = b + 1) {
        acknowledged.insert(line.substr(a, b - a));
      }
    }
  }

  SqliteEventStore store({.path = file.path()});
  CHECK(store.integrity_check() == "ok");
  std::set<std::string> stored;
  std::map<std::string, std::uint64_t> last_version;
  std::uint64_t position = 0;
  for (const RecordedEvent& recorded : store.read_all(1, 10'000'000)) {  // every payload decodes
    REQUIRE(recorded.event.payload_as<Written>().filler.size() == 200);
    REQUIRE(stored.insert(recorded.event.meta().event_id).second);  // exactly once
    REQUIRE(recorded.version == ++last_version[recorded.stream]);  // no hole, no duplicate
    REQUIRE(recorded.position > position);
    position = recorded.position;
  }
  INFO(acknowledged.size() << " acknowledged, " << stored.size() << " stored");
  REQUIRE_FALSE(acknowledged.empty());
  for (const std::string& id : acknowledged) {
    REQUIRE(stored.count(id) == 1);  // nothing acknowledged was lost
  }
}
