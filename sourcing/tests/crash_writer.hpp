// The crash tests' common part, for any store a store spec names (test_crash.cpp: SQLite,
// test_postgres_crash.cpp: PostgreSQL): a writer process that appends until it is killed and
// tells the test, through a pipe, which appends it saw acknowledged; and the checks made on
// the store once every kill is over.
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "eda/sourcing/open_store.hpp"

namespace eda::sourcing::test {

/// The application name of the writer's PostgreSQL session, by which a test finds it on the
/// server (SQLite ignores it).
inline constexpr std::string_view crash_writer_name = "eda-crash-writer";

/// One event of an append made by the writer: which kill round made it, which of that round's
/// appends it belongs to and how many events that append had, so that an append stored only
/// in part shows in the store.
struct Written {
  static constexpr std::string_view event_type = "test.written";
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t round = 0;       ///< The kill round (one writer process each).
  std::uint64_t append = 0;      ///< The writer's count of its appends in that round, from 1.
  std::uint64_t batch_size = 0;  ///< How many events that append had.
  std::string filler = std::string(200, 'x');  ///< A payload worth tearing.
  MSGPACK_DEFINE(round, append, batch_size, filler)
};

/// The writer's whole life, in the child after fork(): opens its own store (its own
/// connection) from `spec`, then appends batches of 1..3 events to a few streams until it is
/// killed, writing the ids of every acknowledged append's events to `acks`, one line per
/// append. Should nobody kill it, it stops after a minute or a million appends (exit 4); a
/// store that fails exits 2, a pipe that fails exits 3.
[[noreturn]] inline void append_until_killed(const std::string& spec, int acks,
                                             std::uint64_t round) {
  try {
    const std::unique_ptr<EventStore> store =
        open_event_store(spec, {.application_name = std::string(crash_writer_name)});
    std::mt19937_64 random(round);
    const auto give_up_at = std::chrono::steady_clock::now() + std::chrono::minutes(1);
    for (std::uint64_t append = 1;
         append <= 1'000'000 && std::chrono::steady_clock::now() < give_up_at; ++append) {
      const std::uint64_t size = 1 + random() % 3;
      std::vector<EventData> batch;
      for (std::uint64_t i = 0; i < size; ++i) {
        const Written event{.round = round, .append = append, .batch_size = size};
        batch.push_back(EventData::of(eda::make_metadata<Written>("writer"), event));
      }
      store->append("stream-" + std::to_string(random() % 4), ExpectedVersion::any(), batch);
      std::string line;
      for (const EventData& event : batch) line += event.event_id + " ";
      line += "\n";
      // Shorter than PIPE_BUF, so written whole or not at all.
      if (::write(acks, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(3);
    }
    _exit(4);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "writer: %s\n", e.what());
    _exit(2);
  }
}

/// A writer process (append_until_killed) and the pipe on which it acknowledges its appends.
/// The writer runs from construction; kill() ends it, acknowledged() then tells what it saw
/// stored. A writer still running when this is destroyed is killed and collected.
class KilledWriter {
 public:
  /// Starts the writer of kill round `round` on the store `spec` names.
  KilledWriter(const std::string& spec, std::uint64_t round) {
    int ends[2];
    if (::pipe(ends) != 0) throw std::runtime_error("pipe() failed");
    child_ = ::fork();
    if (child_ < 0) {
      ::close(ends[0]);
      ::close(ends[1]);
      throw std::runtime_error("fork() failed");
    }
    if (child_ == 0) {
      ::close(ends[0]);
      append_until_killed(spec, ends[1], round);
    }
    ::close(ends[1]);
    acks_ = ends[0];
  }
  ~KilledWriter() {
    if (child_ > 0) kill();
    ::close(acks_);
  }
  KilledWriter(const KilledWriter&) = delete;
  KilledWriter& operator=(const KilledWriter&) = delete;

  /// Waits, at most `limit`, until the writer has acknowledged an append; false when it has
  /// not (it is slow, or it died on its own).
  bool await_first_acknowledgement(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (received_.find('\n') == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd ready{.fd = acks_, .events = POLLIN, .revents = 0};
      if (::poll(&ready, 1, static_cast<int>(left.count())) < 0) return false;
      if (ready.revents != 0 && !receive_some()) return false;  // the pipe closed: it died
    }
    return true;
  }

  /// Kills the writer with SIGKILL and collects it; true when that signal is what ended it
  /// (false: it had already ended on its own, a failure of its own).
  bool kill() {
    ::kill(child_, SIGKILL);
    int status = 0;
    const bool collected = ::waitpid(child_, &status, 0) == child_;
    child_ = -1;
    return collected && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  }

  /// After kill(): the ids of the events of every append the writer saw acknowledged. Only
  /// complete lines count; a line it had no time to finish was not acknowledged.
  std::vector<std::string> acknowledged() {
    while (receive_some()) {
    }
    std::vector<std::string> ids;
    for (std::size_t start = 0, end; (end = received_.find('\n', start)) != std::string::npos;
         start = end + 1) {
      const std::string line = received_.substr(start, end - start);
      for (std::size_t a = 0, b; (b = line.find(' ', a)) != std::string::npos; a = b + 1) {
        ids.push_back(line.substr(a, b - a));
      }
    }
    return ids;
  }

 private:
  /// Reads what the pipe holds (blocking until something comes); false at its end.
  bool receive_some() {
    char chunk[4096];
    const ssize_t n = ::read(acks_, chunk, sizeof chunk);
    if (n <= 0) return false;
    received_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  pid_t child_ = -1;
  int acks_ = -1;
  std::string received_;
};

/// The checks once the kills are over, on everything `store` holds: every payload decodes;
/// every event is there once; global positions run 1..last without a hole; each stream's
/// versions run 1..N without a hole or a duplicate; no append is there in part (an append
/// the writer was killed in is there whole or not at all); and every id in `acknowledged`
/// is among the stored events. Returns how many stored events were never acknowledged:
/// those of appends that committed while their writer died, before it could say so.
inline std::size_t check_store_after_crashes(const EventStore& store,
                                             const std::set<std::string>& acknowledged) {
  std::set<std::string> stored;
  std::map<std::string, std::uint64_t> last_version;
  std::uint64_t last_position = 0;
  struct StoredAppend {
    std::string stream;
    std::uint64_t events = 0;
    std::uint64_t batch_size = 0;
  };
  std::map<std::pair<std::uint64_t, std::uint64_t>, StoredAppend> appends;  // (round, append)
  for (std::vector<RecordedEvent> page = store.read_all(1, 1000); !page.empty();
       page = store.read_all(last_position + 1, 1000)) {
    for (const RecordedEvent& recorded : page) {
      const Written written = recorded.event.payload_as<Written>();  // decodes
      REQUIRE(written.filler.size() == 200);
      REQUIRE(stored.insert(recorded.event.meta().event_id).second);  // once
      REQUIRE(recorded.position == last_position + 1);                // no hole
      last_position = recorded.position;
      REQUIRE(recorded.version == ++last_version[recorded.stream]);  // no hole, no duplicate
      StoredAppend& append = appends[{written.round, written.append}];
      if (append.events > 0) REQUIRE(append.stream == recorded.stream);  // one stream each
      append.stream = recorded.stream;
      append.batch_size = written.batch_size;
      ++append.events;
    }
  }
  CHECK(store.last_position() == last_position);
  for (const auto& [which, append] : appends) {
    INFO("round " << which.first << ", append " << which.second << " (" << append.stream << ")");
    REQUIRE(append.events == append.batch_size);  // all of it or none of it
  }
  INFO(acknowledged.size() << " acknowledged, " << stored.size() << " stored");
  REQUIRE_FALSE(acknowledged.empty());
  for (const std::string& id : acknowledged) {
    INFO("acknowledged event " << id);
    REQUIRE(stored.count(id) == 1);  // nothing acknowledged was lost
  }
  return stored.size() - acknowledged.size();
}

}  // namespace eda::sourcing::test
