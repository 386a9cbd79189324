// cqrs-demo: CQRS against its single-model baseline, on the shop's story.
//
// Narrated and bounded: commands go in through the command service, a projector (a separate
// process) turns the events into read models, queries come out of the query service. The
// reader sees the lag between write and read, a read-your-writes query, the projector killed
// with SIGKILL and resumed without double counting, and a projection rebuilt. `--baseline`
// runs the same commands and queries on one normalized model.

#include <filesystem>
#include <iostream>
#include <optional>

#include "eda/cli.hpp"
#include "eda/clock.hpp"
#include "eda/cqrs/projections.hpp"
#include "eda/cqrs/single_model.hpp"
#include "eda/narrator.hpp"
#include "eda/trace/demo_trace.hpp"
#include "roles.hpp"
#include "scenes.hpp"
#include "story.hpp"

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

/// What the all-in-one run takes from the command line.
StoryOptions story_options(const Settings& s) {
  return {.count = s.common.count,
          .transport = s.common.transport,
          .store = s.roles.store,
          .curve_keys = s.roles.curve_keys,
          .trace = s.trace,
          .tamper = s.tamper};
}

/// The story, scene by scene (scenes.cpp); a stop request ends it between two commands or two
/// scenes, with a last line saying what it leaves behind.
int run_pattern(const Settings& s, eda::Narrator& say) {
  const StoryOptions options = story_options(s);
  zmq::context_t context;
  const auto curve = eda::cli::curve_setup(context, s.roles.curve_keys);
  StoryRun run(options, say, context, curve);
  const bool told = introduce(run) && commands_go_in(run) && queries_come_out(run) &&
                    read_side_lags(run) && projector_killed_and_resumes(run) &&
                    projection_rebuilt(run);
  if (!told) return say_stopped(options, say, run.store->last_position());
  summary(run);
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
      "One role per process (as on cqrs/README.md; each may run on its own machine). The event\n"
      "store is served by sourcing-demo, which announces its appends; the others reach it:\n"
      "  sourcing-demo --role store --db store.db --listen tcp://127.0.0.1:5701 "
      "--notify tcp://127.0.0.1:5702\n"
      "  cqrs-demo --role command --store tcp://127.0.0.1:5701 --commands tcp://127.0.0.1:5801\n"
      "  cqrs-demo --role projector --store tcp://127.0.0.1:5701 --appends tcp://127.0.0.1:5702 "
      "--read read.db --progress tcp://127.0.0.1:5803\n"
      "  cqrs-demo --role query --read read.db --queries tcp://127.0.0.1:5804 "
      "--progress tcp://127.0.0.1:5803\n"
      "  cqrs-demo --role client --commands tcp://127.0.0.1:5801 --queries tcp://127.0.0.1:5804 "
      "--count 3\n"
      "On several machines, a role that binds an endpoint gives tcp://*:PORT, the others the\n"
      "binding machine's name; the projector and the query side share read.db (one machine).\n"
      "Instead of a store service, --store may name what the command side and the projector\n"
      "both open: a file (FILE or sqlite:FILE, one machine) or postgresql://...; the command\n"
      "side then announces the appends itself (--appends on both).\n"};
  Settings s;
  RoleSettings& r = s.roles;
  eda::cli::add_common_options(app, s.common, 10'000);
  app.add_flag("--baseline", s.baseline, "Run the single-model version instead");
  app.add_option("--role", s.role, "all (default), command, projector, query or client")
      ->check(CLI::IsMember({"all", "command", "projector", "query", "client"}));
  app.add_option(
         "--store", r.store,
         "Command and projector: the event store (FILE, sqlite:FILE, postgresql://... or a store "
         "service endpoint tcp://...); all in one: an empty FILE or database (default: a new file)")
      ->type_name("STORE");
  app.add_option("--read", r.read, "Projector and query: the read-model database file")
      ->type_name("FILE");
  eda::cli::add_endpoint_option(
      app, "--commands", r.commands,
      "Command: where to serve commands (default tcp://*:5801); client: where to send them "
      "(default tcp://127.0.0.1:5801)");
  eda::cli::add_endpoint_option(
      app, "--appends", r.appends,
      "Command over a FILE or postgresql:// store: where to announce appends (default "
      "tcp://*:5802; a store service announces its own, see sourcing-demo --notify); "
      "projector: where to hear them (default: poll the store)");
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
      return run_command_role(r, say);
    }
    if (s.role == "projector") {
      if (r.store.empty()) r.store = "cqrs-store.db";
      if (r.read.empty()) r.read = "cqrs-read.db";
      fill(r.progress, "tcp://*:5803");
      return run_projector_role(r, say);
    }
    if (s.role == "query") {
      if (r.read.empty()) r.read = "cqrs-read.db";
      fill(r.queries, "tcp://*:5804");
      return run_query_role(r, say);
    }
    if (s.role == "client") {
      fill(r.commands, "tcp://127.0.0.1:5801");
      fill(r.queries, "tcp://127.0.0.1:5804");
      return run_client_role(r, say);
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
      return say_stopped(story_options(s), say, std::nullopt);
    }
  });
}
