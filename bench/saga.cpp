/// @file saga.cpp
/// @brief bench-saga: the checkout saga against the synchronous checkout, the outbox relay's
///        lag, the dual write's losses under a kill loop, and the fault matrix at full scale
///        (the orchestrator crashed in-process, and the shop's process killed for real).
///
/// - BM_Saga_Checkout/decline_pct:D/slow_ms:S/down_ms:W beside BM_Sync_Checkout/...: one
///   iteration = EDA_BENCH_SAGA_CHECKOUTS checkouts (default 2 000; 500 for the slow and down
///   rows) of one unit each, D% of them with a declined card (seeded, the same orders in both
///   designs). The saga: the orchestrator (its state in a SQLite event store) on the benchmark
///   thread keeping EDA_BENCH_SAGA_WINDOW checkouts in flight (default 32), each participant
///   behind its own sockets on a thread of its own, everything over tcp loopback. The baseline:
///   the Order service calls the three participants over RPC, one checkout after the other.
///   Every database `synchronous=NORMAL` (a process crash loses nothing; a power cut may lose
///   the last commits), the same in both. S: Shipping's carrier takes S ms per booking. W:
///   Shipping stops taking messages for W ms after a fifth of the bookings. Counters:
///   `checkouts_per_second`; `p50_us`/`p99_us`: completion, from the customer's request to
///   the saga's end (completed or rolled back) or the synchronous call's return; `rolled_back`.
/// - BM_Outbox_RelayLag/writes_per_second:R: Inventory reserves stock at R writes/s for
///   EDA_BENCH_SAGA_LAG_MS (default 5 000), each reservation and its event one transaction with
///   `synchronous=FULL` (an fsync per commit); its relay (woken by the doorbell) publishes over
///   tcp loopback to a subscriber here. `lag_p50_us`, `lag_p99_us`, `lag_max_us`: from the
///   commit's end to the event's arrival at the subscriber; `events_per_second` received;
///   `writes_per_second` achieved; `commit_p50_us`/`commit_p99_us` per transaction; how the
///   relay woke: `doorbells`, and `rows_found_by_poll` (rows no doorbell announced).
/// - BM_Outbox_KillLoop beside BM_DualWrite_KillLoop: Inventory as a process of its own
///   (saga-demo --role writer), reserving stock as fast as it can, killed by SIGKILL at a random
///   moment (1 to 20 ms after its first event arrives here) EDA_BENCH_SAGA_KILLS times (default
///   100) and restarted each time; a last run ends cleanly. `lost`: orders committed in its
///   database whose event never arrived; `committed`, `kills`.
/// - BM_Saga_FaultMatrix/sagas:N: the fault matrix of saga/rig/fault_matrix.hpp (orchestrator
///   crashes 5%, duplicate replies 10%, timeouts 5%, declined cards 10%, failing refunds) at
///   N = EDA_BENCH_SAGA_MATRIX sagas (default 10 000). `violations` of the books, `stuck` sagas
///   (both must be 0, or the benchmark reports an error), and what was injected. The
///   orchestrator crashes in-process: thrown away with everything in flight, rebuilt from its
///   store.
/// - BM_Saga_FaultMatrixKilled/sagas:N: the same faults, with the crash a real SIGKILL: the shop
///   (orchestrator, participants, in-memory bus) runs in a process of its own, saga-matrix-shop,
///   killed at a random moment (0 to 2 ms) after 5% of the checkouts it starts and started
///   again, resuming from its event store (saga/rig/killed_matrix.hpp); N =
///   EDA_BENCH_SAGA_KILLED_MATRIX (default 10 000). `crashes` counts the SIGKILLs.
#include <signal.h>

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <stop_token>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "eda/child_process.hpp"
#include "eda/clock.hpp"
#include "eda/latency.hpp"
#include "eda/pubsub.hpp"
#include "eda/saga/baseline/sync_checkout.hpp"
#include "eda/saga/checkout_messages.hpp"
#include "eda/saga/checkout_transport.hpp"
#include "eda/saga/inventory.hpp"
#include "eda/saga/outbox_relay.hpp"
#include "eda/saga/payment.hpp"
#include "eda/saga/shipping.hpp"
#include "eda/saga/stock_events.hpp"
#include "eda/sourcing/sqlite_store.hpp"
#include "environment.hpp"
#include "fault_matrix.hpp"
#include "killed_matrix.hpp"
#include "latency_counters.hpp"

namespace {

using namespace std::chrono_literals;
using namespace eda::saga;
using eda::bench::env_count;
using eda::bench::set_latency_counters;

constexpr auto normal = eda::sqlite::Durability::normal;

/// A fresh folder in the temp directory, removed afterwards (the test rig's), with a file name
/// maker.
class Scratch : public test::TempDirectory {
 public:
  [[nodiscard]] std::string file(const std::string& name) const { return path() + "/" + name; }
};

/// One row's workload, the same for both designs.
struct Workload {
  std::uint64_t checkouts = 0;
  int decline_pct = 0;
  int slow_ms = 0;  ///< Shipping's time per booking.
  int down_ms = 0;  ///< Shipping's outage, after a fifth of the bookings.

  static Workload of(const benchmark::State& state) {
    Workload w{.checkouts = env_count("EDA_BENCH_SAGA_CHECKOUTS", 2000),
               .decline_pct = static_cast<int>(state.range(0)),
               .slow_ms = static_cast<int>(state.range(1)),
               .down_ms = static_cast<int>(state.range(2))};
    if (w.slow_ms > 0 || w.down_ms > 0) w.checkouts = std::min<std::uint64_t>(w.checkouts, 500);
    return w;
  }

  /// The checkouts, with the declined cards drawn from a fixed seed.
  [[nodiscard]] std::vector<CheckoutRequest> requests() const {
    std::mt19937 random(26);
    std::uniform_int_distribution<int> percent(0, 99);
    std::vector<CheckoutRequest> all;
    for (std::uint64_t n = 1; n <= checkouts; ++n) {
      CheckoutRequest r{.order_id = n,
                        .sku = "SKU-1",
                        .quantity = 1,
                        .amount_cents = 1000,
                        .card = "4242-4242-4242-4242",
                        .address = "1 High St"};
      if (percent(random) < decline_pct) r.card = std::string(declined_card);
      all.push_back(r);
    }
    return all;
  }

  /// Shipping's carrier: `slow_ms` per booking (a remote carrier's API), accepting all.
  [[nodiscard]] ShippingOptions shipping() const {
    ShippingOptions options{.durability = normal};
    if (slow_ms > 0) {
      options.carrier = [ms = slow_ms](const BookParcel&) -> std::optional<std::string> {
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        return std::nullopt;
      };
    }
    return options;
  }

  /// Shipping's outage: after this many bookings it stops for `down_ms` (never: 0).
  [[nodiscard]] std::uint64_t outage_after() const { return down_ms > 0 ? checkouts / 5 : 0; }
};

/// The three participants in their own databases, stocked.
struct Participants {
  Participants(const Scratch& dir, const Workload& w)
      : inventory(dir.file("inventory.db"), {.durability = normal}),
        payment(dir.file("payment.db"), {.durability = normal}),
        shipping(dir.file("shipping.db"), w.shipping()) {
    inventory.stock_up("SKU-1", w.checkouts);
  }
  Inventory inventory;
  Payment payment;
  Shipping shipping;
};

/// Runs `serve_once` on a thread of its own until stopped; the Shipping thread goes down for
/// the workload's outage once it has served `outage_after` commands.
class ServiceThread {
 public:
  ServiceThread(std::function<std::size_t()> serve_once, std::uint64_t outage_after,
                std::chrono::milliseconds outage)
      : thread_([=](const std::stop_token& stop) {
          std::uint64_t served = 0;
          bool went_down = false;
          while (!stop.stop_requested()) {
            served += serve_once();
            if (!went_down && outage_after > 0 && served >= outage_after) {
              went_down = true;
              std::this_thread::sleep_for(outage);  // the outage itself: nothing is served
            }
          }
        }) {}

 private:
  std::jthread thread_;
};

void report_checkouts(benchmark::State& state, const eda::LatencyRecorder& latency,
                      std::uint64_t checkouts, std::int64_t elapsed_ns, std::uint64_t rolled_back) {
  state.counters["checkouts_per_second"] =
      static_cast<double>(checkouts) / (static_cast<double>(elapsed_ns) / 1e9);
  state.counters["rolled_back"] = static_cast<double>(rolled_back);
  set_latency_counters(state, latency);
}

void BM_Saga_Checkout(benchmark::State& state) {
  const Workload w = Workload::of(state);
  const std::size_t window = env_count("EDA_BENCH_SAGA_WINDOW", 32);
  for (auto _ : state) {
    Scratch dir;
    Participants shop(dir, w);
    zmq::context_t context;
    eda::sourcing::SqliteEventStore store({.path = dir.file("orders.db"), .durability = normal});
    OrchestratorHost orders(
        context, store,
        {.command_endpoints = {"tcp://127.0.0.1:*"}, .orchestrator = {.step_timeout = 10s}});
    const auto wiring = [&](const std::string& name, std::string_view topic) {
      return ParticipantHostOptions{.name = name,
                                    .command_topic = std::string(topic),
                                    .command_endpoints = orders.command_endpoints(),
                                    .reply_endpoints = {"tcp://127.0.0.1:*"}};
    };
    ParticipantHost inventory(
        context, shop.inventory.path(),
        [&](const eda::DecodedEvent& c) { return shop.inventory.handle(c); },
        wiring("inventory", inventory_commands));
    ParticipantHost payment(
        context, shop.payment.path(),
        [&](const eda::DecodedEvent& c) { return shop.payment.handle(c); },
        wiring("payment", payment_commands));
    ParticipantHost shipping(
        context, shop.shipping.path(),
        [&](const eda::DecodedEvent& c) { return shop.shipping.handle(c); },
        wiring("shipping", shipping_commands));
    orders.listen({inventory.reply_endpoints().front(), payment.reply_endpoints().front(),
                   shipping.reply_endpoints().front()});
    std::vector<ServiceThread> threads;
    threads.reserve(3);
    threads.emplace_back([&] { return inventory.poll(1ms); }, 0, 0ms);
    threads.emplace_back([&] { return payment.poll(1ms); }, 0, 0ms);
    threads.emplace_back([&] { return shipping.poll(1ms); }, w.outage_after(),
                         std::chrono::milliseconds(w.down_ms));
    const eda::Deadline connecting(30s);
    while (!(orders.ready() && orders.participants_subscribed() == 3)) {
      if (connecting.expired()) {
        state.SkipWithError("the participants did not connect within 30 s");
        return;
      }
      (void)orders.poll(1ms);
    }

    const std::vector<CheckoutRequest> requests = w.requests();
    std::map<std::uint64_t, std::int64_t> started;  // in flight: order -> start time
    eda::LatencyRecorder latency;
    std::size_t next = 0;
    const std::int64_t begin = eda::monotonic_ns();
    const eda::Deadline deadline(600s);
    while ((next < requests.size() || !started.empty()) && !deadline.expired()) {
      while (next < requests.size() && started.size() < window) {
        started[requests[next].order_id] = eda::monotonic_ns();
        orders.orchestrator().start(requests[next++]);
      }
      (void)orders.poll(1ms);
      if (orders.orchestrator().running_count() == started.size()) continue;
      const std::vector<std::uint64_t> running = orders.orchestrator().running();
      const std::set<std::uint64_t> still(running.begin(), running.end());
      for (auto it = started.begin(); it != started.end();) {
        if (still.contains(it->first)) {
          ++it;
          continue;
        }
        latency.record(eda::monotonic_ns() - it->second);
        it = started.erase(it);
      }
    }
    const std::int64_t elapsed = eda::monotonic_ns() - begin;
    threads.clear();
    if (!started.empty()) {
      state.SkipWithError("sagas did not end within 600 s");
      return;
    }
    report_checkouts(state, latency, requests.size(), elapsed,
                     orders.orchestrator().counters().rolled_back);
  }
}

void BM_Sync_Checkout(benchmark::State& state) {
  const Workload w = Workload::of(state);
  for (auto _ : state) {
    Scratch dir;
    Participants shop(dir, w);
    zmq::context_t context;
    baseline::SyncParticipant inventory(
        context, {"tcp://127.0.0.1:*"},
        [&](const eda::DecodedEvent& c) { return shop.inventory.handle(c); },
        shop.inventory.outbox());
    baseline::SyncParticipant payment(
        context, {"tcp://127.0.0.1:*"},
        [&](const eda::DecodedEvent& c) { return shop.payment.handle(c); }, shop.payment.outbox());
    baseline::SyncParticipant shipping(
        context, {"tcp://127.0.0.1:*"},
        [&](const eda::DecodedEvent& c) { return shop.shipping.handle(c); },
        shop.shipping.outbox());
    std::vector<ServiceThread> threads;
    threads.reserve(3);
    threads.emplace_back([&] { return inventory.serve_once(1ms) ? 1U : 0U; }, 0, 0ms);
    threads.emplace_back([&] { return payment.serve_once(1ms) ? 1U : 0U; }, 0, 0ms);
    threads.emplace_back([&] { return shipping.serve_once(1ms) ? 1U : 0U; }, w.outage_after(),
                         std::chrono::milliseconds(w.down_ms));
    // A call waits longer than the outage, as the saga's step timeout does.
    baseline::SyncCheckout orders(context, {.inventory = inventory.endpoints().front(),
                                            .payment = payment.endpoints().front(),
                                            .shipping = shipping.endpoints().front(),
                                            .timeout = 10s,
                                            .attempts = 1});
    eda::LatencyRecorder latency;
    std::uint64_t rolled_back = 0;
    const std::vector<CheckoutRequest> requests = w.requests();
    const std::int64_t begin = eda::monotonic_ns();
    for (const CheckoutRequest& request : requests) {
      const std::int64_t start = eda::monotonic_ns();
      if (!orders.checkout(request).completed) ++rolled_back;
      latency.record(eda::monotonic_ns() - start);
    }
    const std::int64_t elapsed = eda::monotonic_ns() - begin;
    threads.clear();
    report_checkouts(state, latency, requests.size(), elapsed, rolled_back);
  }
}

void checkout_rows(benchmark::internal::Benchmark* b) {
  b->ArgNames({"decline_pct", "slow_ms", "down_ms"})
      ->Args({0, 0, 0})
      ->Args({1, 0, 0})
      ->Args({10, 0, 0})
      ->Args({0, 10, 0})
      ->Args({0, 0, 1000})
      ->Iterations(1)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
}
BENCHMARK(BM_Saga_Checkout)->Apply(checkout_rows);
BENCHMARK(BM_Sync_Checkout)->Apply(checkout_rows);

void BM_Outbox_RelayLag(benchmark::State& state) {
  const auto rate = static_cast<std::uint64_t>(state.range(0));
  const std::uint64_t duration_ms = env_count("EDA_BENCH_SAGA_LAG_MS", 5000);
  const auto duration = std::chrono::milliseconds(duration_ms);
  const std::uint64_t writes = std::max<std::uint64_t>(1, rate * duration_ms / 1000);
  for (auto _ : state) {
    Scratch dir;
    const std::string path = dir.file("inventory.db");
    {
      Inventory stocked(path);  // the tables exist before the relay opens the file
      stocked.stock_up("SKU-1", writes);
    }
    zmq::context_t context;
    eda::Publisher publisher(context, {.source = "inventory", .endpoints = {"tcp://127.0.0.1:*"}});
    eda::Subscriber inbox(context, {.endpoints = publisher.endpoints()});
    const eda::Deadline connecting(10s);
    while (!(inbox.handshake_complete() && publisher.subscriber_count() == 1)) {
      if (connecting.expired()) {
        state.SkipWithError("no handshake within 10 s");
        return;
      }
      (void)publisher.serve(1ms);
      (void)inbox.receive(1ms);
    }
    OutboxRelay relay(context, path, publisher);
    // Commit end times (wall clock, as the arrival is taken on another thread), by order id.
    std::vector<std::atomic<std::int64_t>> committed_at(writes + 1);
    eda::LatencyRecorder commit_latency;  // written by the writer thread only, read after join
    std::int64_t writing_ns = 0;          // likewise
    std::jthread relaying([&](const std::stop_token& stop) { relay.run(stop); });
    std::jthread writer([&] {
      OutboxDoorbell doorbell(context, relay.doorbell_endpoint());
      Inventory inventory(path, {.durability = eda::sqlite::Durability::full,
                                 .committed = [&](const Reservation& r) {
                                   committed_at[r.order_id].store(eda::wall_clock_ns());
                                   doorbell.ring();
                                 }});
      const auto period = std::chrono::nanoseconds(1'000'000'000 / rate);
      auto due = std::chrono::steady_clock::now();
      const std::int64_t first = eda::monotonic_ns();
      for (std::uint64_t n = 1; n <= writes; ++n) {
        std::this_thread::sleep_until(due);  // the pace: one write per period
        due += period;
        const std::int64_t start = eda::monotonic_ns();
        (void)inventory.reserve(n, "SKU-1", 1);
        commit_latency.record(eda::monotonic_ns() - start);
      }
      writing_ns = eda::monotonic_ns() - first;
    });
    eda::LatencyRecorder lag;
    std::uint64_t received = 0;
    const std::int64_t begin = eda::monotonic_ns();
    const eda::Deadline deadline(duration + 60s);
    while (received < writes && !deadline.expired()) {
      auto delivery = inbox.receive(10ms);
      if (!delivery || !delivery->event.is<StockReserved>()) continue;
      const std::int64_t arrived = eda::wall_clock_ns();
      const auto order = delivery->event.payload_as<StockReserved>().order_id;
      if (order == 0 || order > writes) continue;
      ++received;
      // The relay may send a row before its writer's hook has noted the commit's end: no lag.
      const std::int64_t at = committed_at[order].load();
      lag.record(at == 0 ? 0 : std::max<std::int64_t>(0, arrived - at));
    }
    const std::int64_t elapsed = eda::monotonic_ns() - begin;
    writer.join();
    relaying.request_stop();
    relaying.join();
    if (received < writes) {
      state.SkipWithError("not every event arrived within the deadline");
      return;
    }
    // How the relay woke: rows it found by its fallback poll had no doorbell (a wake-up missed).
    state.counters["rows_found_by_poll"] = static_cast<double>(relay.counters().found_by_poll);
    state.counters["doorbells"] = static_cast<double>(relay.counters().doorbells);
    set_latency_counters(state, lag, "lag_");
    state.counters["lag_max_us"] = static_cast<double>(lag.summary().max_ns) / 1e3;
    set_latency_counters(state, commit_latency, "commit_");
    state.counters["events_per_second"] =
        static_cast<double>(received) / (static_cast<double>(elapsed) / 1e9);
    state.counters["writes_per_second"] =
        static_cast<double>(writes) / (static_cast<double>(writing_ns) / 1e9);
  }
}
BENCHMARK(BM_Outbox_RelayLag)
    ->ArgName("writes_per_second")
    ->Arg(2000)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

/// The kill loop of one design: the writer (saga-demo --role writer) killed at random moments.
void kill_loop(benchmark::State& state, const std::string& mode) {
  const std::uint64_t kills = env_count("EDA_BENCH_SAGA_KILLS", 100);
  for (auto _ : state) {
    Scratch dir;
    const std::string endpoint = "ipc://" + dir.file("inventory.sock");
    zmq::context_t context;
    eda::Subscriber inbox(context, {.endpoints = {endpoint}, .drop_duplicates = false});
    std::set<std::uint64_t> heard;
    std::mt19937 random(26);
    std::uniform_int_distribution<int> delay_ms(1, 20);
    std::uint64_t killed = 0;
    const auto run = [&](std::uint64_t orders, bool kill) {
      eda::ChildProcess writer(eda::ChildSpec{
          .argv = {EDA_SAGA_DEMO, "--role", "writer", "--writer", mode, "--dir", dir.file(""),
                   "--inventory", endpoint, "--count", std::to_string(orders), "-q"},
          .output = eda::ChildOutput::discard,
          .grace = 1000ms});
      std::optional<eda::Deadline> kill_at;
      const eda::Deadline deadline(60s);
      while (!deadline.expired()) {
        if (auto delivery = inbox.receive(1ms); delivery && delivery->event.is<StockReserved>()) {
          heard.insert(delivery->event.payload_as<StockReserved>().order_id);
          if (kill && !kill_at) kill_at.emplace(std::chrono::milliseconds(delay_ms(random)));
        }
        if (kill_at && kill_at->expired()) {
          writer.signal(SIGKILL);
          if (writer.wait(10s).signal == SIGKILL) ++killed;
          return true;
        }
        if (writer.wait_for(0ms)) return !kill;
      }
      return false;
    };
    bool ok = true;
    for (std::uint64_t k = 0; k < kills && ok; ++k) ok = run(100'000, true);
    ok = ok && run(1, false);  // the last run ends cleanly (the outbox's relay drains)
    const eda::Deadline settle(2s);
    while (!settle.expired()) {
      if (auto delivery = inbox.receive(10ms); delivery && delivery->event.is<StockReserved>()) {
        heard.insert(delivery->event.payload_as<StockReserved>().order_id);
      }
    }
    if (!ok) {
      state.SkipWithError("a writer did not start, write or end in time");
      return;
    }
    const Inventory books(dir.file("inventory.db"));
    std::uint64_t committed = 0;
    std::uint64_t lost = 0;
    for (const Reservation& r : books.ledger().reservations()) {
      ++committed;
      if (!heard.contains(r.order_id)) ++lost;
    }
    state.counters["kills"] = static_cast<double>(killed);
    state.counters["committed"] = static_cast<double>(committed);
    state.counters["lost"] = static_cast<double>(lost);
  }
}

void BM_Outbox_KillLoop(benchmark::State& state) { kill_loop(state, "outbox"); }
void BM_DualWrite_KillLoop(benchmark::State& state) { kill_loop(state, "dual-write"); }
BENCHMARK(BM_Outbox_KillLoop)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_DualWrite_KillLoop)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

/// The counters of a run of the fault matrix, and an error when the books do not balance.
void report_fault_matrix(benchmark::State& state, std::uint64_t sagas,
                         const test::FaultMatrixResult& result) {
  state.counters["sagas"] = static_cast<double>(sagas);
  state.counters["violations"] = static_cast<double>(result.violations.size());
  state.counters["stuck"] = static_cast<double>(result.running);
  state.counters["completed"] =
      static_cast<double>(result.ends.count("completed") > 0 ? result.ends.at("completed") : 0);
  state.counters["rolled_back"] =
      static_cast<double>(result.ends.count("rolled-back") > 0 ? result.ends.at("rolled-back") : 0);
  state.counters["crashes"] = static_cast<double>(result.crashes);
  state.counters["resumed"] = static_cast<double>(result.resumed);
  state.counters["duplicates"] = static_cast<double>(result.duplicates);
  state.counters["timeouts"] = static_cast<double>(result.timeouts);
  state.counters["declined"] = static_cast<double>(result.declined);
  state.counters["refunds_refused"] = static_cast<double>(result.refusals);
  if (!result.violations.empty() || result.running > 0) {
    state.SkipWithError(
        ("the books do not balance: " +
         (result.violations.empty() ? std::string("sagas stuck") : result.violations.front()))
            .c_str());
  }
}

void BM_Saga_FaultMatrix(benchmark::State& state) {
  const std::uint64_t sagas = env_count("EDA_BENCH_SAGA_MATRIX", 10'000);
  state.SetLabel("sagas:" + std::to_string(sagas));
  for (auto _ : state) {
    Scratch dir;
    report_fault_matrix(state, sagas,
                        test::run_fault_matrix(sagas, 26, test::RigPaths::in(dir.file(""))));
  }
}
BENCHMARK(BM_Saga_FaultMatrix)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Saga_FaultMatrixKilled(benchmark::State& state) {
  const std::uint64_t sagas = env_count("EDA_BENCH_SAGA_KILLED_MATRIX", 10'000);
  state.SetLabel("sagas:" + std::to_string(sagas));
  for (auto _ : state) {
    Scratch dir;
    try {
      report_fault_matrix(
          state, sagas, test::run_killed_fault_matrix(sagas, 26, dir.path(), EDA_SAGA_MATRIX_SHOP));
    } catch (const std::runtime_error& e) {
      state.SkipWithError(e.what());
    }
  }
}
BENCHMARK(BM_Saga_FaultMatrixKilled)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
