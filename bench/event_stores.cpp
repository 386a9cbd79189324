/// @file event_stores.cpp
/// @brief bench-event-stores: the same EventStore contract on SQLite (one file, embedded) and
///        on PostgreSQL (a server every machine can reach), measured in the same run with the
///        same workloads — what moving from one machine to many costs.
///
/// Every benchmark is registered once per store, `store:sqlite` and `store:postgres`:
///
/// - BM_Stores_Append/store:S/events:N/durability:D: one transaction appending N events to a
///   new stream. D=1 is durable at commit (SQLite `synchronous=FULL`; PostgreSQL's default,
///   `synchronous_commit=on`), D=0 is not (SQLite NORMAL; PostgreSQL `synchronous_commit=off`:
///   a crash of the machine may lose the last commits, never corrupt). items/s = events/s;
///   `p50_us`/`p99_us` per transaction.
/// - BM_Stores_Command/store:S: one order command end to end, durable — load the order,
///   decide, append expecting its version (OrderRepository) — as the CQRS command side runs
///   it. items/s = commands/s.
/// - BM_Stores_Writers/store:S/clients:C: C writers, each with its own connection, appending
///   one durable event at a time to a stream of its own — several processes sharing a store
///   directly. items/s = events/s; `p50_us`/`p99_us` per append.
/// - BM_Stores_Service/store:S/clients:C: the same C writers through the store service (tcp
///   loopback, group commit) in front of the store — the way to share an embedded store.
///   `events_per_commit`.
/// - BM_Stores_Load/store:S/events:N/snapshots:K: loading an order whose stream holds N events,
///   by full replay (K=0) or from a snapshot taken every 100 events plus the tail (K=1).
/// - BM_Stores_Replay/store:S: every event of a store of EDA_BENCH_STORE_REPLAY_EVENTS events
///   (default 200k) read in position order, decoded and folded with evolve(). items/s.
///
/// Where the servers are: SQLite files in the temporary folder; PostgreSQL databases created
/// (and dropped afterwards) on the server named by EDA_BENCH_POSTGRES (a connection string to
/// a database the user may create databases from, such as `postgres`). Unset, the program
/// starts a throw-away server of its own (sourcing/tests/with_postgres.sh: initdb in a
/// temporary folder, loopback only, removed afterwards) and runs itself again under it; when
/// PostgreSQL is not installed it says so and measures SQLite alone. EDA_BENCH_POSTGRES=off
/// measures SQLite alone. The CTest smoke run shrinks the work with EDA_BENCH_STORE_APPENDS
/// (appends per writer per round, default 200) and EDA_BENCH_STORE_REPLAY_EVENTS.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "eda/child_process.hpp"
#include "eda/clock.hpp"
#include "eda/latency.hpp"
#include "eda/sourcing/open_store.hpp"
#include "eda/sourcing/order_repository.hpp"
#include "eda/sourcing/postgres_store.hpp"
#include "eda/sourcing/sqlite_store.hpp"
#include "postgres_fixture.hpp"
#include "store_workloads.hpp"

namespace {

using namespace eda::sourcing;
using namespace eda::bench;

/// Which database a benchmark runs on.
enum class Backend { sqlite, postgres };

const char* name_of(Backend backend) { return backend == Backend::sqlite ? "sqlite" : "postgres"; }

/// A fresh, empty store for one benchmark — a SQLite file or a PostgreSQL database — removed
/// when the benchmark is over; opens as many connections to it as the benchmark needs.
class ScratchStore {
 public:
  virtual ~ScratchStore() = default;
  /// A new connection to the store; `durable` = every commit is on disk before it returns.
  [[nodiscard]] virtual std::unique_ptr<EventStore> open(bool durable = true) const = 0;
};

class ScratchSqlite final : public ScratchStore {
 public:
  [[nodiscard]] std::unique_ptr<EventStore> open(bool durable) const override {
    return std::make_unique<SqliteEventStore>(SqliteStoreOptions{
        .path = file_.path(), .durability = durable ? Durability::full : Durability::normal});
  }

 private:
  ScratchFile file_{"stores"};
};

class ScratchPostgres final : public ScratchStore {
 public:
  [[nodiscard]] std::unique_ptr<EventStore> open(bool durable) const override {
    // synchronous_commit=off is PostgreSQL's counterpart of SQLite's NORMAL: a commit returns
    // before its log record is flushed, so a machine crash may lose the last commits.
    // Said either way, so that a server configured otherwise measures what the name says.
    std::string connection = database_.connection();
    connection +=
        durable ? " options='-c synchronous_commit=on'" : " options='-c synchronous_commit=off'";
    return std::make_unique<PostgresEventStore>(
        PostgresStoreOptions{.connection = connection, .application_name = "bench-event-stores"});
  }

 private:
  test::TempPostgresDatabase database_;
};

std::unique_ptr<ScratchStore> scratch_store(Backend backend) {
  if (backend == Backend::sqlite) return std::make_unique<ScratchSqlite>();
  return std::make_unique<ScratchPostgres>();
}

// ---- The benchmarks -----------------------------------------------------------------------

void append_transactions(benchmark::State& state, Backend backend) {
  const auto scratch = scratch_store(backend);
  const auto store = scratch->open(state.range(1) != 0);
  measure_appends(state, *store, static_cast<std::size_t>(state.range(0)));
}

void commands(benchmark::State& state, Backend backend) {
  const auto scratch = scratch_store(backend);
  const auto store = scratch->open();
  OrderRepository orders(*store);
  measure_commands(state, [&](std::uint64_t order, const OrderCommand& command) {
    (void)orders.execute(order, command);
  });
}

void direct_writers(benchmark::State& state, Backend backend) {
  const auto clients = static_cast<std::size_t>(state.range(0));
  const std::uint64_t appends_each = env_count("EDA_BENCH_STORE_APPENDS", 200);
  const auto scratch = scratch_store(backend);
  std::vector<std::unique_ptr<EventStore>> connections;
  for (std::size_t c = 0; c < clients; ++c) connections.push_back(scratch->open());
  if (run_one_event_writers(state, connections, appends_each)) {
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(clients * appends_each));
  }
}

void service_writers(benchmark::State& state, Backend backend) {
  const auto scratch = scratch_store(backend);
  const auto store = scratch->open();
  measure_service_writers(state, *store, static_cast<std::size_t>(state.range(0)), 256,
                          env_count("EDA_BENCH_STORE_APPENDS", 200));
}

void load_order(benchmark::State& state, Backend backend) {
  const bool snapshots = state.range(1) != 0;
  const auto scratch = scratch_store(backend);
  // Not durable: writing the order is preparation, not what is measured.
  const auto store = scratch->open(false);
  write_long_order(*store, static_cast<std::uint64_t>(state.range(0)), snapshots);
  measure_loads(state, *store, snapshots);
}

void replay_store(benchmark::State& state, Backend backend) {
  const auto scratch = scratch_store(backend);
  const auto store = scratch->open(false);
  const std::uint64_t events = fill_with_orders(
      *store, env_count("EDA_BENCH_STORE_REPLAY_EVENTS", 200'000),
      std::string("bench-event-stores: filling the ") + name_of(backend) + " store to replay");
  measure_replay(state, *store, events);
}

/// Registers every benchmark for `backend`.
void register_for(Backend backend) {
  const std::string store = std::string("/store:") + name_of(backend);
  const auto on = [backend](void (*run)(benchmark::State&, Backend)) {
    return [run, backend](benchmark::State& state) { run(state, backend); };
  };
  benchmark::RegisterBenchmark(("BM_Stores_Append" + store).c_str(), on(append_transactions))
      ->ArgNames({"events", "durability"})
      ->ArgsProduct({{1, 10, 100}, {1, 0}})
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark(("BM_Stores_Command" + store).c_str(), on(commands))
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark(("BM_Stores_Writers" + store).c_str(), on(direct_writers))
      ->ArgName("clients")
      ->Arg(1)
      ->Arg(8)
      ->Arg(32)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark(("BM_Stores_Service" + store).c_str(), on(service_writers))
      ->ArgName("clients")
      ->Arg(1)
      ->Arg(8)
      ->Arg(32)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark(("BM_Stores_Load" + store).c_str(), on(load_order))
      ->ArgNames({"events", "snapshots"})
      ->ArgsProduct({{10, 100, 1'000, 10'000}, {0, 1}})
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark(("BM_Stores_Replay" + store).c_str(), on(replay_store))
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
}

// ---- Which PostgreSQL ---------------------------------------------------------------------

/// Whether an argument only asks for information (no server is worth starting for it).
bool asks_only_for_information(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h" || arg.starts_with("--benchmark_list_tests")) return true;
  }
  return false;
}

/// Runs this program again under with_postgres.sh --optional, which starts a throw-away
/// server and sets EDA_TEST_POSTGRES (or, when it cannot, EDA_POSTGRES_UNAVAILABLE with the
/// reason). Returns only when that cannot be done.
void run_again_with_a_server(int argc, char** argv) {
  if (::access(EDA_WITH_POSTGRES_SCRIPT, R_OK) != 0) {
    std::cerr << "bench-event-stores: cannot read " << EDA_WITH_POSTGRES_SCRIPT
              << " (the source tree moved?): PostgreSQL is not measured\n";
    ::setenv("EDA_POSTGRES_UNAVAILABLE", "with_postgres.sh is not where this program was built", 1);
    return;
  }
  std::string self;
  try {
    self = eda::this_program_path();
  } catch (const eda::SpawnError& error) {
    std::cerr << "bench-event-stores: " << error.what() << ": PostgreSQL is not measured\n";
    return;
  }
  std::vector<char*> args{const_cast<char*>("bash"), const_cast<char*>(EDA_WITH_POSTGRES_SCRIPT),
                          const_cast<char*>("--optional"), self.data()};
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  ::setenv("EDA_BENCH_POSTGRES_STARTED", "1", 1);  // never a second time, whatever happens
  std::cout << "bench-event-stores: starting a throw-away PostgreSQL for this run" << std::endl;
  ::execvp("bash", args.data());
  std::cerr << "bench-event-stores: cannot run " << EDA_WITH_POSTGRES_SCRIPT << ": "
            << std::strerror(errno) << "\n";
}

/// The server to measure PostgreSQL on (a connection string), or why there is none.
struct PostgresServer {
  std::optional<std::string> connection;  ///< Empty: PostgreSQL is not measured.
  std::string why_not;                    ///< Why it is not, for the output.
};

PostgresServer find_server() {
  const auto env = [](const char* name) -> std::string {
    const char* value = std::getenv(name);
    return value != nullptr ? value : "";
  };
  if (const std::string chosen = env("EDA_BENCH_POSTGRES"); !chosen.empty()) {
    if (chosen == "off") return {std::nullopt, "EDA_BENCH_POSTGRES=off"};
    return {chosen, ""};
  }
  if (const std::string started = env("EDA_TEST_POSTGRES"); !started.empty()) return {started, ""};
  if (const std::string reason = env("EDA_POSTGRES_UNAVAILABLE"); !reason.empty()) {
    return {std::nullopt, reason};
  }
  return {std::nullopt, "no server was started (see above)"};
}

}  // namespace

int main(int argc, char** argv) {
  const bool wants_server = std::getenv("EDA_BENCH_POSTGRES") == nullptr &&
                            std::getenv("EDA_TEST_POSTGRES") == nullptr &&
                            std::getenv("EDA_POSTGRES_UNAVAILABLE") == nullptr &&
                            std::getenv("EDA_BENCH_POSTGRES_STARTED") == nullptr;
  if (wants_server && !asks_only_for_information(argc, argv)) run_again_with_a_server(argc, argv);

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  register_for(Backend::sqlite);
  const PostgresServer server = find_server();
  if (server.connection) {
    try {
      // The databases the benchmarks create and drop live on this server (the fixture reads
      // the variable); checking its version here also proves it answers before we begin.
      ::setenv("EDA_TEST_POSTGRES", server.connection->c_str(), 1);
      const std::string version =
          test::RawPostgres(*server.connection).value("SHOW server_version");
      benchmark::AddCustomContext("postgresql", version);
      // What "durable" rests on besides synchronous_commit, which each connection sets.
      benchmark::AddCustomContext("postgresql_fsync",
                                  test::RawPostgres(*server.connection).value("SHOW fsync"));
      std::cout << "bench-event-stores: PostgreSQL " << version << " at "
                << redact_store_spec(*server.connection) << std::endl;
      register_for(Backend::postgres);
    } catch (const std::exception& e) {
      std::cerr << "bench-event-stores: PostgreSQL not measured: " << e.what() << "\n";
      benchmark::AddCustomContext("postgresql", std::string("not measured: ") + e.what());
    }
  } else {
    std::cout << "bench-event-stores: PostgreSQL not measured: " << server.why_not
              << "; SQLite alone" << std::endl;
    benchmark::AddCustomContext("postgresql", "not measured: " + server.why_not);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
