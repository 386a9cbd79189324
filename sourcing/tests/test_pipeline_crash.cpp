// Pipelined appends across a crash of the store service: a service process (SQLite,
// synchronous=FULL) killed with SIGKILL while a pipelining client keeps 32 appends in
// flight, five times. Afterwards every append the client saw acknowledged is stored exactly
// once; the ones it reported unknown are stored once or not at all; nothing else is stored;
// and appending the unknown ones again (the same ids) stores each exactly once.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include "crash_writer.hpp"
#include "eda/clock.hpp"
#include "eda/sourcing/append_pipeline.hpp"
#include "eda/sourcing/sqlite_store.hpp"
#include "eda/sourcing/store_service.hpp"
#include "store_fixture.hpp"

using namespace std::chrono_literals;
using namespace eda::sourcing;
using eda::sourcing::test::Written;

namespace {

/// A store service process on `endpoint` over the SQLite file at `path`, until killed (or,
/// should nobody kill it, a minute).
class ServiceProcess {
 public:
  ServiceProcess(const std::string& path, const std::string& endpoint) {
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork() failed");
    if (pid_ == 0) serve(path, endpoint);
  }
  ~ServiceProcess() {
    if (pid_ > 0) (void)kill();
  }
  ServiceProcess(const ServiceProcess&) = delete;
  ServiceProcess& operator=(const ServiceProcess&) = delete;

  /// SIGKILL, then collects it; true when that signal is what ended it.
  bool kill() {
    ::kill(pid_, SIGKILL);
    int status = 0;
    const bool collected = ::waitpid(pid_, &status, 0) == pid_;
    pid_ = -1;
    return collected && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  }

 private:
  [[noreturn]] static void serve(const std::string& path, const std::string& endpoint) {
    try {
      zmq::context_t context;  // the child's own: a context must not cross a fork
      SqliteEventStore store({.path = path, .durability = eda::sqlite::Durability::full});
      StoreService service(context, store, {.endpoints = {endpoint}});
      const eda::Deadline give_up(60s);
      while (!give_up.expired()) (void)service.serve_once(20ms);
      _exit(4);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "store service: %s\n", e.what());
      _exit(2);
    }
  }
  pid_t pid_ = -1;
};

/// One append as sent: where, and its events.
struct SentAppend {
  std::string stream;
  std::vector<EventData> events;
};

}  // namespace

TEST_CASE(
    "a store service killed with SIGKILL under pipelined appends: acknowledged appends "
    "stored exactly once, unknown ones at most once and then once when appended again",
    "[service][pipeline][crash]") {
  test::TempDatabase file;
  const std::string socket_path = file.path() + ".ipc";
  const std::string endpoint = "ipc://" + socket_path;
  { SqliteEventStore create({.path = file.path()}); }  // the schema exists before the first kill

  std::set<std::string> acknowledged;
  std::set<std::string> unknown;
  std::map<std::uint64_t, SentAppend> unknown_appends;  // by (round, ticket) below
  std::uint64_t refused = 0;
  std::mt19937_64 random(2026);
  for (std::uint64_t round = 1; round <= 5; ++round) {
    ServiceProcess service(file.path(), endpoint);
    zmq::context_t context;
    std::map<std::uint64_t, SentAppend> in_flight;
    std::uint64_t acknowledged_appends = 0;
    AppendPipeline pipeline(context, {.endpoint = endpoint, .max_in_flight = 32, .timeout = 1s},
                            [&](const PipelinedOutcome& o) {
                              SentAppend sent = std::move(in_flight.at(o.ticket));
                              in_flight.erase(o.ticket);
                              if (o.outcome.ok()) {
                                ++acknowledged_appends;
                                for (const EventData& e : sent.events)
                                  acknowledged.insert(e.event_id);
                              } else if (o.outcome.failure->kind == AppendFailure::Kind::unknown) {
                                for (const EventData& e : sent.events) unknown.insert(e.event_id);
                                unknown_appends.emplace(round * 1'000'000 + o.ticket,
                                                        std::move(sent));
                              } else {
                                ++refused;
                                FAIL_CHECK("refused: " << o.outcome.failure->message);
                              }
                            });
    // Append until a random number of appends have been acknowledged, then kill the service
    // with the window full.
    const std::uint64_t kill_after = 50 + random() % 300;
    const eda::Deadline limit(30s);
    for (std::uint64_t append = 1; acknowledged_appends < kill_after && !limit.expired();
         ++append) {
      SentAppend sent{"stream-" + std::to_string(random() % 4), {}};
      const std::uint64_t size = 1 + random() % 3;
      for (std::uint64_t i = 0; i < size; ++i) {
        const Written event{.round = round, .append = append, .batch_size = size};
        sent.events.push_back(EventData::of(eda::make_metadata<Written>("writer"), event));
      }
      const std::uint64_t ticket = pipeline.stats().sent + 1;
      in_flight.emplace(ticket, sent);
      REQUIRE(pipeline.append(sent.stream, ExpectedVersion::any(), sent.events) == ticket);
    }
    REQUIRE(acknowledged_appends >= kill_after);
    REQUIRE(pipeline.in_flight() > 0);  // it dies with appends in flight
    REQUIRE(service.kill());
    pipeline.flush();  // what was in flight: answered before the kill, or unknown
    CHECK(in_flight.empty());
    CHECK(pipeline.stats().unknown > 0);
  }
  CHECK(refused == 0);
  std::filesystem::remove(socket_path);

  SqliteEventStore store({.path = file.path()});
  CHECK(store.integrity_check() == "ok");
  const std::size_t stored_unacknowledged = test::check_store_after_crashes(store, acknowledged);
  std::set<std::string> stored;
  for (const RecordedEvent& e : store.read_all(1, store.last_position()))
    stored.insert(e.event.meta().event_id);
  std::size_t unknown_stored = 0;
  for (const std::string& id : stored) {
    const bool known = acknowledged.contains(id);
    CHECK((known || unknown.contains(id)));  // nothing stored that the client did not send
    if (!known) ++unknown_stored;
  }
  CHECK(unknown_stored == stored_unacknowledged);

  // Appending every unknown append again: stored now, or found already stored, once each.
  zmq::context_t context;
  StoreService service(context, store, {.endpoints = {"inproc://pipeline-crash-retry"}});
  std::jthread serving([&](const std::stop_token& stop) {
    while (!stop.stop_requested()) (void)service.serve_once(5ms);
  });
  std::uint64_t already_stored = 0;
  std::uint64_t stored_now = 0;
  AppendPipeline retry(context, {.endpoint = "inproc://pipeline-crash-retry", .timeout = 30s},
                       [&](const PipelinedOutcome& o) {
                         REQUIRE(o.outcome.ok());
                         ++(o.outcome.value().already_stored ? already_stored : stored_now);
                       });
  for (const auto& [key, sent] : unknown_appends) {
    (void)retry.append(sent.stream, ExpectedVersion::any(), sent.events);
  }
  retry.flush();
  serving.request_stop();
  serving.join();
  CHECK(already_stored + stored_now == unknown_appends.size());
  std::set<std::string> everything = acknowledged;
  everything.insert(unknown.begin(), unknown.end());
  CHECK(test::check_store_after_crashes(store, everything) == 0);
  CHECK(store.last_position() == everything.size());
}
