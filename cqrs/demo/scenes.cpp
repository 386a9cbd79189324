#include "scenes.hpp"

#include <signal.h>

#include <chrono>
#include <iostream>
#include <stdexcept>

#include "eda/cli.hpp"
#include "eda/clock.hpp"
#include "eda/cqrs/projections.hpp"
#include "eda/latency.hpp"
#include "eda/sourcing/open_store.hpp"
#include "story.hpp"

namespace eda::cqrs::demo {

using namespace std::chrono_literals;
using namespace sourcing;

namespace {

/// Projects every event of `store` into a fresh read-model database: what a clean run gives.
std::string clean_projection(const EventStore& store, const std::string& path) {
  ReadModels clean({.path = path});
  for (std::uint64_t next = 1;;) {
    const auto events = store.read_all(next, 5000);
    if (events.empty()) break;
    clean.apply(events, next);
    next = events.back().position + 1;
  }
  return clean.dump();
}

/// The all-in-one run's event store: a new SQLite file in the run's folder, or the store
/// `--store` names, which the projector child opens too — so a file or a database (not
/// `memory:`, which a second process cannot share), and an empty one: the story numbers
/// its orders from 1.
std::unique_ptr<EventStore> open_story_store(const std::string& spec) {
  const StoreSpec parsed = parse_store_spec(spec);  // throws, naming the accepted forms
  if (parsed.kind == StoreKind::memory) {
    throw std::invalid_argument(
        "--store memory: cannot be shared with the projector process; give a file "
        "or a postgresql:// database");
  }
  std::unique_ptr<EventStore> store = open_event_store(spec);
  if (const std::uint64_t held = store->last_position(); held != 0) {
    throw std::invalid_argument("the all-in-one story needs an empty event store, and " +
                                describe_store_spec(spec) + " already holds " +
                                std::to_string(held) +
                                " events (give it a new database, or run the roles against it)");
  }
  return store;
}

/// `cqrs-demo --role projector ...`: this same program, run apart from the services as it
/// would be in production, so it can be killed without taking them down. It ends with this
/// process, even when this process is killed.
ChildSpec make_projector_spec(const StoryOptions& options, const std::string& store_spec,
                              const std::string& read_path, const std::string& appends,
                              const std::string& progress) {
  std::vector<std::string> argv{eda::this_program_path(),
                                "--role",
                                "projector",
                                "--store",
                                store_spec,
                                "--read",
                                read_path,
                                "--appends",
                                appends,
                                "--progress",
                                progress,
                                "--run-for",
                                "3600",
                                "-q"};
  if (!options.curve_keys.empty()) {  // the child's sockets run CURVE like ours
    argv.insert(argv.end(), {"--curve-keys", options.curve_keys});
  }
  return {.argv = std::move(argv), .output = ChildOutput::inherit, .end_with_owner = true};
}

}  // namespace

RunFolder::RunFolder()
    : path_(std::filesystem::temp_directory_path() /
            ("eda-cqrs-" + eda::new_event_id().substr(20))) {
  std::filesystem::create_directories(path_);
}

RunFolder::~RunFolder() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

Background::Background(std::function<void(const std::function<bool()>&)> loop)
    : thread_([this, loop = std::move(loop)] { loop([this] { return !stop_.load(); }); }) {}

Background::~Background() {
  stop_ = true;
  thread_.join();
}

StoryRun::StoryRun(const StoryOptions& story_options, Narrator& narrator,
                   zmq::context_t& run_context, const CurveSetup& run_curve)
    : options(story_options),
      say(narrator),
      context(run_context),
      curve(run_curve),
      store_spec(story_options.store.empty() ? folder.file("store.db") : story_options.store),
      read_path(folder.file("read.db")),
      appends(folder.ipc("appends")),
      progress(folder.ipc("progress")),
      store(open_story_store(store_spec)),
      notifying(*store, run_context, appends, run_curve.server()),
      command_side(run_context, notifying,
                   {.endpoints = {eda::ephemeral_endpoint(story_options.transport, "commands")},
                    .security = run_curve.server()}),
      read({.path = read_path}),
      query_side(run_context, read,
                 {.endpoints = {eda::ephemeral_endpoint(story_options.transport, "queries")},
                  .projector = progress,
                  .security = run_curve.both()}),
      command_loop([this](const auto& go) {
        while (go()) {
          (void)command_side.serve_once(10ms);
          notifying.serve(0ms);
        }
      }),
      query_loop([this](const auto& go) { query_side.serve_while(go, 10ms); }),
      projector_spec(make_projector_spec(story_options, store_spec, read_path, appends, progress)),
      projector(std::in_place, projector_spec),
      commands(run_context, {.endpoint = command_side.endpoints().front(),
                             .timeout = 5s,
                             .security = run_curve.client()}),
      queries(run_context, {.endpoint = query_side.endpoints().front(),
                            .timeout = 5s,
                            .security = run_curve.client()}) {}

int say_stopped(const StoryOptions& options, Narrator& say, std::optional<std::uint64_t> events) {
  if (options.store.empty()) {
    say.say("demo",
            "stopped: nothing kept (the run's event store and read models were in a temporary "
            "folder, now removed)");
  } else {
    say.say("demo", "stopped: the store keeps " +
                        (events ? std::to_string(*events) + " events" : std::string("the events")) +
                        " in " + describe_store_spec(options.store) +
                        "; the read models were in a temporary folder, now removed");
  }
  return 0;
}

bool introduce(StoryRun& run) {
  Narrator& say = run.say;
  say.heading(
      "CQRS: commands change the write model; a projector turns its events into read models; "
      "queries read only those");
  say.say("command-side", "command service on " + run.command_side.endpoints().front() +
                              ", event store " + describe_store_spec(run.store_spec));
  say.say("projector", "a separate process (pid " + std::to_string(run.projector->pid()) +
                           ") following the store into " + run.read_path);
  say.say("query-side", "query service on " + run.query_side.endpoints().front() +
                            ", reading only " + run.read_path);
  // The tap hears the store announce each append and the projector announce how far its read
  // models reached; the projector names the announcement it acted on as the cause of its own,
  // so each hop in the trace is a projection lag.
  if (run.options.trace) {
    say.say("tracer", "taps the store's appends and the projector's progress");
    run.trace.emplace(run.context,
                      eda::trace::DemoTraceOptions{.endpoints = {run.appends, run.progress},
                                                   .security = run.curve.client()});
  }
  return true;
}

bool commands_go_in(StoryRun& run) {
  run.say.heading("Commands go in");
  for (const auto& [order, command] : story(1, run.options.count)) {
    if (eda::cli::stop_requested()) return false;
    try {
      const CommandAccepted accepted = run.commands.execute(order, command);
      run.token = accepted.position;
      run.say.say("client", "order " + std::to_string(order) + ": " + describe(command) +
                                " -> stored at position " + std::to_string(accepted.position));
    } catch (const CommandRefused& e) {
      run.say.say("client", "order " + std::to_string(order) + ": " + describe(command) + " -> " +
                                e.status() + ": " + e.what());
    }
  }
  return true;
}

bool queries_come_out(StoryRun& run) {
  if (eda::cli::stop_requested()) return false;
  Narrator& say = run.say;
  const Consistency as_of_token{.min_position = run.token, .wait = 10s};
  say.heading("Queries come out: every answer says which position it reflects");
  for (const std::string& customer : customers()) {
    const auto orders = run.queries.customer_orders(customer, as_of_token);
    for (const OrderSummary& order : orders.rows) {
      say.say("query-side", customer + ", as of position " + std::to_string(orders.position) +
                                ": " + describe(order));
    }
  }
  const auto sales = run.queries.sales_by_day("2000-01-01", "2999-12-31", as_of_token);
  for (const ProductDaySales& day : sales.rows) say.say("query-side", "sales " + describe(day));
  const auto waiting = run.queries.awaiting_shipment(10, as_of_token);
  say.say("query-side",
          std::to_string(waiting.rows.size()) + " paid orders wait for shipment, oldest first");
  return true;
}

bool read_side_lags(StoryRun& run) {
  if (eda::cli::stop_requested()) return false;
  Narrator& say = run.say;
  say.heading("The read side lags behind the write side: how much, and read-your-writes");
  const std::uint64_t first_erin = run.options.count + 1;
  int stale = 0;
  eda::LatencyRecorder lag;
  constexpr std::uint64_t rounds = 50;
  for (std::uint64_t i = 0; i < rounds; ++i) {
    if (eda::cli::stop_requested()) return false;
    const CommandAccepted placed = run.commands.execute(first_erin + i, PlaceOrder{"erin"});
    const std::int64_t written = eda::monotonic_ns();
    if (run.queries.customer_orders("erin").position < placed.position)
      ++stale;  // no token: whatever is there
    const auto mine =
        run.queries.customer_orders("erin", {.min_position = placed.position, .wait = 10s});
    lag.record(eda::monotonic_ns() - written);
    if (mine.rows.size() != static_cast<std::size_t>(i + 1))
      throw std::runtime_error("read-your-writes broken");
    run.token = placed.position;
  }
  const auto seen = lag.summary();
  say.say("client", std::to_string(stale) + " of " + std::to_string(rounds) +
                        " queries asked right after a command (no token) did not see it yet");
  say.say(
      "client",
      "with the command's position as token, every answer included it; write to readable: p50 " +
          eda::format_duration(seen.p50_ns) + ", p99 " + eda::format_duration(seen.p99_ns));
  try {
    (void)run.queries.customer_orders("erin", {.min_position = run.token + 1000, .wait = 300ms});
  } catch (const ConsistencyTimeout& e) {
    say.say("client", std::string("a token nobody wrote yet: ") + e.what());
  }
  return true;
}

bool projector_killed_and_resumes(StoryRun& run) {
  if (eda::cli::stop_requested()) return false;
  Narrator& say = run.say;
  EventStore& store = *run.store;
  say.heading("The projector is killed with SIGKILL in the middle of its work, and resumes");
  std::optional<Background> burst;
  burst.emplace([&](const auto&) {
    CommandClient writer(run.context, {.endpoint = run.command_side.endpoints().front(),
                                       .timeout = 5s,
                                       .security = run.curve.client()});
    for (const auto& [order, command] : story(1000, 150)) {
      try {
        (void)writer.execute(order, command);
      } catch (const CommandRefused&) {
      }
    }
  });
  for (int i = 0; i < 1000 && store.last_position() < run.token + 150; ++i)
    std::this_thread::sleep_for(1ms);
  run.projector->signal(SIGKILL);
  const ChildResult ended = run.projector->wait(10s);
  run.projector.reset();
  const bool killed = ended.signal == SIGKILL;
  say.say("demo", std::string(killed ? "SIGKILL" : "stopped") +
                      " the projector while the store was at position " +
                      std::to_string(store.last_position()) +
                      "; the read models had committed up to " +
                      std::to_string(run.read.position()));
  burst.reset();  // the commands go on without it: the write side does not need the read side
  const std::uint64_t end = store.last_position();
  say.say("command-side",
          "all commands accepted meanwhile; store at position " + std::to_string(end));
  say.say("query-side", "answers still come, from position " +
                            std::to_string(run.queries.customer_orders("alice").position) +
                            ": stale, and they say so");
  run.projector.emplace(run.projector_spec);
  say.say("projector", "restarted (pid " + std::to_string(run.projector->pid()) +
                           "): it resumes after its checkpoint");
  const auto caught_up = run.queries.customer_orders("alice", {.min_position = end, .wait = 30s});
  say.say("query-side",
          "caught up: answers reflect position " + std::to_string(caught_up.position));
  const bool identical = run.read.dump() == clean_projection(store, run.folder.file("clean.db"));
  say.say("demo",
          std::string("read models compared with a clean projection of the same store: ") +
              (identical ? "identical, nothing counted twice, nothing skipped" : "DIFFERENT"));
  if (!identical) throw std::runtime_error("the resumed projection differs from a clean one");
  return true;
}

bool projection_rebuilt(StoryRun& run) {
  if (eda::cli::stop_requested()) return false;
  Narrator& say = run.say;
  say.heading("A projection dropped and rebuilt from the store, while the projector keeps running");
  if (run.options.tamper) {
    run.read.reset(sales_projection);
    say.say("demo",
            "--tamper: the live sales-by-day read model emptied behind the projector's back "
            "(as a botched migration would)");
  }
  const std::string before = run.read.dump();
  eda::Deadline next_line(0ms);
  const std::uint64_t replayed = rebuild(
      run.read, *run.store, sales_projection,
      [&](std::uint64_t at, std::uint64_t last) {
        if (next_line.expired() || at == last) {
          say.say("rebuild", "sales-by-day rebuilt up to position " + std::to_string(at) + " of " +
                                 std::to_string(last));
          next_line = eda::Deadline(200ms);
        }
      },
      500);
  const bool rebuilt_identical = run.read.dump() == before;
  say.say("rebuild",
          std::to_string(replayed) + " events replayed; the rebuilt read model is " +
              (rebuilt_identical ? "identical to the live one" : "DIFFERENT from the live one"));
  if (!rebuilt_identical) {
    throw std::runtime_error(
        "the rebuilt sales-by-day read model differs from the live one: the live one had "
        "drifted from the events (a projection bug, or a change made behind the projector)");
  }
  return true;
}

void summary(StoryRun& run) {
  run.say.heading("Summary");
  run.say.say("demo", std::to_string(run.store->last_position()) +
                          " events written by the command side; the read side "
                          "answered from its own tables, never touching them");
  if (run.trace) {
    // At least every append's announcement; the projector's follow (fewer: it batches).
    (void)run.trace->report(std::cout, run.notifying.announcements());
  }
}

}  // namespace eda::cqrs::demo
