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
///   BM_Sourcing_Service_NoDisk/clients:C is the same service and writers in front of the
///   in-memory store: no SQLite, no fsync — what the messaging alone allows, the ceiling of
///   the row above on this machine.
/// - BM_Sourcing_Pipelined/clients:C/in_flight:F: C writers, each an AppendPipeline keeping up
///   to F appends of one event in flight (EDA_BENCH_PIPELINE_APPENDS per iteration in all,
///   default 20 000) through the store service to a FULL store, which commits whatever has
///   arrived together (up to 1024 appends). items/s = durable events/s; `events_per_commit`;
///   `p50_us`/`p99_us` from sending an append to its outcome. BM_Sourcing_Pipelined_NoDisk is
///   the same in front of the in-memory store (the ceiling), BM_Sourcing_Pipelined_OneCommit
///   the same with one commit (one fsync) per append, on a tenth of the appends.
/// - BM_Sourcing_Load/events:N/snapshots:S: loading an order whose stream holds N events, with
///   a snapshot every 100 events (S=1) or without (S=0), real time. `events_replayed` per load;
///   `p50_us`/`p99_us` per load.
/// - BM_Sourcing_Replay: every event of a store of EDA_BENCH_REPLAY_EVENTS events (default
///   1M) read in position order, decoded (upcast where needed) and folded with evolve() into
///   its order. items/s = events/s. BM_Sourcing_Replay_ReadOnly stops after reading and
///   decoding; BM_Sourcing_Replay_RawSqlite reads the same rows with the bare SQLite API and
///   decodes nothing: the ceiling (its bytes/s counts the envelope column it reads).
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

#include <cstdint>
#include <string>
#include <vector>

#include "eda/clock.hpp"
#include "eda/latency.hpp"
#include "eda/sourcing/crud_orders.hpp"
#include "eda/sourcing/memory_store.hpp"
#include "eda/sourcing/order.hpp"
#include "eda/sourcing/order_repository.hpp"
#include "eda/sourcing/sqlite_store.hpp"
#include "store_workloads.hpp"

namespace {

using namespace std::chrono_literals;
using namespace eda::sourcing;
using namespace eda::bench;

Durability durability_of(std::int64_t arg) {
  return arg != 0 ? Durability::full : Durability::normal;
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
  ScratchFile file("append");
  SqliteEventStore store({.path = file.path(), .durability = durability_of(state.range(1))});
  measure_appends(state, store, static_cast<std::size_t>(state.range(0)));
}

// ---- Commands: event store against CRUD ---------------------------------------------------

void BM_Sourcing_Command(benchmark::State& state) {
  ScratchFile file("command");
  SqliteEventStore store({.path = file.path(), .durability = durability_of(state.range(0))});
  OrderRepository orders(store);
  measure_commands(state, [&](std::uint64_t order, const OrderCommand& command) {
    (void)orders.execute(order, command);
  });
}

void BM_Sourcing_Crud_Command(benchmark::State& state) {
  ScratchFile file("crud");
  baseline::CrudOrders crud({.path = file.path(), .durability = durability_of(state.range(0))});
  measure_commands(state, [&](std::uint64_t order, const OrderCommand& command) {
    (void)crud.execute(order, command);
  });
}

// ---- Group commit through the store service -----------------------------------------------

void BM_Sourcing_Service(benchmark::State& state) {
  ScratchFile file("service");
  SqliteEventStore store({.path = file.path(), .durability = Durability::full});
  // group:0 is the same service committing each append on its own: one fsync per event.
  measure_service_writers(state, store, static_cast<std::size_t>(state.range(0)),
                          state.range(1) != 0 ? 256 : 1,
                          env_count("EDA_BENCH_SERVICE_APPENDS", 200));
}

/// The reference for BM_Sourcing_Service: the same service and writers with nothing to store
/// on disk.
void BM_Sourcing_Service_NoDisk(benchmark::State& state) {
  InMemoryEventStore store;
  measure_service_writers(state, store, static_cast<std::size_t>(state.range(0)), 256,
                          env_count("EDA_BENCH_SERVICE_APPENDS", 200));
}

// ---- Pipelined appends through the store service ------------------------------------------

/// Appends per iteration, shared by the writers (EDA_BENCH_PIPELINE_APPENDS).
std::uint64_t pipeline_appends() { return env_count("EDA_BENCH_PIPELINE_APPENDS", 20'000); }

void BM_Sourcing_Pipelined(benchmark::State& state) {
  ScratchFile file("pipelined");
  SqliteEventStore store({.path = file.path(), .durability = Durability::full});
  measure_pipelined_writers(state, store, static_cast<std::size_t>(state.range(0)),
                            static_cast<std::size_t>(state.range(1)), 1024, pipeline_appends());
}

/// The ceiling of BM_Sourcing_Pipelined: the same service and writers, nothing stored on disk.
void BM_Sourcing_Pipelined_NoDisk(benchmark::State& state) {
  InMemoryEventStore store;
  measure_pipelined_writers(state, store, static_cast<std::size_t>(state.range(0)),
                            static_cast<std::size_t>(state.range(1)), 1024, pipeline_appends());
}

/// The floor: the same pipelining writers, the service committing each append on its own (one
/// fsync per event). A tenth of the appends, so that it ends in seconds.
void BM_Sourcing_Pipelined_OneCommit(benchmark::State& state) {
  ScratchFile file("one-commit");
  SqliteEventStore store({.path = file.path(), .durability = Durability::full});
  measure_pipelined_writers(state, store, static_cast<std::size_t>(state.range(0)),
                            static_cast<std::size_t>(state.range(1)), 1,
                            std::max<std::uint64_t>(1, pipeline_appends() / 10));
}

// ---- Loading an aggregate -----------------------------------------------------------------

void BM_Sourcing_Load(benchmark::State& state) {
  const bool snapshots = state.range(1) != 0;
  ScratchFile file("load");
  SqliteEventStore store({.path = file.path(), .durability = Durability::normal});
  write_long_order(store, static_cast<std::uint64_t>(state.range(0)), snapshots);
  measure_loads(state, store, snapshots);
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
    events_ = fill_with_orders(store, wanted, "bench-sourcing: building the replay store");
  }
  ScratchFile file_;
  std::uint64_t events_ = 0;
};

void BM_Sourcing_Replay(benchmark::State& state) {
  const ReplayStore& replay = ReplayStore::get();
  SqliteEventStore store({.path = replay.path(), .durability = Durability::normal});
  measure_replay(state, store, replay.events());
}

/// The replay without the fold: reading and decoding the envelopes only.
void BM_Sourcing_Replay_ReadOnly(benchmark::State& state) {
  const ReplayStore& replay = ReplayStore::get();
  SqliteEventStore store({.path = replay.path(), .durability = Durability::normal});
  std::uint64_t read = 0;
  for (auto _ : state) {
    read = read_everything(store, [](const RecordedEvent& recorded) {
      benchmark::DoNotOptimize(recorded.event.schema_version());
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
      sqlite3_prepare_v2(db,
                         "SELECT position, stream, version, envelope FROM events ORDER BY position",
                         -1, &select, nullptr) != SQLITE_OK) {
    state.SkipWithError(sqlite3_errmsg(db));
    sqlite3_close(db);
    return;
  }
  std::uint64_t rows = 0;
  std::uint64_t bytes = 0;
  for (auto _ : state) {
    rows = 0;
    bytes = 0;
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
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes));  // envelopes
}

// ---- What history costs on disk -----------------------------------------------------------

void BM_Sourcing_BytesPerChange(benchmark::State& state) {
  const std::uint64_t orders_count = env_count("EDA_BENCH_BYTES_ORDERS", 2'000);
  const std::vector<OrderCommand>& life = eda::workloads::order_life();
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
BENCHMARK(BM_Sourcing_Command)
    ->ArgName("durability")
    ->Arg(1)
    ->Arg(0)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Sourcing_Crud_Command)
    ->ArgName("durability")
    ->Arg(1)
    ->Arg(0)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Sourcing_Service)
    ->ArgNames({"clients", "group"})
    ->ArgsProduct({{1, 8, 32}, {1, 0}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Sourcing_Service_NoDisk)
    ->ArgName("clients")
    ->Arg(1)
    ->Arg(8)
    ->Arg(32)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Sourcing_Pipelined)
    ->ArgNames({"clients", "in_flight"})
    ->ArgsProduct({{1, 4, 32}, {1, 16, 64}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Sourcing_Pipelined_NoDisk)
    ->ArgNames({"clients", "in_flight"})
    ->ArgsProduct({{1, 4, 32}, {1, 16, 64}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Sourcing_Pipelined_OneCommit)
    ->ArgNames({"clients", "in_flight"})
    ->ArgsProduct({{1, 4, 32}, {64}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Sourcing_Load)
    ->ArgNames({"events", "snapshots"})
    ->ArgsProduct({{10, 100, 1'000, 10'000}, {0, 1}})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Sourcing_Replay)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Sourcing_Replay_ReadOnly)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Sourcing_Replay_RawSqlite)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Sourcing_BytesPerChange)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
