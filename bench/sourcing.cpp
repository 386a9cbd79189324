/// @file sourcing.cpp
/// @brief bench-sourcing: the event store against its CRUD baseline, in the same run, on the
///        same disk, with the same durability settings.
///
/// What storing events costs and buys:
///
/// - BM_Sourcing_Append/events:N/durability:D: one iteration = one transaction appending N
///   events to a stream, `synchronous=FULL` (D=1) or NORMAL (D=0). items/s = events/s;
///   `p50_us`/`p99_us` per transaction. The floor under FULL is the disk's flush
///   (BM_Disk_Fsync, in the same folder).
/// - BM_Sourcing_Command / BM_Sourcing_Crud_Command (durability:D): one iteration = one order
///   command end to end — load, decide, write — through the event store (OrderRepository) or
///   the CRUD baseline (rows updated in place). items/s = commands/s.
/// - BM_Sourcing_Service/clients:C/group:G: C writers, each appending one event at a time
///   through the store service (StoreService over ZeroMQ, tcp loopback) to a FULL store. With
///   G=1 the service commits the appends that wait together (group commit); with G=0 it
///   commits each on its own (one fsync per event, the same path otherwise). items/s =
///   durable events/s; `events_per_commit`; `p50_us`/`p99_us` per append as a writer sees it.
/// - BM_Sourcing_Load/events:N/snapshots:S: loading an order whose stream holds N events, with
///   a snapshot every 100 events (S=1) or without (S=0). `events_replayed` per load.
/// - BM_Sourcing_Replay: every event of a store of EDA_BENCH_REPLAY_EVENTS events (default
///   1M) read in position order, decoded (upcast where needed) and folded with evolve() into
///   its order. items/s = events/s. BM_Sourcing_Replay_ReadOnly stops after reading and
///   decoding; BM_Sourcing_Replay_RawSqlite reads the same rows with the bare SQLite API and
///   decodes nothing: the ceiling.
/// - BM_Sourcing_BytesPerChange: the same commands through both designs, then the files'
///   sizes: `store_bytes_per_command` against `crud_bytes_per_command` (the price of history).
///
/// Files live in the system's temporary folder (on this machine: the real disk, so fsync
/// costs what it costs) and are removed afterwards. The CTest smoke run shrinks the work with
/// EDA_BENCH_REPLAY_EVENTS, EDA_BENCH_SERVICE_APPENDS (appends per writer per round) and
/// EDA_BENCH_BYTES_ORDERS (orders in the bytes-per-change run, default 2000).
#include <benchmark/benchmark.h>

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <unordered_map>
#include <memory>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "eda/clock.hpp"
#include "eda/latency.hpp"
#include "eda/sourcing/crud_orders.hpp"
#include "eda/sourcing/order.hpp"
#include "eda/sourcing/order_repository.hpp"
#include "eda/sourcing/sqlite_store.hpp"
#include "eda/sourcing/store_service.hpp"

namespace {

using namespace std::chrono_literals;
using namespace eda::sourcing;

/// A positive count from the environment variable `name`, or `fallback`.
std::uint64_t env_count(const char* name, std::uint64_t fallback) {
  const char* text = std::getenv(name);
  const long long value = text != nullptr ? std::strtoll(text, nullptr, 10) : 0;
  return value > 0 ? static_cast<std::uint64_t>(value) : fallback;
}

/// A database file in the temporary folder, removed (with its WAL files) when it goes.
class ScratchFile {
 public:
  explicit ScratchFile(const std::string& name)
      : path_((std::filesystem::temp_directory_path() /
               ("eda-bench-" + name + "-" + eda::new_event_id() + ".db"))
                  .string()) {}
  ~ScratchFile() {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix, ignored_);
  }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }
  /// The database's bytes on disk: the file and its write-ahead log.
  [[nodiscard]] std::uintmax_t bytes() const {
    std::uintmax_t total = 0;
    for (const char* suffix : {"", "-wal"}) {
      const auto size = std::filesystem::file_size(path_ + suffix, ignored_);
      if (!ignored_) total += size;
    }
    return total;
  }

 private:
  std::string path_;
  mutable std::error_code ignored_;
};

Durability durability_of(std::int64_t arg) { return arg != 0 ? Durability::full : Durability::normal; }

void set_latency_counters(benchmark::State& state, const eda::LatencyRecorder& recorder,
                          const std::string& prefix = "") {
  const eda::LatencySummary summary = recorder.summary();
  state.counters[prefix + "p50_us"] = static_cast<double>(summary.p50_ns) / 1e3;
  state.counters[prefix + "p99_us"] = static_cast<double>(summary.p99_ns) / 1e3;
}

/// One order's events as the shop writes them: placed, eight items, one removed, paid.
std::vector<OrderEvent> order_life(std::uint64_t order_id) {
  std::vector<OrderEvent> events{OrderPlaced{order_id % 2 == 0 ? "alice" : "bob"}};
  for (int i = 0; i < 8; ++i) events.emplace_back(ItemAdded{"part-" + std::to_string(i), 1, 250});
  events.emplace_back(ItemRemoved{"part-0"});
  return events;
}

/// The order id in a stream name `order-<id>`.
std::uint64_t order_id_of(const std::string& stream) {
  return std::strtoull(stream.c_str() + 6, nullptr, 10);
}

// ---- The disk itself ----------------------------------------------------------------------

/// What one durable write costs on this disk: 4 KiB written, then fdatasync.
void BM_Disk_Fsync(benchmark::State& state) {
  ScratchFile file("fsync");
  const int fd = ::open(file.path().c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
  if (fd < 0) {
    state.SkipWithError("cannot create a file in the temporary folder");
    return;
  }
  const std::string block(4096, 'x');
  eda::LatencyRecorder recorder;
  for (auto _ : state) {
    const std::int64_t start = eda::monotonic_ns();
    if (::pwrite(fd, block.data(), block.size(), 0) != static_cast<ssize_t>(block.size()) ||
        ::fdatasync(fd) != 0) {
      state.SkipWithError("write or fdatasync failed");
      break;
    }
    recorder.record(eda::monotonic_ns() - start);
  }
  ::close(fd);
  state.SetItemsProcessed(state.iterations());
  set_latency_counters(state, recorder);
}

// ---- Appends ------------------------------------------------------------------------------

void BM_Sourcing_Append(benchmark::State& state) {
  const auto per_transaction = static_cast<std::size_t>(state.range(0));
  ScratchFile file("append");
  SqliteEventStore store({.path = file.path(), .durability = durability_of(state.range(1))});
  eda::LatencyRecorder recorder;
  std::uint64_t stream = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<EventData> events;
    for (const OrderEvent& event : order_life(++stream)) {
      if (events.size() == per_transaction) break;
      events.push_back(to_event_data(event, "bench"));
    }
    while (events.size() < per_transaction) {
      events.push_back(to_event_data(ItemAdded{"more", 1, 10}, "bench"));
    }
    state.ResumeTiming();
    const std::int64_t start = eda::monotonic_ns();
    store.append(order_stream(stream), ExpectedVersion::no_stream(), events);
    recorder.record(eda::monotonic_ns() - start);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(per_transaction));
  set_latency_counters(state, recorder);
}

// ---- Commands: event store against CRUD ---------------------------------------------------

/// The commands of one order's life, for the command benchmarks.
std::vector<OrderCommand> order_commands() {
  return {PlaceOrder{"alice"}, AddItem{"widget", 2, 1250}, AddItem{"gadget", 1, 990},
          RemoveItem{"gadget"}, Pay{2500}};
}

template <class Execute>
void run_commands(benchmark::State& state, Execute execute) {
  const std::vector<OrderCommand> life = order_commands();
  eda::LatencyRecorder recorder;
  std::uint64_t n = 0;
  for (auto _ : state) {
    const std::uint64_t order = n / life.size() + 1;
    const std::int64_t start = eda::monotonic_ns();
    execute(order, life[n % life.size()]);
    recorder.record(eda::monotonic_ns() - start);
    ++n;
  }
  state.SetItemsProcessed(state.iterations());
  set_latency_counters(state, recorder);
}

void BM_Sourcing_Command(benchmark::State& state) {
  ScratchFile file("command");
  SqliteEventStore store({.path = file.path(), .durability = durability_of(state.range(0))});
  OrderRepository orders(store);
  run_commands(state, [&](std::uint64_t order, const OrderCommand& command) {
    (void)orders.execute(order, command);
  });
}

void BM_Sourcing_Crud_Command(benchmark::State& state) {
  ScratchFile file("crud");
  baseline::CrudOrders crud({.path = file.path(), .durability = durability_of(state.range(0))});
  run_commands(state, [&](std::uint64_t order, const OrderCommand& command) {
    (void)crud.execute(order, command);
  });
}

// ---- Group commit through the store service -----------------------------------------------

void BM_Sourcing_Service(benchmark::State& state) {
  const auto clients = static_cast<std::size_t>(state.range(0));
  const std::uint64_t appends_each = env_count("EDA_BENCH_SERVICE_APPENDS", 200);
  ScratchFile file("service");
  SqliteEventStore store({.path = file.path(), .durability = Durability::full});
  zmq::context_t context;
  // group:0 is the same service committing each append on its own: one fsync per event.
  const std::size_t max_group = state.range(1) != 0 ? 256 : 1;
  StoreService service(context, store,
                       {.endpoints = {"tcp://127.0.0.1:*"}, .max_group = max_group});
  std::jthread serving([&](const std::stop_token& stop) {
    while (!stop.stop_requested()) (void)service.serve_once(5ms);
  });
  std::vector<std::unique_ptr<RemoteEventStore>> writers;
  for (std::size_t c = 0; c < clients; ++c) {
    writers.push_back(std::make_unique<RemoteEventStore>(
        context, eda::RpcClientOptions{.endpoint = service.endpoints().front(), .timeout = 30s}));
  }
  std::vector<eda::LatencyRecorder> recorders(clients);
  std::atomic<bool> failed{false};
  for (auto _ : state) {
    std::vector<std::jthread> threads;
    for (std::size_t c = 0; c < clients; ++c) {
      threads.emplace_back([&, c] {
        try {
          for (std::uint64_t n = 0; n < appends_each; ++n) {
            const std::vector event{to_event_data(ItemAdded{"part", 1, 10}, "writer")};
            const std::int64_t start = eda::monotonic_ns();
            writers[c]->append("writer-" + std::to_string(c), ExpectedVersion::any(), event);
            recorders[c].record(eda::monotonic_ns() - start);
          }
        } catch (const std::exception& e) {
          std::cerr << "writer " << c << ": " << e.what() << "\n";
          failed = true;
        }
      });
    }
  }
  serving.request_stop();
  serving.join();
  if (failed) {
    state.SkipWithError("a writer failed (see above)");
    return;
  }
  eda::LatencyRecorder all;
  for (const auto& recorder : recorders) all.merge(recorder);
  const StoreServiceStats& stats = service.stats();
  state.SetItemsProcessed(static_cast<std::int64_t>(stats.appends));
  state.counters["events_per_commit"] =
      stats.groups > 0 ? static_cast<double>(stats.appends) / static_cast<double>(stats.groups) : 0;
  set_latency_counters(state, all);
}

// ---- Loading an aggregate -----------------------------------------------------------------

void BM_Sourcing_Load(benchmark::State& state) {
  const auto events = static_cast<std::uint64_t>(state.range(0));
  const bool snapshots = state.range(1) != 0;
  ScratchFile file("load");
  SqliteEventStore store({.path = file.path(), .durability = Durability::normal});
  OrderRepository orders(store, {.snapshot_every = snapshots ? 100u : 0u});
  if (snapshots) {
    // Through the repository, which saves a snapshot every 100 events as it goes.
    (void)orders.execute(1, PlaceOrder{"dave"});
    for (std::uint64_t i = 1; i < events; ++i) {
      (void)orders.execute(1, AddItem{"part-" + std::to_string(i % 50), 1, 10});
    }
  } else {
    // The same events appended directly: executing them one by one would replay the
    // growing stream each time (quadratic), which is not what is measured here.
    std::vector<EventData> batch{to_event_data(OrderPlaced{"dave"}, "bench")};
    for (std::uint64_t i = 1; i < events; ++i) {
      batch.push_back(to_event_data(ItemAdded{"part-" + std::to_string(i % 50), 1, 10}, "bench"));
    }
    store.append(order_stream(1), ExpectedVersion::no_stream(), batch);
  }
  eda::LatencyRecorder recorder;
  std::uint64_t replayed = 0;
  for (auto _ : state) {
    const std::int64_t start = eda::monotonic_ns();
    const LoadedOrder loaded = orders.load(1);
    recorder.record(eda::monotonic_ns() - start);
    replayed = loaded.events_replayed;
    benchmark::DoNotOptimize(loaded);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["events_replayed"] = static_cast<double>(replayed);
  set_latency_counters(state, recorder);
}

// ---- Replaying a big store ----------------------------------------------------------------

/// The replay store, built once for both replay benchmarks: orders of ten events each,
/// appended a thousand events per transaction (NORMAL: building it is not what is measured).
class ReplayStore {
 public:
  static ReplayStore& get() {
    static ReplayStore store(env_count("EDA_BENCH_REPLAY_EVENTS", 1'000'000));
    return store;
  }
  [[nodiscard]] const std::string& path() const { return file_.path(); }
  [[nodiscard]] std::uint64_t events() const { return events_; }

 private:
  explicit ReplayStore(std::uint64_t wanted) : file_("replay") {
    SqliteEventStore store({.path = file_.path(), .durability = Durability::normal});
    const eda::Deadline quiet(2s);
    std::uint64_t order = 0;
    while (events_ < wanted) {
      std::vector<AppendRequest> group;
      for (std::uint64_t in_group = 0; in_group < 1000 && events_ < wanted;) {
        AppendRequest request{order_stream(++order), ExpectedVersion::no_stream(), {}};
        for (const OrderEvent& event : order_life(order)) {
          if (events_ == wanted) break;
          request.events.push_back(to_event_data(event, "bench"));
          ++events_;
          ++in_group;
        }
        group.push_back(std::move(request));
      }
      (void)store.append_all(group);
      if (quiet.expired() && order % 10'000 == 0) {
        std::cerr << "\rbench-sourcing: building the replay store, " << events_ << " of "
                  << wanted << " events" << std::flush;
      }
    }
    if (quiet.expired()) std::cerr << "\n";
  }
  ScratchFile file_;
  std::uint64_t events_ = 0;
};

/// Reads every event of the replay store in position order, a page at a time, handing each
/// to `visit`; returns how many there were.
template <class Visit>
std::uint64_t read_everything(const SqliteEventStore& store, Visit visit) {
  constexpr std::size_t page_size = 10'000;
  std::uint64_t count = 0;
  for (std::uint64_t from = 1;;) {
    const std::vector<RecordedEvent> page = store.read_all(from, page_size);
    for (const RecordedEvent& recorded : page) visit(recorded);
    count += page.size();
    if (page.size() < page_size) return count;
    from = page.back().position + 1;
  }
}

void BM_Sourcing_Replay(benchmark::State& state) {
  const ReplayStore& replay = ReplayStore::get();
  SqliteEventStore store({.path = replay.path(), .durability = Durability::normal});
  std::uint64_t folded = 0;
  for (auto _ : state) {
    // Keyed by order id, as a projection would keep them.
    std::unordered_map<std::uint64_t, OrderState> orders;
    orders.reserve(replay.events() / 10 + 1);
    folded = read_everything(store, [&](const RecordedEvent& recorded) {
      OrderState& order = orders[order_id_of(recorded.stream)];
      order = evolve(std::move(order), order_event_from(recorded));
    });
    benchmark::DoNotOptimize(orders);
  }
  if (folded != replay.events()) state.SkipWithError("the replay did not see every event");
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(replay.events()));
}

/// The replay without the fold: reading and decoding the envelopes only.
void BM_Sourcing_Replay_ReadOnly(benchmark::State& state) {
  const ReplayStore& replay = ReplayStore::get();
  SqliteEventStore store({.path = replay.path(), .durability = Durability::normal});
  std::uint64_t read = 0;
  for (auto _ : state) {
    read = read_everything(store, [](const RecordedEvent& recorded) {
      benchmark::DoNotOptimize(recorded.event.meta().schema_version);
    });
  }
  if (read != replay.events()) state.SkipWithError("the read did not see every event");
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(replay.events()));
}

void BM_Sourcing_Replay_RawSqlite(benchmark::State& state) {
  const ReplayStore& replay = ReplayStore::get();
  sqlite3* db = nullptr;
  sqlite3_stmt* select = nullptr;
  if (sqlite3_open_v2(replay.path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK ||
      sqlite3_exec(db, "PRAGMA mmap_size=1073741824", nullptr, nullptr, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "SELECT position, stream, version, envelope FROM events ORDER BY position",
                         -1, &select, nullptr) != SQLITE_OK) {
    state.SkipWithError(sqlite3_errmsg(db));
    sqlite3_close(db);
    return;
  }
  std::uint64_t rows = 0;
  for (auto _ : state) {
    rows = 0;
    std::uint64_t bytes = 0;
    while (sqlite3_step(select) == SQLITE_ROW) {
      bytes += static_cast<std::uint64_t>(sqlite3_column_bytes(select, 3));
      benchmark::DoNotOptimize(sqlite3_column_blob(select, 3));
      ++rows;
    }
    sqlite3_reset(select);
    benchmark::DoNotOptimize(bytes);
  }
  sqlite3_finalize(select);
  sqlite3_close(db);
  if (rows != replay.events()) state.SkipWithError("the raw read did not see every row");
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(replay.events()));
}

// ---- What history costs on disk -----------------------------------------------------------

void BM_Sourcing_BytesPerChange(benchmark::State& state) {
  const std::uint64_t orders_count = env_count("EDA_BENCH_BYTES_ORDERS", 2'000);
  const std::vector<OrderCommand> life = order_commands();
  double store_bytes = 0;
  double crud_bytes = 0;
  for (auto _ : state) {
    ScratchFile store_file("bytes-store");
    ScratchFile crud_file("bytes-crud");
    {
      SqliteEventStore store({.path = store_file.path(), .durability = Durability::normal});
      OrderRepository orders(store);
      baseline::CrudOrders crud({.path = crud_file.path(), .durability = Durability::normal});
      for (std::uint64_t order = 1; order <= orders_count; ++order) {
        for (const OrderCommand& command : life) {
          (void)orders.execute(order, command);
          (void)crud.execute(order, command);
        }
      }
    }  // closing checkpoints each write-ahead log into its database file
    store_bytes = static_cast<double>(store_file.bytes());
    crud_bytes = static_cast<double>(crud_file.bytes());
  }
  const auto commands = static_cast<double>(orders_count * life.size());
  state.counters["store_bytes_per_command"] = store_bytes / commands;
  state.counters["crud_bytes_per_command"] = crud_bytes / commands;
  state.counters["store_to_crud"] = crud_bytes > 0 ? store_bytes / crud_bytes : 0;
}

}  // namespace

BENCHMARK(BM_Disk_Fsync)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Sourcing_Append)
    ->ArgNames({"events", "durability"})
    ->ArgsProduct({{1, 10, 100}, {1, 0}})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Sourcing_Command)->ArgName("durability")->Arg(1)->Arg(0)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Sourcing_Crud_Command)->ArgName("durability")->Arg(1)->Arg(0)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Sourcing_Service)
    ->ArgNames({"clients", "group"})
    ->ArgsProduct({{1, 8, 32}, {1, 0}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Sourcing_Load)
    ->ArgNames({"events", "snapshots"})
    ->ArgsProduct({{10, 100, 1'000, 10'000}, {0, 1}})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Sourcing_Replay)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Sourcing_Replay_ReadOnly)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Sourcing_Replay_RawSqlite)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Sourcing_BytesPerChange)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
