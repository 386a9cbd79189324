// cqrs-demo: CQRS against its single-model baseline, on the shop's story.
//
// Narrated and bounded: commands go in through the command service, a projector (a separate
// process) turns the events into read models, queries come out of the query service. The
// reader sees the lag between write and read, a read-your-writes query, the projector killed
// with SIGKILL and resumed without double counting, and a projection rebuilt. `--baseline`
// runs the same commands and queries on one normalized model.

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <iostream>
#include <optional>
#include <thread>

#include "eda/cli.hpp"
#include "eda/clock.hpp"
#include "eda/cqrs/command_service.hpp"
#include "eda/cqrs/projections.hpp"
#include "eda/cqrs/query_service.hpp"
#include "eda/cqrs/read_models.hpp"
#include "eda/cqrs/single_model.hpp"
#include "eda/endpoint.hpp"
#include "eda/latency.hpp"
#include "eda/narrator.hpp"
#include "eda/sourcing/open_store.hpp"
#include "eda/sourcing/sqlite_store.hpp"
#include "eda/sourcing/subscription.hpp"
#include "eda/trace/demo_trace.hpp"
#include "roles.hpp"
#include "story.hpp"

extern char** environ;

namespace {

using namespace eda::cqrs;
using namespace eda::cqrs::demo;
using namespace eda::sourcing;
using namespace std::chrono_literals;

/// Everything the command line says.
struct Settings {
  eda::cli::CommonOptions common;
  bool baseline = false;
  std::string role = "all";
  RoleSettings roles;
  bool trace = false;  // --trace: tap the store's append notifications and the projector's progress
  bool tamper =
      false;  // --tamper: fault injection, the live sales read model emptied before the rebuild
};

/// The last line of an all-in-one run stopped by Ctrl-C or SIGTERM: what it leaves behind
/// (`events`: how many the store holds, when known).
int say_stopped(const Settings& s, eda::Narrator& say, std::optional<std::uint64_t> events) {
  if (s.roles.store.empty()) {
    say.say("demo",
            "stopped: nothing kept (the run's event store and read models were in a temporary "
            "folder, now removed)");
  } else {
    say.say("demo", "stopped: the store keeps " +
                        (events ? std::to_string(*events) + " events" : std::string("the events")) +
                        " in " + describe_store_spec(s.roles.store) +
                        "; the read models were in a temporary folder, now removed");
  }
  return 0;
}

/// A fresh folder for the run's databases and ipc endpoints, removed afterwards.
class RunFolder {
 public:
  RunFolder()
      : path_(std::filesystem::temp_directory_path() /
              ("eda-cqrs-" + eda::new_event_id().substr(20))) {
    std::filesystem::create_directories(path_);
  }
  ~RunFolder() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  RunFolder(const RunFolder&) = delete;
  RunFolder& operator=(const RunFolder&) = delete;
  [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }
  [[nodiscard]] std::string ipc(const std::string& name) const { return "ipc://" + file(name); }

 private:
  std::filesystem::path path_;
};

/// `cqrs-demo --role projector ...` as a child process: the projector runs apart from the
/// services, as it would in production, so it can be killed without taking them down.
class ProjectorProcess {
 public:
  explicit ProjectorProcess(std::vector<std::string> args) : args_(std::move(args)) { start(); }
  ~ProjectorProcess() { stop(SIGTERM); }
  ProjectorProcess(const ProjectorProcess&) = delete;
  ProjectorProcess& operator=(const ProjectorProcess&) = delete;

  void start() {
    std::vector<char*> argv;
    for (std::string& arg : args_) argv.push_back(arg.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, "/proc/self/exe", nullptr, nullptr, argv.data(), environ) != 0) {
      throw std::runtime_error("cannot start the projector process");
    }
  }
  /// Sends `signal` and waits (bounded) for the process to end; true if it was killed by it.
  bool stop(int signal) {
    if (pid_ <= 0) return false;
    ::kill(pid_, signal);
    int status = 0;
    for (int i = 0; i < 500 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i)
      std::this_thread::sleep_for(10ms);
    if (::waitpid(pid_, &status, WNOHANG) == 0) {  // did not stop in 5 s: no more asking
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
    pid_ = -1;
    return WIFSIGNALED(status) && WTERMSIG(status) == signal;
  }
  [[nodiscard]] pid_t pid() const noexcept { return pid_; }

 private:
  std::vector<std::string> args_;
  pid_t pid_ = -1;
};

/// Runs `loop(keep_going)` on its own thread until destroyed.
class Background {
 public:
  explicit Background(std::function<void(const std::function<bool()>&)> loop)
      : thread_([this, loop = std::move(loop)] { loop([this] { return !stop_.load(); }); }) {}
  ~Background() {
    stop_ = true;
    thread_.join();
  }
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

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

int run_pattern(const Settings& s, eda::Narrator& say) {
  const RunFolder folder;
  const std::string store_spec = s.roles.store.empty() ? folder.file("store.db") : s.roles.store;
  const std::string read_path = folder.file("read.db");
  const std::string appends = folder.ipc("appends"), progress = folder.ipc("progress");
  zmq::context_t context;
  const auto curve = eda::cli::secure_context(context, s.roles.curve_keys);
  const std::unique_ptr<EventStore> opened = open_story_store(store_spec);
  EventStore& store = *opened;
  NotifyingEventStore notifying(store, context, appends);
  CommandService command_side(
      context, notifying, {.endpoints = {eda::ephemeral_endpoint(s.common.transport, "commands")}});
  ReadModels read({.path = read_path});
  QueryService query_side(context, read,
                          {.endpoints = {eda::ephemeral_endpoint(s.common.transport, "queries")},
                           .projector = progress});
  Background command_loop([&](const auto& go) {
    while (go()) {
      (void)command_side.serve_once(10ms);
      notifying.serve(0ms);
    }
  });
  Background query_loop([&](const auto& go) { query_side.serve_while(go, 10ms); });
  std::vector<std::string> projector_args{
      "cqrs-demo", "--role", "projector",  "--store", store_spec,  "--read", read_path,
      "--appends", appends,  "--progress", progress,  "--run-for", "3600",   "-q"};
  if (!s.roles.curve_keys.empty()) {  // the child's sockets run CURVE like ours
    projector_args.insert(projector_args.end(), {"--curve-keys", s.roles.curve_keys});
  }
  ProjectorProcess projector(std::move(projector_args));
  CommandClient commands(context, {.endpoint = command_side.endpoints().front(), .timeout = 5s});
  QueryClient queries(context, {.endpoint = query_side.endpoints().front(), .timeout = 5s});

  say.heading(
      "CQRS: commands change the write model; a projector turns its events into read models; "
      "queries read only those");
  say.say("command-side", "command service on " + command_side.endpoints().front() +
                              ", event store " + describe_store_spec(store_spec));
  say.say("projector", "a separate process (pid " + std::to_string(projector.pid()) +
                           ") following the store into " + read_path);
  say.say("query-side",
          "query service on " + query_side.endpoints().front() + ", reading only " + read_path);
  // The tap hears the store announce each append and the projector announce how far its read
  // models reached; the projector names the announcement it acted on as the cause of its own,
  // so each hop in the trace is a projection lag.
  std::optional<eda::trace::DemoTrace> trace;
  if (s.trace) {
    say.say("tracer", "taps the store's appends and the projector's progress");
    trace.emplace(context, eda::trace::DemoTraceOptions{.endpoints = {appends, progress}});
  }

  // A stop request ends the run between two commands or two scenes.
  const auto stopped = [&] { return say_stopped(s, say, store.last_position()); };
  say.heading("Commands go in");
  std::uint64_t token = 0;
  for (const auto& [order, command] : story(1, s.common.count)) {
    if (eda::cli::stop_requested()) return stopped();
    try {
      const CommandAccepted accepted = commands.execute(order, command);
      token = accepted.position;
      say.say("client", "order " + std::to_string(order) + ": " + describe(command) +
                            " -> stored at position " + std::to_string(accepted.position));
    } catch (const CommandRefused& e) {
      say.say("client", "order " + std::to_string(order) + ": " + describe(command) + " -> " +
                            e.status() + ": " + e.what());
    }
  }

  if (eda::cli::stop_requested()) return stopped();
  say.heading("Queries come out: every answer says which position it reflects");
  for (const std::string& customer : customers()) {
    const auto orders = queries.customer_orders(customer, {.min_position = token, .wait = 10s});
    for (const OrderSummary& order : orders.rows) {
      say.say("query-side", customer + ", as of position " + std::to_string(orders.position) +
                                ": " + describe(order));
    }
  }
  const auto sales =
      queries.sales_by_day("2000-01-01", "2999-12-31", {.min_position = token, .wait = 10s});
  for (const ProductDaySales& day : sales.rows) say.say("query-side", "sales " + describe(day));
  const auto waiting = queries.awaiting_shipment(10, {.min_position = token, .wait = 10s});
  say.say("query-side",
          std::to_string(waiting.rows.size()) + " paid orders wait for shipment, oldest first");

  if (eda::cli::stop_requested()) return stopped();
  say.heading("The read side lags behind the write side: how much, and read-your-writes");
  const std::uint64_t first_erin = s.common.count + 1;
  int stale = 0;
  eda::LatencyRecorder lag;
  constexpr int rounds = 50;
  for (int i = 0; i < rounds; ++i) {
    if (eda::cli::stop_requested()) return stopped();
    const CommandAccepted placed = commands.execute(first_erin + i, PlaceOrder{"erin"});
    const std::int64_t written = eda::monotonic_ns();
    if (queries.customer_orders("erin").position < placed.position)
      ++stale;  // no token: whatever is there
    const auto mine =
        queries.customer_orders("erin", {.min_position = placed.position, .wait = 10s});
    lag.record(eda::monotonic_ns() - written);
    if (mine.rows.size() != static_cast<std::size_t>(i + 1))
      throw std::runtime_error("read-your-writes broken");
    token = placed.position;
  }
  const auto seen = lag.summary();
  say.say("client", std::to_string(stale) + " of " + std::to_string(rounds) +
                        " queries asked right after a command (no token) did not see it yet");
  say.say(
      "client",
      "with the command's position as token, every answer included it; write to readable: p50 " +
          eda::format_duration(seen.p50_ns) + ", p99 " + eda::format_duration(seen.p99_ns));
  try {
    (void)queries.customer_orders("erin", {.min_position = token + 1000, .wait = 300ms});
  } catch (const ConsistencyTimeout& e) {
    say.say("client", std::string("a token nobody wrote yet: ") + e.what());
  }

  if (eda::cli::stop_requested()) return stopped();
  say.heading("The projector is killed with SIGKILL in the middle of its work, and resumes");
  std::atomic<std::uint64_t> burst_done{0};
  std::optional<Background> burst;
  burst.emplace([&](const auto&) {
    CommandClient writer(context, {.endpoint = command_side.endpoints().front(), .timeout = 5s});
    for (const auto& [order, command] : story(1000, 150)) {
      try {
        (void)writer.execute(order, command);
      } catch (const CommandRefused&) {
      }
    }
    burst_done = 1;
  });
  for (int i = 0; i < 1000 && store.last_position() < token + 150; ++i)
    std::this_thread::sleep_for(1ms);
  const bool killed = projector.stop(SIGKILL);
  say.say("demo", std::string(killed ? "SIGKILL" : "stopped") +
                      " the projector while the store was at position " +
                      std::to_string(store.last_position()) +
                      "; the read models had committed up to " + std::to_string(read.position()));
  burst.reset();  // the commands go on without it: the write side does not need the read side
  const std::uint64_t end = store.last_position();
  say.say("command-side",
          "all commands accepted meanwhile; store at position " + std::to_string(end));
  say.say("query-side", "answers still come, from position " +
                            std::to_string(queries.customer_orders("alice").position) +
                            ": stale, and they say so");
  projector.start();
  say.say("projector", "restarted (pid " + std::to_string(projector.pid()) +
                           "): it resumes after its checkpoint");
  const auto caught_up = queries.customer_orders("alice", {.min_position = end, .wait = 30s});
  say.say("query-side",
          "caught up: answers reflect position " + std::to_string(caught_up.position));
  const bool identical = read.dump() == clean_projection(store, folder.file("clean.db"));
  say.say("demo",
          std::string("read models compared with a clean projection of the same store: ") +
              (identical ? "identical, nothing counted twice, nothing skipped" : "DIFFERENT"));
  if (!identical) throw std::runtime_error("the resumed projection differs from a clean one");

  if (eda::cli::stop_requested()) return stopped();
  say.heading("A projection dropped and rebuilt from the store, while the projector keeps running");
  if (s.tamper) {
    read.reset(sales_projection);
    say.say("demo",
            "--tamper: the live sales-by-day read model emptied behind the projector's back "
            "(as a botched migration would)");
  }
  const std::string before = read.dump();
  eda::Deadline next_line(0ms);
  const std::uint64_t replayed = rebuild(
      read, store, sales_projection,
      [&](std::uint64_t at, std::uint64_t last) {
        if (next_line.expired() || at == last) {
          say.say("rebuild", "sales-by-day rebuilt up to position " + std::to_string(at) + " of " +
                                 std::to_string(last));
          next_line = eda::Deadline(200ms);
        }
      },
      500);
  const bool rebuilt_identical = read.dump() == before;
  say.say("rebuild",
          std::to_string(replayed) + " events replayed; the rebuilt read model is " +
              (rebuilt_identical ? "identical to the live one" : "DIFFERENT from the live one"));
  if (!rebuilt_identical) {
    throw std::runtime_error(
        "the rebuilt sales-by-day read model differs from the live one: the live one had "
        "drifted from the events (a projection bug, or a change made behind the projector)");
  }

  say.heading("Summary");
  say.say("demo", std::to_string(store.last_position()) +
                      " events written by the command side; the read side "
                      "answered from its own tables, never touching them");
  if (trace) {
    // At least every append's announcement; the projector's follow (fewer: it batches).
    (void)trace->report(std::cout, notifying.announcements());
  }
  return 0;
}

int run_baseline(const Settings& s, eda::Narrator& say) {
  const RunFolder folder;
  baseline::SingleModelShop shop({.path = folder.file("shop.db")});
  say.heading("Baseline: one model — commands update normalized tables, queries join them");
  for (const auto& [order, command] : story(1, s.common.count)) {
    if (eda::cli::stop_requested()) {
      say.say("demo",
              "stopped: nothing kept (the single model was in a temporary folder, now removed)");
      return 0;
    }
    try {
      shop.execute(order, command, eda::wall_clock_ns());
      say.say("order-service",
              "order " + std::to_string(order) + ": " + describe(command) + " -> done");
    } catch (const CommandRejected& e) {
      say.say("order-service", "order " + std::to_string(order) + ": " + describe(command) +
                                   " -> rejected: " + e.what());
    }
  }
  say.heading(
      "Queries read the same tables the commands just wrote: never stale, never ahead of the work");
  for (const std::string& customer : customers()) {
    for (const OrderSummary& order : shop.customer_orders(customer))
      say.say("query", customer + ": " + describe(order));
  }
  for (const ProductDaySales& day : shop.sales_by_day("2000-01-01", "2999-12-31")) {
    say.say("query", "sales " + describe(day));
  }
  say.say("query",
          std::to_string(shop.awaiting_shipment(10).size()) + " paid orders wait for shipment");
  say.say("baseline",
          "the price: every query joins and aggregates at read time, on the tables writers lock; "
          "bench-cqrs measures what that costs as the history grows");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "cqrs-demo: CQRS against its single-model baseline.\n"
      "Commands go to a command service on the event store; a projector process turns the\n"
      "events into read models; a query service answers from those only. Shown: the lag\n"
      "between write and read, read-your-writes with a consistency token, the projector\n"
      "killed and resumed, a projection rebuilt. With --baseline, one model does both.\n\n"
      "All in one run (the projector is a child process; the store a new SQLite file, or\n"
      "an empty one --store names, e.g. a PostgreSQL database):\n"
      "  cqrs-demo [--count N] [--baseline] [--store postgresql://...]\n"
      "One role per process (start them in any order):\n"
      "  cqrs-demo --role command   --store store.db --commands tcp://*:5801 --appends "
      "tcp://*:5802\n"
      "  cqrs-demo --role projector --store store.db --read read.db --appends tcp://HOST:5802 "
      "--progress tcp://*:5803\n"
      "  cqrs-demo --role query     --read read.db --queries tcp://*:5804 --progress "
      "tcp://HOST:5803\n"
      "  cqrs-demo --role client    --commands tcp://HOST:5801 --queries tcp://HOST:5804 --count "
      "3\n"
      "(--store may also be sqlite:FILE, postgresql://... or a `sourcing-demo --role store`\n"
      "endpoint, for several machines.)\n"};
  Settings s;
  RoleSettings& r = s.roles;
  eda::cli::add_common_options(app, s.common, 10'000);
  app.add_flag("--baseline", s.baseline, "Run the single-model version instead");
  app.add_option("--role", s.role, "all (default), command, projector, query or client")
      ->check(CLI::IsMember({"all", "command", "projector", "query", "client"}));
  app.add_option(
      "--store", r.store,
      "Command and projector: the event store (FILE, sqlite:FILE, postgresql://... or a store "
      "service endpoint tcp://...); all in one: an empty FILE or database (default: a new file)");
  app.add_option("--read", r.read, "Projector and query: the read-model database file");
  eda::cli::add_endpoint_option(
      app, "--commands", r.commands,
      "Command: where to serve commands (default tcp://*:5801); client: where to send them "
      "(default tcp://127.0.0.1:5801)");
  eda::cli::add_endpoint_option(
      app, "--appends", r.appends,
      "Command: where to announce appends (default tcp://*:5802); projector: where to hear "
      "them (default: poll the store)");
  eda::cli::add_endpoint_option(
      app, "--progress", r.progress,
      "Projector: where to announce progress (default tcp://*:5803); query: where to hear it "
      "(default: poll the checkpoints)");
  eda::cli::add_endpoint_option(
      app, "--queries", r.queries,
      "Query: where to answer (default tcp://*:5804); client: where to ask "
      "(default tcp://127.0.0.1:5804)");
  app.add_option("--rebuild", r.rebuild, "Projector: rebuild this projection first")
      ->check(CLI::IsMember({std::string(customer_orders_projection), std::string(sales_projection),
                             std::string(shipment_projection)}));
  app.add_option("--first-order", r.first_order, "Client: the first order id")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 53));
  app.add_flag("--trace", s.trace, eda::trace::trace_flag_help);
  app.add_flag(
      "--tamper", s.tamper,
      "Fault injection (all in one): empty the live sales-by-day read model behind the projector's "
      "back before it is rebuilt; the rebuild then differs from the live model and the demo fails, "
      "saying so: comparing a rebuild with the live model is how a drifted read model is caught");
  eda::cli::add_curve_keys_option(app, r.curve_keys);
  app.add_option("--run-for", r.run_for_s, "Services: seconds before they stop by themselves")
      ->check(CLI::Range(1, 86'400))
      ->capture_default_str();
  return eda::cli::run(app, argc, argv, [&] {
    const eda::cli::StopOnSignals stop_on_signals;  // Ctrl-C and SIGTERM: a clean stop
    const StopRequested stop = [] { return eda::cli::stop_requested(); };
    eda::Narrator say(std::cout, s.common.verbosity);
    if (s.role != "all" && s.baseline)
      throw std::invalid_argument("--baseline runs in one process; it has no --role");
    if (s.role != "all" && s.tamper)
      throw std::invalid_argument("--tamper applies to the all-in-one run");
    if (s.trace && (s.role != "all" || s.baseline)) {
      throw std::invalid_argument(
          "--trace shows the all-in-one pattern run (for separate processes, run "
          "eda-trace live against --appends and --progress)");
    }
    if (s.role == "all") {  // options of the roles only: refused rather than silently ignored
      for (const char* option : {"--read", "--commands", "--appends", "--progress", "--queries",
                                 "--rebuild", "--first-order", "--run-for"}) {
        if (app.count(option) > 0) {
          throw std::invalid_argument(std::string(option) +
                                      " applies to --role command, projector, query or client; "
                                      "the all-in-one run chooses its own");
        }
      }
      if (s.baseline && !r.store.empty()) {
        throw std::invalid_argument(
            "--baseline keeps its single model in a file of its own; it takes no --store");
      }
    }
    r.count = s.common.count;
    const auto fill = [](std::string& endpoint, const char* fallback) {
      if (endpoint.empty()) endpoint = fallback;
    };
    if (s.role == "command") {
      if (r.store.empty()) r.store = "cqrs-store.db";
      fill(r.commands, "tcp://*:5801");
      fill(r.appends, "tcp://*:5802");
      return run_command_role(r, say, stop);
    }
    if (s.role == "projector") {
      if (r.store.empty()) r.store = "cqrs-store.db";
      if (r.read.empty()) r.read = "cqrs-read.db";
      fill(r.progress, "tcp://*:5803");
      return run_projector_role(r, say, stop);
    }
    if (s.role == "query") {
      if (r.read.empty()) r.read = "cqrs-read.db";
      fill(r.queries, "tcp://*:5804");
      return run_query_role(r, say, stop);
    }
    if (s.role == "client") {
      fill(r.commands, "tcp://127.0.0.1:5801");
      fill(r.queries, "tcp://127.0.0.1:5804");
      return run_client_role(r, say, stop);
    }
    if (s.baseline) {
      if (s.tamper)
        throw std::invalid_argument(
            "--tamper shows the rebuild of a read model: the baseline has none");
      return run_baseline(s, say);
    }
    try {
      return run_pattern(s, say);
    } catch (const eda::RpcTimeout&) {
      // The kit reports a call whose wait a stop request cut short as unanswered.
      if (!eda::cli::stop_requested()) throw;
      return say_stopped(s, say, std::nullopt);
    }
  });
}
