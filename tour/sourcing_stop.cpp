// The event-sourcing stop: every change to an order is an event appended to its stream, and
// the state is a fold over them; the baseline (CRUD) overwrites one row in place.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "demo_programs.hpp"
#include "eda/latency.hpp"
#include "eda/sourcing/crud_orders.hpp"
#include "eda/sourcing/order.hpp"
#include "eda/sourcing/order_repository.hpp"
#include "eda/sourcing/sqlite_store.hpp"
#include "eda/workloads/order_life.hpp"
#include "measure.hpp"
#include "progress.hpp"
#include "scratch_folder.hpp"
#include "stop.hpp"

namespace eda::tour {

namespace {

using namespace std::chrono_literals;
using namespace eda::sourcing;

/// How big the measurements are.
struct Sizes {
  Budget commands;                       ///< Commands per round, each committed with an fsync.
  int rounds = 3;                        ///< Rounds per design (the median is reported).
  std::uint64_t orders_for_bytes = 300;  ///< Orders whose life is stored to compare bytes.
  std::uint64_t long_stream = 2000;    ///< Changes to the order loaded with and without snapshots.
  Budget loads;                        ///< Loads of that order.
  std::uint64_t snapshot_every = 100;  ///< The snapshot interval.
};

Sizes sizes_for(const TourOptions& options) {
  if (options.quick) {
    return {.commands = {40, 200ms},
            .rounds = 1,
            .orders_for_bytes = 40,
            .long_stream = 230,
            .loads = {30, 100ms}};
  }
  // Not a multiple of the snapshot interval: a load reads the snapshot and the events after it.
  return {.commands = {1500, 600ms}, .long_stream = 1030, .loads = {200, 500ms}};
}

using eda::workloads::order_life;

/// Runs order lives through `execute(order_id, command)` until `budget` runs out; commands/s.
template <class Execute>
double commands_per_second(const Budget& budget, Execute execute) {
  const std::vector<OrderCommand>& life = order_life();
  return run_bounded(budget,
                     [&](std::size_t i) { execute(i / life.size() + 1, life[i % life.size()]); })
      .per_second();
}

/// Commands/s of each design, durable (an fsync per commit), median of the rounds.
struct CommandRates {
  double store = 0;  ///< Through the event store (OrderRepository).
  double crud = 0;   ///< Through the CRUD baseline.
};

CommandRates command_rates(const Sizes& sizes, ScratchFolder& folder) {
  std::vector<double> store_rates;
  std::vector<double> crud_rates;
  // Alternating, so that both designs meet the same moments of a shared disk.
  for (int round = 0; round < sizes.rounds; ++round) {
    {
      SqliteEventStore store(
          {.path = folder.new_file("commands-store"), .durability = Durability::full});
      OrderRepository orders(store);
      store_rates.push_back(
          commands_per_second(sizes.commands, [&](std::uint64_t id, const OrderCommand& command) {
            (void)orders.execute(id, command);
          }));
    }
    baseline::CrudOrders crud(
        {.path = folder.new_file("commands-crud"), .durability = Durability::full});
    crud_rates.push_back(commands_per_second(
        sizes.commands,
        [&](std::uint64_t id, const OrderCommand& command) { (void)crud.execute(id, command); }));
  }
  return {median(store_rates), median(crud_rates)};
}

/// Bytes on disk per command after the same order lives went through both designs.
struct Storage {
  double store_per_command = 0;  ///< Event store file and WAL, per command.
  double crud_per_command = 0;   ///< CRUD database, per command.
  std::uint64_t commands = 0;    ///< Commands run through each.
  std::uint64_t events = 0;      ///< Events the store holds after them.
};

Storage storage(const Sizes& sizes, ScratchFolder& folder) {
  const std::string store_path = folder.new_file("bytes-store");
  const std::string crud_path = folder.new_file("bytes-crud");
  Storage result;
  {
    SqliteEventStore store({.path = store_path, .durability = Durability::normal});
    OrderRepository orders(store);
    baseline::CrudOrders crud({.path = crud_path, .durability = Durability::normal});
    for (std::uint64_t order = 1; order <= sizes.orders_for_bytes; ++order) {
      for (const OrderCommand& command : order_life()) {
        (void)orders.execute(order, command);
        (void)crud.execute(order, command);
        ++result.commands;
      }
    }
    result.events = store.last_position();
  }  // closing each database checkpoints its write-ahead log into the file
  const auto commands = static_cast<double>(result.commands);
  result.store_per_command = static_cast<double>(database_bytes(store_path)) / commands;
  result.crud_per_command = static_cast<double>(database_bytes(crud_path)) / commands;
  return result;
}

/// Loading one order that was changed `sizes.long_stream` times.
struct Loading {
  LatencySummary replayed;            ///< Event store, folding every event.
  LatencySummary snapshotted;         ///< Event store, from the latest snapshot.
  std::uint64_t snapshot_events = 0;  ///< Events folded on top of the snapshot.
  LatencySummary as_of_version;       ///< Event store: the order as it was half way.
  LatencySummary crud;                ///< CRUD: reading its row and lines.
};

template <class Load>
LatencySummary time_loads(const Budget& budget, Load load) {
  LatencyRecorder latency;
  (void)run_bounded(budget, [&](std::size_t) {
    const std::int64_t start = monotonic_ns();
    load();
    latency.record(monotonic_ns() - start);
  });
  return latency.summary();
}

Loading loading(const Sizes& sizes, ScratchFolder& folder) {
  // The order's changes: placed, then items added to it (50 products, over and over).
  std::vector<OrderCommand> changes{PlaceOrder{"dave"}};
  for (std::uint64_t i = 1; i < sizes.long_stream; ++i) {
    changes.push_back(AddItem{"part-" + std::to_string(i % 50), 1, 10});
  }
  SqliteEventStore plain_store(
      {.path = folder.new_file("load-plain"), .durability = Durability::normal});
  SqliteEventStore snapshot_store(
      {.path = folder.new_file("load-snapshots"), .durability = Durability::normal});
  OrderRepository plain(plain_store);
  OrderRepository snapshotted(snapshot_store, {.snapshot_every = sizes.snapshot_every});
  baseline::CrudOrders crud(
      {.path = folder.new_file("load-crud"), .durability = Durability::normal});
  // Without snapshots, the events are decided here and appended in one go: executing them one
  // by one would replay the growing stream each time, which is not what is measured here.
  OrderState state;
  std::vector<EventData> events;
  for (const OrderCommand& change : changes) {
    for (const OrderEvent& event : decide(change, state)) {
      state = evolve(std::move(state), event);
      events.push_back(to_event_data(event, "tour"));
    }
  }
  (void)plain_store.append(order_stream(1), ExpectedVersion::no_stream(), events);
  for (const OrderCommand& change : changes) {
    (void)snapshotted.execute(1, change);
    (void)crud.execute(1, change);
  }
  Loading result;
  result.replayed = time_loads(sizes.loads, [&] { (void)plain.load(1); });
  result.snapshotted = time_loads(
      sizes.loads, [&] { result.snapshot_events = snapshotted.load(1).events_replayed; });
  result.as_of_version =
      time_loads(sizes.loads, [&] { (void)plain.load_as_of_version(1, sizes.long_stream / 2); });
  result.crud = time_loads(sizes.loads, [&] { (void)crud.load(1); });
  return result;
}

Findings measure(const TourOptions& options, Progress& progress) {
  const Sizes sizes = sizes_for(options);
  ScratchFolder folder("sourcing");
  const std::string rounds =
      sizes.rounds > 1 ? ", median of " + std::to_string(sizes.rounds) + " rounds" : "";
  const CommandRates rates = progress.stage(
      "measuring commands end to end, an fsync per commit, event store vs CRUD" + rounds,
      [&] { return command_rates(sizes, folder); });
  const Storage bytes =
      progress.stage("storing " + format_count(static_cast<double>(sizes.orders_for_bytes)) +
                         " orders' lives in both designs",
                     [&] { return storage(sizes, folder); });
  const std::string changed = format_count(static_cast<double>(sizes.long_stream));
  const Loading load = progress.stage("loading an order changed " + changed + " times",
                                      [&] { return loading(sizes, folder); });

  const auto ns = [](std::int64_t value) { return format_ns(static_cast<double>(value)); };
  const double crud_load = static_cast<double>(load.crud.p50_ns);
  Findings findings;
  findings.rows = {
      {"commands/s end to end (load, decide, write)", format_rate(rates.store),
       format_rate(rates.crud), compare_rates(rates.store, rates.crud)},
      {"bytes on disk per command", format_bytes(bytes.store_per_command),
       format_bytes(bytes.crud_per_command),
       format_ratio(bytes.store_per_command, bytes.crud_per_command) + ": the price of history"},
      {"load an order changed " + changed + " times, p50",
       ns(load.replayed.p50_ns) + " (folds every event)", ns(load.crud.p50_ns),
       compare_times(static_cast<double>(load.replayed.p50_ns), crud_load)},
      {"... with a snapshot every " + std::to_string(sizes.snapshot_every) + " events",
       ns(load.snapshotted.p50_ns) + " (snapshot + " + std::to_string(load.snapshot_events) +
           " events)",
       ns(load.crud.p50_ns),
       compare_times(static_cast<double>(load.snapshotted.p50_ns), crud_load)},
      {"the order as it was half way, p50", ns(load.as_of_version.p50_ns),
       "cannot: only the present is kept", ""},
      {"who changed what, when",
       format_count(static_cast<double>(bytes.events)) + " events for " +
           format_count(static_cast<double>(bytes.commands)) +
           " commands, each with id, time, cause",
       "the last state only", ""},
  };
  findings.notes = {
      "SQLite in WAL mode, in the system's temporary folder on this machine's disk; commands with "
      "synchronous=FULL (an fsync per commit), the rest with NORMAL.",
      "Each order's life: placed, two items added, one removed, paid. Both designs judge commands "
      "with "
      "the same decide().",
  };
  findings.buys = {
      "history: every change kept; the order as it was at any version in " +
          ns(load.as_of_version.p50_ns) + " (CRUD cannot)",
      "audit and replay: " + format_count(static_cast<double>(bytes.events)) +
          " events with ids, times, "
          "causes; read models are built from them (CQRS)",
      "concurrency: a conflicting writer is detected by version, not overwritten",
  };
  findings.costs = {
      "storage: " + format_ratio(bytes.store_per_command, bytes.crud_per_command) +
          " the bytes per command (" + format_bytes(bytes.store_per_command) + " vs " +
          format_bytes(bytes.crud_per_command) + ")",
      "writes: " + format_count(rates.store) + " commands/s vs CRUD's " + format_count(rates.crud) +
          " (an fsync per commit)",
      "loads grow with history: " + ns(load.replayed.p50_ns) + " at " + changed +
          " events; snapshots bring "
          "it to " +
          ns(load.snapshotted.p50_ns),
      "complexity: snapshots, upcasting old events",
  };
  return findings;
}

}  // namespace

Stop sourcing_stop() {
  return {
      .name = "sourcing",
      .title = "Event sourcing",
      .intent =
          "Store what happened, not what is: every change to an order is an event appended to "
          "its stream, never rewritten. The order's state is a fold over its events, so its whole "
          "history, and its state at any moment, can be read back.",
      .baseline = "CRUD: the order's row updated in place, only the present kept",
      .demo_program = demo_programs::sourcing,
      .demo_args = {"--count", "2", "--long-stream", "1000"},
      .quick_demo_args = {"--count", "1", "--long-stream", "200"},
      .demo_shows =
          "The history of an order, its state rebuilt from it and as it was earlier, a "
          "conflict detected, an old event upcast, and a long stream loaded from a snapshot.",
      .measure = measure,
  };
}

}  // namespace eda::tour
