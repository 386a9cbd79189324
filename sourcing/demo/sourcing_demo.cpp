// sourcing-demo: event sourcing against its CRUD baseline, on the shop's story.
//
// Narrated and bounded: orders are placed and changed through the event store, one order's
// history is printed and replayed, its state is asked for as of an earlier version, a
// concurrency conflict is detected and retried, an old-schema event loads through the
// upcaster, and snapshots cut the cost of loading a long stream. `--baseline` runs the same
// commands against rows updated in place, and shows what they cannot answer.

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "eda/cli.hpp"
#include "eda/clock.hpp"
#include "eda/latency.hpp"
#include "eda/narrator.hpp"
#include "eda/sourcing/crud_orders.hpp"
#include "eda/sourcing/memory_store.hpp"
#include "eda/sourcing/order_repository.hpp"
#include "eda/sourcing/open_store.hpp"
#include "eda/sourcing/subscription.hpp"
#include "eda/endpoint.hpp"
#include "eda/trace/demo_trace.hpp"
#include "narration.hpp"
#include "roles.hpp"
#include "scenes.hpp"

namespace {

using namespace eda::sourcing;
using namespace eda::sourcing::demo;
using namespace std::chrono_literals;

/// Everything the command line says.
struct Settings {
  eda::cli::CommonOptions common;
  bool baseline = false;
  std::string role = "all";
  RoleSettings roles;  // roles.db is also the all-in-one run's --db
  std::size_t long_stream = 2000;
  bool trace = false;  // --trace: the store announces its appends, a tap follows them
};

/// The story, scene by scene (scenes.cpp); a stop request ends it between two commands or two
/// scenes, saying where the events are.
int run_pattern(const Settings& s, eda::Narrator& say) {
  const StoryOptions options{.count = s.common.count,
                             .transport = s.common.transport,
                             .db = s.roles.db,
                             .long_stream = s.long_stream,
                             .trace = s.trace};
  zmq::context_t context;
  const auto curve = eda::cli::curve_setup(context, s.roles.curve_keys);
  StoreRun run(options, say, context, curve);
  const bool told = commands_become_events(run) && history_and_temporal_query(run) &&
                    concurrent_writers(run) && old_event_upcast(run) &&
                    snapshots_of_a_long_stream(run);
  if (!told) return say_stopped(run);
  summary(run);
  return 0;
}

int run_baseline(const Settings& s, eda::Narrator& say) {
  // The CRUD rows live in a SQLite file: --db may name one (FILE or sqlite:FILE), nothing else.
  if (!s.roles.db.empty() && parse_store_spec(s.roles.db).kind != StoreKind::sqlite) {
    throw std::invalid_argument(
        "--baseline keeps its rows in a SQLite file: --db FILE or sqlite:FILE");
  }
  const std::string path =
      s.roles.db.empty()
          ? (std::filesystem::temp_directory_path() / ("eda-crud-" + eda::new_event_id() + ".db"))
                .string()
          : parse_store_spec(s.roles.db).location;
  baseline::CrudOrders crud({.path = path});
  say.heading("Baseline: CRUD — the same commands overwrite a row in place");
  say.say("database", "SQLite file " + path);
  const auto stopped = [&] {
    say.say("database",
            "stopped: " +
                (s.roles.db.empty()
                     ? std::string("nothing kept (the rows were in a temporary file, removed)")
                     : "the rows are in " + path));
  };
  for (const auto& [order, command] : story(1, s.common.count)) {
    if (eda::cli::stop_requested()) break;
    try {
      const OrderState state = crud.execute(order, command);
      say.say("order-service", "order " + std::to_string(order) + ": " + describe(state));
    } catch (const CommandRejected& e) {
      say.say("order-service", "order " + std::to_string(order) + ": rejected — " + e.what());
    }
  }
  if (!eda::cli::stop_requested()) {
    say.heading("What the baseline cannot answer");
    say.say("crud", "order 1 now: " + describe(crud.load(1)));
    say.say("crud",
            "its history, its state as of version 2, who removed the gadget and when: "
            "gone — each update overwrote the last");
  }
  if (s.roles.db.empty()) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
  }
  if (eda::cli::stop_requested()) stopped();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "sourcing-demo: event sourcing against its CRUD baseline.\n"
      "Orders are changed through an append-only event store; their history, temporal\n"
      "queries, a concurrency conflict, an upcast old event and snapshots are shown.\n"
      "With --baseline the same commands update rows in place.\n\n"
      "All in one process (default):\n"
      "  sourcing-demo [--count N] [--db FILE|sqlite:FILE|postgresql://...] [--long-stream N] "
      "[--baseline]\n"
      "One role per process (any order; readers wait for the store), on one machine:\n"
      "  sourcing-demo --role store --db orders.db --listen tcp://127.0.0.1:5701 --notify "
      "tcp://127.0.0.1:5702\n"
      "  sourcing-demo --role writer --store tcp://127.0.0.1:5701 --count 3\n"
      "  sourcing-demo --role reader --store tcp://127.0.0.1:5701 --notify tcp://127.0.0.1:5702\n"
      "On several machines, a role that binds gives tcp://*:PORT and the others the binding\n"
      "machine's name instead of 127.0.0.1 (every endpoint may also be ipc://PATH).\n"};
  Settings s;
  RoleSettings& r = s.roles;
  eda::cli::add_common_options(app, s.common, 10'000);
  app.add_flag("--baseline", s.baseline, "Run the CRUD version instead");
  app.add_option("--role", s.role, "all (default), store, writer or reader")
      ->check(CLI::IsMember({"all", "store", "writer", "reader"}));
  app.add_option("--db", r.db,
                 "The store to keep events in between runs: FILE, sqlite:FILE or "
                 "postgresql://... (default: memory); with --role store, the store it serves")
      ->type_name("STORE");
  app.add_option("--long-stream", s.long_stream,
                 "Events in the stream loaded with and without snapshots")
      ->check(CLI::Range(10, 1'000'000))
      ->capture_default_str();
  eda::cli::add_endpoint_option(app, "--listen", r.listen,
                                "Store role: where appends and reads are served")
      ->capture_default_str();
  eda::cli::add_endpoint_option(app, "--notify", r.notify,
                                "Store role: where appends are announced (default tcp://*:5702); "
                                "reader: where to hear them (default: poll the store)");
  eda::cli::add_endpoint_option(app, "--store", r.store, "Writer and reader: the store service")
      ->capture_default_str();
  app.add_option("--first-order", r.first_order,
                 "Writer: the first order id (default: after the store's last position)")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 53));
  app.add_option("--until-position", r.until_position,
                 "Reader: stop once the event at this position has been shown");
  app.add_flag("--trace", s.trace, eda::trace::trace_flag_help);
  eda::cli::add_curve_keys_option(app, r.curve_keys);
  app.add_option("--run-for", r.run_for_s,
                 "Store and reader: seconds before they stop by themselves")
      ->check(CLI::Range(1, 86'400))
      ->capture_default_str();
  return eda::cli::run(app, argc, argv, [&] {
    const eda::cli::StopOnSignals stop_on_signals;  // Ctrl-C and SIGTERM: a clean stop
    eda::Narrator say(std::cout, s.common.verbosity);
    if (s.role != "all" && s.baseline) {
      throw std::invalid_argument("--baseline runs in one process; it has no --role");
    }
    if (s.trace && (s.role != "all" || s.baseline)) {
      throw std::invalid_argument(
          "--trace shows the all-in-one pattern run (for separate "
          "processes, run eda-trace live against the store's --notify)");
    }
    r.count = s.common.count;
    if (s.role == "store") {
      if (r.notify.empty()) r.notify = "tcp://*:5702";
      return run_store_role(r, say);
    }
    if (s.role == "writer") return run_writer_role(r, say);
    if (s.role == "reader") return run_reader_role(r, say);
    return s.baseline ? run_baseline(s, say) : run_pattern(s, say);
  });
}
