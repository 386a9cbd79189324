// bench-notification: event notification against its synchronous baseline, same run, same
// codec, tcp loopback, for 1, 2, 4 and 8 consumers.
//
// Three costs per order, reported apart because they answer different questions:
//   (a) acceptance: what the customer waits for, place() alone;
//   (b) sustained: the producer's own time per order with every fetch-back it serves counted,
//       over a window in which the consumers keep up;
//   (c) end to end: orders/s once every consumer has handled every order.
// In the pattern (a) is far below (b): the fetch-backs come later, when the consumers get to the
// order. In the baseline the three are one figure, because place() returns only when every
// downstream service has answered.
//
// BM_Notification_Event/N: the Order service places a fixed number of orders (3000, or
//   EDA_BENCH_ORDERS) as fast as it accepts them, and the consumers fall behind.
//   - real_time, items_per_second: the timed loop, per order. One iteration = place() (store,
//     publish the thin event, keep it in the replay buffer) and then serve the fetch-back calls
//     that have already arrived. Most fetch-backs arrive later and are served after the loop,
//     outside this time: it is the rate at which orders are ACCEPTED while the consumers fall
//     behind, not the producer's whole cost per order.
//   - accept_us_per_order (mean), accept_p50_us, accept_p99_us: (a), place() alone.
//   - sustained_us_per_order: (b), the producer thread's CPU time from the first order until
//     every consumer has handled every order, divided by the orders: place() and every
//     fetch-back and replay it served, those served after the timed loop included. The window
//     closes only when every consumer has caught up, so over the window as a whole the
//     consumers keep up with the producer; and no fetch-back is served outside it, since a
//     consumer moves past an order only once the producer has answered its fetch-back. CPU
//     time rather than wall time: while the producer waits in its poll for the next request it
//     could take an order, so that wait is no cost, and neither is waiting for a core of a
//     machine it shares with the consumers. After the loop it waits for requests with a long
//     poll (not 1 ms ticks) until it has served one fetch-back per order and consumer, so idle
//     wake-ups add next to nothing.
//   - e2e_orders_per_s: (c), orders / time from the first order until every consumer has
//     handled every order.
//   - fetch_backs_per_order; outbox_kib: the replay buffer's size at the end (class Outbox).
// BM_Notification_Sync/N: one iteration = the baseline's place(), which calls the N downstream
//   services one after the other and returns when all have answered. Its acceptance is its whole
//   cost: accept_us_per_order is real_time (give or take the loop), sustained_us_per_order is
//   the time from the first order to the last answer per order (the producer's thread is held
//   for every call: it cannot take the next order sooner), and e2e_orders_per_s is
//   items_per_second. Its cpu_time is that thread's CPU per order (it waits for the answers
//   without using the CPU): the figure to set beside the pattern's sustained_us_per_order when
//   comparing the CPU the two producers spend.
// Both: the `/slow:1` variants make one consumer take 1 ms per order.
// BM_Notification_EventCurve/N/curve:0|1: BM_Notification_Event with CURVE + ZAP off, then on
//   for every socket (the Order service's publisher and API, the consumers' subscribers, RPC
//   clients and follow-up publishers). Each curve:1 run reports its ratios to the latest curve:0
//   run with the same consumer count in this same process run: `time_vs_plaintext` (the timed
//   loop's time per order, on / off) and `e2e_vs_plaintext` (end-to-end orders/s, on / off).
//   Use --benchmark_repetitions with --benchmark_enable_random_interleaving=true so that the
//   machine's mood does not favour one side.
#include <benchmark/benchmark.h>

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "eda/clock.hpp"
#include "eda/latency.hpp"
#include "eda/notification/baseline.hpp"
#include "eda/notification/consumer.hpp"
#include "eda/notification/order_service.hpp"
#include "eda/security.hpp"
#include "latency_counters.hpp"

namespace {

using namespace std::chrono_literals;
using namespace eda::notification;

std::string role_of(std::size_t i) {
  return std::string(downstream_roles[i % 3]) + "-" + std::to_string(i);
}

/// CPU time this thread has used, in nanoseconds (only differences are meaningful).
std::int64_t thread_cpu_ns() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

/// The acceptance counters (a) and the items of both designs.
void report_latency(benchmark::State& state, const eda::LatencyRecorder& accept) {
  eda::bench::set_latency_counters(state, accept, "accept_");
  state.counters["accept_us_per_order"] = accept.summary().mean_ns / 1e3;
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

/// What a plaintext BM_Notification_EventCurve run measured, for the CURVE run to compare with.
struct PlaintextRun {
  double ns_per_order = 0;
  double e2e_orders_per_s = 0;
};
std::map<std::size_t, PlaintextRun> plaintext_runs;  // by consumer count (slow:0 only)

/// CURVE + ZAP for the sockets of `context` that are given it: fresh server and client key
/// pairs, the client allow-listed.
eda::CurveSetup curve_everywhere(zmq::context_t& context) {
  const eda::KeyPair server = eda::KeyPair::generate();
  const eda::KeyPair client = eda::KeyPair::generate();
  eda::AllowList allowed;
  allowed.allow(client.public_key);
  return eda::CurveSetup(context, {.server_keys = server,
                                   .allowed_clients = std::move(allowed),
                                   .client_keys = client,
                                   .server_public_key = server.public_key});
}

/// One run of the event-notification workload; `compare` keeps plaintext results and reports
/// the CURVE runs' ratios to them.
void run_event(benchmark::State& state, std::size_t consumers, bool slow, bool curve,
               bool compare) {
  zmq::context_t context;
  const eda::CurveSetup security = curve ? curve_everywhere(context) : eda::CurveSetup();
  OrderService service(context, {.security = security.server()});
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> slowest{0};
  std::vector<std::atomic<std::uint64_t>> progress(consumers);
  std::atomic<std::size_t> started{0};
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < consumers; ++i) {
    threads.emplace_back([&, i] {
      Consumer consumer(context,
                        {.name = role_of(i),
                         .events_endpoint = service.events_endpoint(),
                         .api_endpoint = service.api_endpoint(),
                         .work_time = slow && i == 0 ? std::chrono::microseconds(1000) : 0us,
                         .rpc_timeout = 10s,
                         .security = security.both()},
                        reaction_for(role_of(i)));
      if (consumer.start(30s)) ++started;
      while (!stop.load()) {
        (void)consumer.poll(2ms);
        progress[i] = consumer.last_processed();
      }
    });
  }
  // The service must answer handshakes and the consumers' first Replay while they start.
  const eda::Deadline ready(30s);
  while (service.publisher().subscriber_count() < consumers && !ready.expired()) {
    (void)service.serve_once(1ms);
  }
  while (started.load() < consumers && !ready.expired()) (void)service.serve_once(1ms);

  eda::LatencyRecorder accept;
  std::uint64_t n = 0;
  const std::int64_t first = eda::monotonic_ns();
  const std::int64_t first_cpu = thread_cpu_ns();
  for (auto _ : state) {
    const std::int64_t start = eda::monotonic_ns();
    benchmark::DoNotOptimize(service.place(sample_order(++n)));
    accept.record(eda::monotonic_ns() - start);
    while (service.serve_once(0ms)) {  // the fetch-backs that have arrived meanwhile
    }
  }
  const double loop_ns_per_order =
      n ? static_cast<double>(eda::monotonic_ns() - first) / static_cast<double>(n) : 0.0;
  // After the timed loop: serve until every consumer has handled every order. Until every
  // fetch-back has come (one per order and consumer), the producer only waits for requests, so
  // it polls long; then it polls in 1 ms ticks for the consumers' last steps (no request tells
  // it when they are done).
  const eda::Deadline drain(60s);
  const auto all_done = [&] {
    for (auto& p : progress)
      if (p.load() < n) return false;
    return true;
  };
  const std::uint64_t fetch_backs_due = n * consumers;
  while (service.stats().fetch_backs < fetch_backs_due && !all_done() && !drain.expired()) {
    (void)service.serve_once(50ms);
  }
  while (!all_done() && !drain.expired()) (void)service.serve_once(1ms);
  const double seconds = static_cast<double>(eda::monotonic_ns() - first) / 1e9;
  const double sustained_cpu_ns = static_cast<double>(thread_cpu_ns() - first_cpu);
  stop = true;
  for (auto& t : threads) t.join();

  report_latency(state, accept);
  state.counters["e2e_orders_per_s"] = all_done() ? static_cast<double>(n) / seconds : 0.0;
  state.counters["sustained_us_per_order"] =
      n && all_done() ? sustained_cpu_ns / static_cast<double>(n) / 1e3 : 0.0;
  state.counters["fetch_backs_per_order"] =
      n ? static_cast<double>(service.stats().fetch_backs) / static_cast<double>(n) : 0.0;
  state.counters["outbox_kib"] = static_cast<double>(service.outbox().bytes()) / 1024.0;
  if (!all_done()) state.SkipWithError("consumers did not finish within 60 s");
  (void)slowest;
  if (slow || !compare) return;
  if (!curve) {
    plaintext_runs[consumers] = {loop_ns_per_order, state.counters["e2e_orders_per_s"]};
  } else if (const auto plain = plaintext_runs.find(consumers); plain != plaintext_runs.end()) {
    if (plain->second.ns_per_order > 0) {
      state.counters["time_vs_plaintext"] = loop_ns_per_order / plain->second.ns_per_order;
    }
    if (plain->second.e2e_orders_per_s > 0) {
      state.counters["e2e_vs_plaintext"] =
          state.counters["e2e_orders_per_s"] / plain->second.e2e_orders_per_s;
    }
  }
}

void BM_Notification_Event(benchmark::State& state) {
  run_event(state, static_cast<std::size_t>(state.range(0)), state.range(1) != 0, false, false);
}

void BM_Notification_EventCurve(benchmark::State& state) {
  run_event(state, static_cast<std::size_t>(state.range(0)), false, state.range(1) != 0, true);
}

void BM_Notification_Sync(benchmark::State& state) {
  const auto consumers = static_cast<std::size_t>(state.range(0));
  const bool slow = state.range(1) != 0;
  zmq::context_t context;
  std::vector<std::unique_ptr<baseline::DownstreamService>> services;
  std::vector<baseline::Downstream> targets;
  for (std::size_t i = 0; i < consumers; ++i) {
    services.push_back(std::make_unique<baseline::DownstreamService>(
        context, baseline::DownstreamOptions{
                     .role = role_of(i),
                     .work_time = slow && i == 0 ? std::chrono::microseconds(1000) : 0us}));
    targets.push_back({role_of(i), services.back()->endpoint()});
  }
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  threads.reserve(services.size());
  for (auto& s : services) {
    threads.emplace_back(
        [&, svc = s.get()] { svc->serve_while([&] { return !stop.load(); }, 5ms); });
  }
  baseline::SyncOrderService orders(context, {.downstream = targets, .call_timeout = 10s});

  eda::LatencyRecorder accept;
  std::uint64_t n = 0;
  const std::int64_t first = eda::monotonic_ns();
  for (auto _ : state) {
    const std::int64_t start = eda::monotonic_ns();
    benchmark::DoNotOptimize(orders.place(sample_order(++n)));
    accept.record(eda::monotonic_ns() - start);
  }
  const double seconds = static_cast<double>(eda::monotonic_ns() - first) / 1e9;
  stop = true;
  for (auto& t : threads) t.join();
  report_latency(state, accept);
  // Synchronous: when place() returns, every downstream service has handled the order, so the
  // producer's whole time per order is its acceptance time.
  state.counters["sustained_us_per_order"] = seconds * 1e6 / static_cast<double>(n);
  state.counters["e2e_orders_per_s"] = static_cast<double>(n) / seconds;
  state.counters["fetch_backs_per_order"] = 0;
}

/// Resident memory of this process in KiB (from /proc/self/statm), 0 where unavailable.
double resident_kib() {
  std::FILE* statm = std::fopen("/proc/self/statm", "r");
  if (statm == nullptr) return 0;
  long pages = 0;
  long resident = 0;
  const int read = std::fscanf(statm, "%ld %ld", &pages, &resident);
  std::fclose(statm);
  return read == 2
             ? static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / 1024.0
             : 0;
}

// The replay buffer (class Outbox) is bounded: with a consumer down, N orders cost it no more
// than its capacity, however large N is. One iteration places N orders; `outbox_kib` is what it
// holds at the end, `rss_growth_kib_per_1k_orders` is the growth of the process's resident memory
// (mostly the Order service's own order table, which grows with orders in either design) per
// thousand orders.
void BM_Notification_OutboxWithConsumerDown(benchmark::State& state) {
  // The smoke run (EDA_BENCH_ORDERS set) caps the order count: it checks the code, not the curve.
  const std::uint64_t cap = std::getenv("EDA_BENCH_ORDERS") != nullptr ? 20'000 : UINT64_MAX;
  const auto orders = std::min(static_cast<std::uint64_t>(state.range(0)), cap);
  for (auto _ : state) {
    // Only placing the orders is timed: starting the service, the handshake and the teardown
    // are not (they would weigh most in the smallest run).
    state.PauseTiming();
    auto context = std::make_unique<zmq::context_t>();
    auto service =
        std::make_unique<OrderService>(*context, OrderServiceOptions{.outbox_capacity = 10'000});
    {
      // Billing subscribes (the handshake completes), then goes down.
      eda::Subscriber billing(*context, {.endpoints = {service->events_endpoint()}});
      const eda::Deadline deadline(10s);
      while (!billing.handshake_complete() && !deadline.expired()) {
        (void)service->serve_once(1ms);
        (void)billing.await_handshake(1ms);
      }
    }
    const double before = resident_kib();
    state.ResumeTiming();
    for (std::uint64_t n = 1; n <= orders; ++n) {
      benchmark::DoNotOptimize(service->place(sample_order(n)));
    }
    state.PauseTiming();
    state.counters["outbox_kib"] = static_cast<double>(service->outbox().bytes()) / 1024.0;
    state.counters["outbox_events"] = static_cast<double>(service->outbox().size());
    state.counters["rss_growth_kib_per_1k_orders"] =
        (resident_kib() - before) / (static_cast<double>(orders) / 1000.0);
    service.reset();  // before its context
    context.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(orders));
}

/// Orders per pattern run: EDA_BENCH_ORDERS, or 3000 (the CTest smoke run sets 200).
benchmark::IterationCount orders_per_run() {
  const char* text = std::getenv("EDA_BENCH_ORDERS");
  const long value = text != nullptr ? std::strtol(text, nullptr, 10) : 0;
  return value > 0 ? value : 3000;
}

void consumer_counts(benchmark::internal::Benchmark* b) {
  b->ArgNames({"consumers", "slow"});
  for (const int n : {1, 2, 4, 8}) b->Args({n, 0});
  b->Args({4, 1});
  b->UseRealTime()->Unit(benchmark::kMicrosecond);
}

}  // namespace

// A fixed number of orders per run: the producer accepts them far faster than the consumers
// handle them, and the run ends only when every consumer has caught up (e2e_orders_per_s,
// sustained_us_per_order), so a time-based iteration count would make the drain, not the
// measurement, take minutes. `--benchmark_min_time` therefore does not shorten these;
// EDA_BENCH_ORDERS does.
BENCHMARK(BM_Notification_Event)->Apply(consumer_counts)->Iterations(orders_per_run());
BENCHMARK(BM_Notification_Sync)->Apply(consumer_counts);
// Plaintext first for each consumer count, so that the CURVE run can report its cost relative to it.
BENCHMARK(BM_Notification_EventCurve)
    ->ArgNames({"consumers", "curve"})
    ->Args({1, 0})
    ->Args({1, 1})
    ->Args({4, 0})
    ->Args({4, 1})
    ->Iterations(orders_per_run())
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Notification_OutboxWithConsumerDown)
    ->ArgName("orders")
    ->Arg(10'000)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
