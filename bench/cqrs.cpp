/// @file cqrs.cpp
/// @brief bench-cqrs: CQRS against the single model, in the same run, on the same simulated
///        shop history, asking the same questions with the same parameters.
///
/// The workloads and what each counter measures are defined once, in the shop workloads
/// (`workloads/`, target eda::shop_workloads), which the tour's CQRS stop runs too at a smaller
/// size: the shop (eda::workloads::ShopSimulator), the history in both designs
/// (eda::workloads::ShopHistory), the questions and the query latency
/// (eda::workloads::ask_timed), the projection lag (eda::workloads::ProjectionLagRun) and the
/// rebuild (eda::workloads::rebuild_read_models). What separating reads from writes costs and
/// buys:
///
/// - BM_Cqrs_Query/<query>/events:N beside BM_SingleModel_Query/<query>/events:N: one
///   iteration = one query, answered from the read models (CQRS) or by joins and aggregates
///   over the write tables at query time (single model), on a history of N events (N = 1%,
///   10% and 100% of EDA_BENCH_CQRS_EVENTS, default 1M). The queries:
///   `customer_orders` (a random customer who has orders, each iteration), `sales_by_day`
///   (a random 7-day window of the 90 simulated days), `sales_by_day_all` (all 90 days),
///   `awaiting_shipment` (the oldest 20). items/s = queries/s; `p50_us`/`p99_us` per query;
///   `rows` per answer. Before the first query of each history, both sides answer a few
///   questions outside the timing and must agree, or every query benchmark of that history
///   stops with an error.
/// - BM_Cqrs_Command beside BM_SingleModel_Command: one iteration = one command (place an
///   order, add an item, pay it; then the next order) on a fresh database with
///   `synchronous=FULL`, through the event store (OrderRepository) or the single model's rows.
///   items/s = commands/s; `p50_us`/`p99_us` per command.
/// - BM_Cqrs_ProjectionLag/commands_per_second:R/durability:D: the CQRS shop running at R
///   commands/s for EDA_BENCH_CQRS_LAG_MS (default 2000 ms), its store `synchronous=FULL` for
///   D=1 (as deployed) or NORMAL for D=0 (which takes the disk's flush out of the picture).
///   `lag_p50_us`, `lag_p99_us`, `lag_max_us`: the projection lag, write to readable;
///   `commands_per_second` achieved by the clients; `cmd_p50_us`/`cmd_p99_us` per command as a
///   client sees it; `events_per_batch`.
/// - BM_Cqrs_Rebuild/events:N: the three read models rebuilt from nothing into a fresh file.
///   items/s = events/s.
///
/// The command and lag benchmarks run first, on a quiet disk: the histories' write-back would
/// otherwise slow their fsyncs. The histories are made once per process, the first time a
/// benchmark needs one (the 1M-event one takes a while: progress goes to stderr). Files live in
/// a temporary folder removed at exit. The CTest smoke run shrinks the work with
/// EDA_BENCH_CQRS_EVENTS and EDA_BENCH_CQRS_LAG_MS.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "eda/clock.hpp"
#include "eda/cqrs/queries.hpp"
#include "eda/cqrs/read_models.hpp"
#include "eda/cqrs/single_model.hpp"
#include "eda/envelope.hpp"
#include "eda/latency.hpp"
#include "eda/sourcing/order.hpp"
#include "eda/sourcing/order_repository.hpp"
#include "eda/sourcing/sqlite_store.hpp"
#include "eda/workloads/projection_lag.hpp"
#include "eda/workloads/shop_history.hpp"
#include "eda/workloads/shop_questions.hpp"
#include "environment.hpp"
#include "latency_counters.hpp"

namespace {

using namespace std::chrono_literals;
using namespace eda::cqrs;
using namespace eda::sourcing;
using eda::bench::env_count;
using eda::bench::set_latency_counters;
using eda::workloads::ShopQuestion;

/// The largest history, in events; the others are a tenth and a hundredth of it.
std::uint64_t largest_history() { return env_count("EDA_BENCH_CQRS_EVENTS", 1'000'000); }

/// The history sizes every query benchmark runs on, smallest first.
std::vector<std::int64_t> history_sizes() {
  const std::uint64_t largest = largest_history();
  return {static_cast<std::int64_t>(std::max<std::uint64_t>(largest / 100, 1)),
          static_cast<std::int64_t>(std::max<std::uint64_t>(largest / 10, 1)),
          static_cast<std::int64_t>(largest)};
}

// ---- Files --------------------------------------------------------------------------------

/// The process's folder in the system's temporary folder, removed with everything in it at
/// exit. (On this machine: the real disk, so fsync costs what it costs.)
class ScratchFolder {
 public:
  static ScratchFolder& get() {
    static ScratchFolder folder;
    return folder;
  }
  ~ScratchFolder() { std::filesystem::remove_all(path_, ignored_); }
  ScratchFolder(const ScratchFolder&) = delete;
  ScratchFolder& operator=(const ScratchFolder&) = delete;

  /// A new file name in the folder, e.g. `.../store-3.db`.
  std::string new_path(const std::string& name) {
    return (path_ / (name + "-" + std::to_string(++files_) + ".db")).string();
  }

 private:
  ScratchFolder()
      : path_(std::filesystem::temp_directory_path() / ("eda-bench-cqrs-" + eda::new_event_id())) {
    std::filesystem::create_directories(path_);
  }
  std::filesystem::path path_;
  std::uint64_t files_ = 0;
  std::error_code ignored_;
};

/// A database file in the scratch folder, removed (with its WAL files) when it goes.
class ScratchFile {
 public:
  explicit ScratchFile(const std::string& name) : path_(ScratchFolder::get().new_path(name)) {}
  ~ScratchFile() {
    for (const char* suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(path_ + suffix, ignored_);
  }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::error_code ignored_;
};

// ---- Histories ----------------------------------------------------------------------------

/// A history of `events` events in both designs (eda::workloads::ShopHistory), in files of the
/// scratch folder removed with it. Writing the single model says how far it got on stderr,
/// once a second after the first two seconds.
class History {
 public:
  explicit History(std::uint64_t events)
      : shop_(files(), events,
              [this, events, quiet = eda::Deadline(2s),
               next_ns = std::int64_t{0}](std::uint64_t written) mutable {
                if (!quiet.expired() || eda::monotonic_ns() < next_ns) return;
                next_ns = eda::monotonic_ns() + 1'000'000'000;
                progress_shown_ = true;
                std::cerr << "\rbench-cqrs: writing the " << events << "-event history: " << written
                          << " events in the single model" << std::flush;
              }) {
    if (progress_shown_) std::cerr << "\n";
    const std::size_t awaiting =
        shop_.single_model_shop().awaiting_shipment(std::numeric_limits<std::size_t>::max()).size();
    const eda::workloads::ShopHistoryTimes& took = shop_.times();
    std::cerr << "bench-cqrs: history of " << events << " events: " << shop_.orders()
              << " orders of " << shop_.customers().size() << " customers, " << awaiting
              << " awaiting shipment; built in " << eda::format_duration(took.total_ns)
              << " (in parallel: event store " << eda::format_duration(took.event_store_ns)
              << " then read models " << eda::format_duration(took.read_models_ns)
              << "; single model " << eda::format_duration(took.single_model_ns) << ")\n";
  }

  /// The history itself.
  [[nodiscard]] const eda::workloads::ShopHistory& shop() const { return shop_; }

 private:
  [[nodiscard]] eda::workloads::ShopHistoryFiles files() const {
    return {.store = store_file_.path(),
            .read_models = read_file_.path(),
            .single_model = single_file_.path()};
  }

  // The files exist before the history and are removed after it.
  ScratchFile store_file_{"store"};
  ScratchFile single_file_{"single-model"};
  ScratchFile read_file_{"read-models"};
  bool progress_shown_ = false;
  eda::workloads::ShopHistory shop_;
};

/// The histories made so far in this process, by size: each is made once, the first time a
/// benchmark asks for it; a history that could not be made is remembered as its error.
class Histories {
 public:
  /// The history of `events` events, or nothing after telling `state` why there is none.
  static const eda::workloads::ShopHistory* get(benchmark::State& state, std::uint64_t events) {
    static Histories histories;
    Entry& entry = histories.entries_[events];
    if (!entry.history && entry.error.empty()) {
      try {
        entry.history = std::make_unique<History>(events);
      } catch (const std::exception& e) {
        entry.error = "cannot build the " + std::to_string(events) + "-event history: " + e.what();
      }
    }
    if (!entry.error.empty()) {
      state.SkipWithError(entry.error.c_str());
      return nullptr;
    }
    return &entry.history->shop();
  }

 private:
  // The scratch folder exists before the histories, so it is removed after them.
  Histories() { (void)ScratchFolder::get(); }
  struct Entry {
    std::unique_ptr<History> history;
    std::string error;
  };
  std::map<std::uint64_t, Entry> entries_;
};

// ---- Queries ------------------------------------------------------------------------------

enum class Design { cqrs, single_model };

/// One iteration = one question to one design, on the history of state.range(0) events.
void run_query(benchmark::State& state, Design design, ShopQuestion question) {
  const eda::workloads::ShopHistory* history =
      Histories::get(state, static_cast<std::uint64_t>(state.range(0)));
  if (history == nullptr) return;
  if (!history->mismatch().empty()) {
    state.SkipWithError(history->mismatch().c_str());
    return;
  }
  if (question == ShopQuestion::customer_orders && history->customers().empty()) {
    state.SkipWithError("the history has no customers");
    return;
  }
  const ShopQueries& shop = design == Design::cqrs ? history->cqrs() : history->single_model();
  eda::workloads::QuestionDice ask(history->customers());
  eda::LatencyRecorder recorder;
  std::uint64_t rows = 0;
  for (auto _ : state) rows += eda::workloads::ask_timed(shop, question, ask, recorder);
  state.SetItemsProcessed(state.iterations());
  state.counters["rows"] = state.iterations() > 0
                               ? static_cast<double>(rows) / static_cast<double>(state.iterations())
                               : 0;
  set_latency_counters(state, recorder);
}

// ---- Commands -----------------------------------------------------------------------------

/// The commands of a fresh order's short life: placed, one item, paid.
const std::vector<OrderCommand>& command_cycle() {
  static const std::vector<OrderCommand> cycle{PlaceOrder{"alice"}, AddItem{"sku-07", 2, 1250},
                                               Pay{2500}};
  return cycle;
}

template <class Execute>
void run_commands(benchmark::State& state, Execute execute) {
  const std::vector<OrderCommand>& cycle = command_cycle();
  eda::LatencyRecorder recorder;
  std::uint64_t n = 0;
  for (auto _ : state) {
    const std::uint64_t order = n / cycle.size() + 1;
    const std::int64_t start = eda::monotonic_ns();
    execute(order, cycle[n % cycle.size()]);
    recorder.record(eda::monotonic_ns() - start);
    ++n;
  }
  state.SetItemsProcessed(state.iterations());
  set_latency_counters(state, recorder);
}

void BM_Cqrs_Command(benchmark::State& state) {
  ScratchFile file("command-store");
  SqliteEventStore store({.path = file.path(), .durability = Durability::full});
  OrderRepository orders(store);
  run_commands(state, [&](std::uint64_t order, const OrderCommand& command) {
    (void)orders.execute(order, command);
  });
}

void BM_SingleModel_Command(benchmark::State& state) {
  ScratchFile file("command-single-model");
  baseline::SingleModelShop shop({.path = file.path(), .durability = Durability::full});
  run_commands(state, [&](std::uint64_t order, const OrderCommand& command) {
    (void)shop.execute(order, command, eda::wall_clock_ns());
  });
}

// ---- Projection lag -----------------------------------------------------------------------

void BM_Cqrs_ProjectionLag(benchmark::State& state) {
  ScratchFile store_file("lag-store");
  ScratchFile read_file("lag-read-models");
  std::unique_ptr<eda::workloads::ProjectionLagRun> run;
  try {
    run = std::make_unique<eda::workloads::ProjectionLagRun>(eda::workloads::ProjectionLagOptions{
        .store_path = store_file.path(),
        .read_models_path = read_file.path(),
        .commands_per_second = static_cast<std::uint64_t>(state.range(0)),
        .run_time = std::chrono::milliseconds(env_count("EDA_BENCH_CQRS_LAG_MS", 2000)),
        .durability = state.range(1) != 0 ? Durability::full : Durability::normal});
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  for (auto _ : state) {
    try {
      run->run();
    } catch (const std::exception& e) {
      state.SkipWithError(e.what());
      return;
    }
  }
  const eda::LatencySummary lags = run->lag().summary();
  state.SetItemsProcessed(static_cast<std::int64_t>(run->commands_accepted()));
  state.counters["lag_p50_us"] = static_cast<double>(lags.p50_ns) / 1e3;
  state.counters["lag_p99_us"] = static_cast<double>(lags.p99_ns) / 1e3;
  state.counters["lag_max_us"] = static_cast<double>(lags.max_ns) / 1e3;
  state.counters["commands_per_second"] = run->commands_per_second();
  state.counters["events_per_batch"] = run->events_per_batch();
  set_latency_counters(state, run->command_latency(), "cmd_");
}

// ---- Rebuild ------------------------------------------------------------------------------

void BM_Cqrs_Rebuild(benchmark::State& state) {
  const eda::workloads::ShopHistory* history =
      Histories::get(state, static_cast<std::uint64_t>(state.range(0)));
  if (history == nullptr) return;
  std::uint64_t rebuilt = 0;
  for (auto _ : state) {
    state.PauseTiming();
    {
      ScratchFile file("rebuild");
      ReadModels read({.path = file.path()});
      state.ResumeTiming();
      rebuilt = eda::workloads::rebuild_read_models(read, history->store());
      state.PauseTiming();
    }  // closed and removed outside the timing
    state.ResumeTiming();
  }
  if (rebuilt != history->events()) state.SkipWithError("the rebuild did not see every event");
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(history->events()));
}

// ---- Registration -------------------------------------------------------------------------

/// Registers every benchmark; the history sizes come from the environment, hence at run time.
void register_benchmarks() {
  // The benchmarks that wait for fsync run first, before the histories' hundreds of megabytes
  // are written: on a virtual disk their write-back would otherwise be measured as well.
  benchmark::RegisterBenchmark("BM_Cqrs_Command", BM_Cqrs_Command)
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("BM_SingleModel_Command", BM_SingleModel_Command)
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("BM_Cqrs_ProjectionLag", BM_Cqrs_ProjectionLag)
      ->ArgNames({"commands_per_second", "durability"})
      ->ArgsProduct({{500, 2000}, {1, 0}})
      ->Iterations(1)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  const std::vector<std::int64_t> sizes = history_sizes();
  for (const ShopQuestion question :
       {ShopQuestion::customer_orders, ShopQuestion::sales_by_day, ShopQuestion::sales_by_day_all,
        ShopQuestion::awaiting_shipment}) {
    for (const Design design : {Design::cqrs, Design::single_model}) {
      const std::string name =
          std::string(design == Design::cqrs ? "BM_Cqrs_Query/" : "BM_SingleModel_Query/") +
          eda::workloads::name_of(question);
      auto* benchmark = benchmark::RegisterBenchmark(
          name.c_str(),
          [design, question](benchmark::State& state) { run_query(state, design, question); });
      benchmark->ArgName("events")->UseRealTime()->Unit(benchmark::kMicrosecond);
      for (const std::int64_t size : sizes) benchmark->Arg(size);
    }
  }
  auto* rebuild = benchmark::RegisterBenchmark("BM_Cqrs_Rebuild", BM_Cqrs_Rebuild);
  rebuild->ArgName("events")->UseRealTime()->Unit(benchmark::kMillisecond);
  for (const std::int64_t size : sizes) rebuild->Arg(size);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  register_benchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
