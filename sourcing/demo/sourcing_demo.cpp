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

/// An EventStore in which another writer appends just before our next append, once.
class RivalBeforeNextAppend final : public ForwardingEventStore {
 public:
  RivalBeforeNextAppend(EventStore& inner, eda::Narrator& say)
      : ForwardingEventStore(inner), say_(say) {}
  AppendResult append(std::string_view stream, const ExpectedVersion& expected,
                      std::span<const EventData> events) override {
    if (!done_) {
      done_ = true;
      OrderRepository rival(inner(), {.source = "warehouse-terminal"});
      rival.execute(std::stoull(std::string(stream.substr(6))), AddItem{"gift-wrap", 1, 300});
      say_.say("warehouse", "meanwhile, another terminal added gift-wrap to the same order");
    }
    return inner().append(stream, expected, events);
  }

 private:
  eda::Narrator& say_;
  bool done_ = false;
};

int run_pattern(const Settings& s, eda::Narrator& say) {
  std::unique_ptr<EventStore> store;
  if (s.roles.db.empty()) {
    store = std::make_unique<InMemoryEventStore>();
  } else {
    store = open_event_store(s.roles.db);  // FILE, sqlite:FILE or postgresql://...
  }
  // --trace: the store announces every append on ZeroMQ, as the store service does for its
  // readers, and the demo's tap follows the announcements.
  zmq::context_t context;
  const auto curve = eda::cli::secure_context(context, s.roles.curve_keys);
  std::optional<NotifyingEventStore> notifying;
  std::optional<eda::trace::DemoTrace> trace;
  if (s.trace) {
    notifying.emplace(*store, context,
                      eda::ephemeral_endpoint(s.common.transport, "store-appends"));
    say.say("tracer", "taps the store's append notifications on " + notifying->endpoint());
    trace.emplace(context,
                  eda::trace::DemoTraceOptions{.endpoints = {notifying->endpoint()},
                                               .trees_shown = 3,
                                               .serve_publishers = [&] { notifying->serve(5ms); }});
  }
  EventStore& events = notifying ? static_cast<EventStore&>(*notifying) : *store;

  // Order ids continue after what a kept database (--db) already holds.
  const std::uint64_t first = events.last_position() + 1;
  OrderRepository orders(events);
  // A stop request ends the run between two commands, saying where the events are.
  const auto stopped = [&] {
    say.say("event-store",
            "stopped: " + (s.roles.db.empty()
                               ? std::to_string(events.last_position()) +
                                     " events were in memory; nothing kept"
                               : "the store keeps " + std::to_string(events.last_position()) +
                                     " events in " + describe_store_spec(s.roles.db)));
    return 0;
  };

  say.heading("Event sourcing: every change is an event appended to the order's stream");
  say.say("event-store", s.roles.db.empty()
                             ? "in memory"
                             : describe_store_spec(s.roles.db) + " (" + std::to_string(first - 1) +
                                   " events already in it)");
  for (const auto& [order, command] : story(first, s.common.count)) {
    if (eda::cli::stop_requested()) return stopped();
    run(say, orders, order, command);
  }
  if (eda::cli::stop_requested()) return stopped();

  say.heading("The history of order " + std::to_string(first) + ", and its state rebuilt from it");
  for (const RecordedEvent& recorded : orders.history(first)) {
    say.say("history", "v" + std::to_string(recorded.version) + " " + recorded.event.meta().type +
                           ": " + describe(order_event_from(recorded)));
  }
  const LoadedOrder now = orders.load(first);
  say.say("replay", "now: " + describe(now.state));
  const LoadedOrder then = orders.load_as_of_version(first, 2);
  say.say("temporal", "as of version 2: " + describe(then.state) +
                          " (CRUD cannot answer this: the row holds only the present)");

  if (eda::cli::stop_requested()) return stopped();
  say.heading("Two writers, one order: the conflict is detected, the command decided again");
  const std::uint64_t contested = first + s.common.count;
  run(say, orders, contested, PlaceOrder{"carol"});
  RivalBeforeNextAppend racing(events, say);
  OrderRepository ours(racing);
  const CommandOutcome outcome = ours.execute(contested, AddItem{"widget", 1, 1250});
  say.say("order-service",
          "our AddItem stored on attempt " + std::to_string(outcome.attempts) +
              " (the first expected version 1 and found 2); order now: " + describe(outcome.state));

  say.heading("An event written by an older version of the service");
  events.append(order_stream(contested), ExpectedVersion::exactly(3),
                std::vector{EventData::of(eda::make_metadata<ItemAddedV1>("order-service-v1"),
                                          ItemAddedV1{"gizmo", 1, 4.99})});
  say.say("event-store", "stored ItemAdded schema version 1: price 4.99 as euros (a float)");
  say.say("upcaster",
          "loaded as version 2: " + describe(order_event_from(orders.history(contested).back())) +
              "; order now: " + describe(orders.load(contested).state));

  say.heading("A long stream, loaded with and without snapshots");
  const std::uint64_t busy = contested + 1;
  OrderRepository snapshotting(events, {.snapshot_every = 100});
  snapshotting.execute(busy, PlaceOrder{"dave"});
  for (std::size_t i = 1; i < s.long_stream + 7; ++i) {  // a tail after the last snapshot
    if (eda::cli::stop_requested()) return stopped();
    snapshotting.execute(busy, AddItem{"part-" + std::to_string(i % 50), 1, 10});
  }
  const auto time_load = [&](bool use_snapshot) {
    eda::LatencyRecorder recorder;
    LoadedOrder loaded;
    for (int i = 0; i < 20; ++i) {
      const std::int64_t start = eda::monotonic_ns();
      loaded = use_snapshot ? snapshotting.load(busy) : [&] {
        LoadedOrder full;  // a full replay, ignoring the snapshot
        for (const RecordedEvent& r : snapshotting.history(busy)) {
          full.state = evolve(std::move(full.state), order_event_from(r));
          ++full.events_replayed;
        }
        return full;
      }();
      recorder.record(eda::monotonic_ns() - start);
    }
    return std::pair{loaded, recorder.summary()};
  };
  const auto [replayed, full] = time_load(false);
  const auto [fast, snapped] = time_load(true);
  say.say("repository", std::to_string(replayed.events_replayed) + " events replayed: p50 " +
                            eda::format_duration(full.p50_ns));
  say.say("repository", "snapshot at v" + std::to_string(fast.snapshot_version) + " + " +
                            std::to_string(fast.events_replayed) + " events: p50 " +
                            eda::format_duration(snapped.p50_ns) +
                            ", same state: " + (fast.state == replayed.state ? "yes" : "NO"));
  if (fast.state != replayed.state) {
    throw std::runtime_error("the snapshot gave another state than the full replay");
  }
  say.heading("Summary");
  say.say("event-store", std::to_string(events.last_position()) +
                             " events stored; every state above was computed from them");
  if (trace) {
    (void)trace->report(std::cout, notifying->announcements());
  }
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
    const StopRequested stop = [] { return eda::cli::stop_requested(); };
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
      return run_store_role(r, say, stop);
    }
    if (s.role == "writer") return run_writer_role(r, say, stop);
    if (s.role == "reader") return run_reader_role(r, say, stop);
    return s.baseline ? run_baseline(s, say) : run_pattern(s, say);
  });
}
