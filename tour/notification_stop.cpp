// The event-notification stop: the Order service publishes a thin OrderPlaced and answers at
// once; the baseline calls every downstream service in turn before it answers.
//
// Three figures per order, kept apart because they answer different questions (the same as
// bench/notification.cpp's accept_us_per_order, sustained_us_per_order and e2e_orders_per_s):
// what the customer waits for (place() alone); the producer's time per order once every
// fetch-back it serves is counted; and the orders/s at which every consumer has handled every
// order. In the baseline the three are one figure: place() returns after every call.

#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iterator>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "demo_programs.hpp"
#include "eda/latency.hpp"
#include "eda/notification/baseline.hpp"
#include "eda/notification/consumer.hpp"
#include "eda/notification/order_service.hpp"
#include "measure.hpp"
#include "progress.hpp"
#include "stop.hpp"

namespace eda::tour {

namespace {

using namespace std::chrono_literals;
using namespace eda::notification;

/// How big the measurements are.
struct Sizes {
  std::size_t consumers = 4;  ///< Downstream services (consumers or called services).
  std::chrono::microseconds slow_work{1000};      ///< Work per order of the one slow consumer.
  Budget orders;                                  ///< Orders per round.
  int rounds = 3;                                 ///< Rounds per design (the median is reported).
  std::chrono::milliseconds drain_limit{10'000};  ///< Until every consumer is done, at most.
  std::size_t down_orders = 5;                    ///< Orders placed while billing is down.
  std::chrono::milliseconds down_timeout{100};    ///< The baseline's wait for billing's answer.
};

Sizes sizes_for(const TourOptions& options) {
  if (options.quick) {
    return {.orders = {60, 300ms},
            .rounds = 1,
            .drain_limit = 3s,
            .down_orders = 3,
            .down_timeout = 50ms};
  }
  return {.orders = {400, 1500ms}, .rounds = 3};
}

/// @brief CPU time this thread has used, in nanoseconds (only differences are meaningful).
std::int64_t thread_cpu_ns() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

/// The i-th downstream role: `inventory-0`, `shipping-1`, `billing-2`, `inventory-3`, ...
std::string role_of(std::size_t i) {
  return std::string(downstream_roles[i % std::size(downstream_roles)]) + "-" + std::to_string(i);
}

/// Consumers of one Order service, each polling on a thread of its own.
class ConsumerThreads {
 public:
  /// @brief Starts one consumer per entry of `options`. They need the Order service to serve
  ///        their handshake and first replay: serve it until ready().
  ConsumerThreads(zmq::context_t& context, std::vector<ConsumerOptions> options)
      : progress_(options.size()), count_(options.size()) {
    for (std::size_t i = 0; i < options.size(); ++i) {
      threads_.emplace_back(
          [this, &context, i, consumer_options = std::move(options[i])](
              const std::stop_token& stop) { run(context, i, consumer_options, stop); });
    }
  }

  /// @brief Whether every consumer has started (or failed).
  [[nodiscard]] bool ready() const { return started_.load() + failed_.load() == count_; }

  /// @brief Whether every consumer has processed every event up to `sequence`.
  [[nodiscard]] bool all_reached(std::uint64_t sequence) const {
    for (const auto& processed : progress_) {
      if (processed.load() < sequence) return false;
    }
    return true;
  }

  /// @brief Throws the first consumer's error, if one failed.
  void check() const {
    const std::lock_guard lock(mutex_);
    if (!error_.empty()) throw std::runtime_error(error_);
  }

  /// @brief Stops every consumer, calling `serve()` meanwhile: a consumer in the middle of a
  ///        fetch-back needs its answer before it sees the request to stop.
  template <class Serve>
  void stop(Serve serve) {
    for (auto& thread : threads_) thread.request_stop();
    const Deadline deadline(5s);
    while (finished_.load() < count_ && !deadline.expired()) serve();
    threads_.clear();  // joins
  }

  ~ConsumerThreads() {
    for (auto& thread : threads_) thread.request_stop();
  }
  ConsumerThreads(const ConsumerThreads&) = delete;
  ConsumerThreads& operator=(const ConsumerThreads&) = delete;

 private:
  void run(zmq::context_t& context, std::size_t i, const ConsumerOptions& options,
           const std::stop_token& stop) {
    try {
      Consumer consumer(context, options, reaction_for(options.name));
      if (!consumer.start(10s))
        throw std::runtime_error("no handshake with the Order service within 10 s");
      started_.fetch_add(1);
      while (!stop.stop_requested()) {
        (void)consumer.poll(2ms);
        progress_[i].store(consumer.last_processed());
      }
    } catch (const std::exception& e) {
      const std::lock_guard lock(mutex_);
      if (error_.empty()) error_ = "consumer " + options.name + ": " + e.what();
      failed_.fetch_add(1);
    }
    finished_.fetch_add(1);
  }

  std::vector<std::atomic<std::uint64_t>> progress_;  // last sequence each has processed
  std::size_t count_;
  std::atomic<std::size_t> started_{0};
  std::atomic<std::size_t> failed_{0};
  std::atomic<std::size_t> finished_{0};
  mutable std::mutex mutex_;
  std::string error_;
  std::vector<std::jthread> threads_;  // declared last: stopped and joined first
};

/// Options of a consumer named `name` of `service`; `work` is its time per order.
ConsumerOptions consumer_of(const OrderService& service, std::string name,
                            std::chrono::microseconds work = 0us) {
  // One attempt with a short timeout: when the tour stops serving, a consumer gives up quickly.
  return {.name = std::move(name),
          .events_endpoint = service.events_endpoint(),
          .api_endpoint = service.api_endpoint(),
          .work_time = work,
          .rpc_timeout = 1s,
          .rpc_attempts = 1};
}

/// Serves `service` until `done()` or `limit`; throws `what` when `done()` never held.
template <class Done>
void serve_until(OrderService& service, Done done, std::chrono::milliseconds limit,
                 const std::string& what) {
  const Deadline deadline(limit);
  while (!done() && !deadline.expired()) (void)service.serve_once(1ms);
  if (!done()) throw std::runtime_error(what);
}

/// One round of the pattern.
struct PatternRound {
  double accept_ns = 0;  ///< Mean time of place(): what the customer waits for.
  /// Orders/s of the producer's loop (place(), then the fetch-backs that had arrived) while the
  /// consumers fell behind: most fetch-backs came after it.
  double accepted_per_s = 0;
  /// The producer thread's CPU time per order from the first order until every consumer was
  /// done: place() and every fetch-back and replay it served.
  double producer_ns = 0;
  double all_done_per_s = 0;         ///< Orders/s until every consumer had handled every order.
  double fetch_backs_per_order = 0;  ///< GetOrder calls the Order service answered, per order.
};

PatternRound pattern_round(const Sizes& sizes) {
  zmq::context_t context;
  OrderService service(context, {});
  std::vector<ConsumerOptions> options;
  for (std::size_t i = 0; i < sizes.consumers; ++i) {
    options.push_back(consumer_of(service, role_of(i), i == 0 ? sizes.slow_work : 0us));
  }
  ConsumerThreads consumers(context, std::move(options));
  serve_until(
      service, [&] { return consumers.ready(); }, 15s, "the consumers did not start within 15 s");
  consumers.check();

  std::uint64_t placed = 0;
  std::int64_t placing_ns = 0;
  const std::int64_t start = monotonic_ns();
  const std::int64_t start_cpu = thread_cpu_ns();
  const LoopResult accepted = run_bounded(sizes.orders, [&](std::size_t) {
    const std::int64_t begin = monotonic_ns();
    (void)service.place(sample_order(++placed));
    placing_ns += monotonic_ns() - begin;
    // The fetch-backs that have arrived meanwhile; most come after this loop.
    while (service.serve_once(0ms)) {
    }
  });
  // Serve until every consumer has handled every order: while fetch-backs are still due (one
  // per order and consumer) the producer only waits for requests, in long polls; then in 1 ms
  // ticks for the consumers' last steps, which send it nothing.
  const Deadline drain(sizes.drain_limit);
  const std::uint64_t fetch_backs_due = placed * sizes.consumers;
  while (service.stats().fetch_backs < fetch_backs_due && !consumers.all_reached(placed) &&
         !drain.expired()) {
    (void)service.serve_once(std::min<std::chrono::milliseconds>(50ms, drain.remaining()));
  }
  while (!consumers.all_reached(placed) && !drain.expired()) (void)service.serve_once(1ms);
  const bool all_done = consumers.all_reached(placed);
  const double all_done_s = static_cast<double>(monotonic_ns() - start) / 1e9;
  const double producer_cpu_ns = static_cast<double>(thread_cpu_ns() - start_cpu);
  consumers.stop([&] { (void)service.serve_once(1ms); });
  consumers.check();
  const auto orders = static_cast<double>(placed);
  return {.accept_ns = static_cast<double>(placing_ns) / orders,
          .accepted_per_s = accepted.per_second(),
          .producer_ns = all_done ? producer_cpu_ns / orders : 0,
          .all_done_per_s = all_done ? orders / all_done_s : 0,
          .fetch_backs_per_order = static_cast<double>(service.stats().fetch_backs) / orders};
}

/// The baseline's downstream services, each answering on a thread of its own.
class DownstreamServices {
 public:
  /// @brief Starts one service per role of `roles`; the first takes `slow_work` per call. The
  ///        one named `down` is bound but never answers (down, or hung).
  DownstreamServices(zmq::context_t& context, std::vector<std::string> roles,
                     std::chrono::microseconds slow_work, const std::string& down = "") {
    for (std::size_t i = 0; i < roles.size(); ++i) {
      services_.push_back(std::make_unique<baseline::DownstreamService>(
          context,
          baseline::DownstreamOptions{.role = roles[i], .work_time = i == 0 ? slow_work : 0us}));
      targets_.push_back({roles[i], services_.back()->endpoint()});
      if (roles[i] == down) continue;
      threads_.emplace_back([service = services_.back().get()](const std::stop_token& stop) {
        service->serve_while([&] { return !stop.stop_requested(); }, 5ms);
      });
    }
  }
  /// @brief The services, in order, as the synchronous Order service calls them.
  [[nodiscard]] const std::vector<baseline::Downstream>& targets() const { return targets_; }
  /// @brief Calls handled by all services so far.
  [[nodiscard]] std::uint64_t handled() const {
    std::uint64_t total = 0;
    for (const auto& service : services_) total += service->handled();
    return total;
  }

 private:
  std::vector<std::unique_ptr<baseline::DownstreamService>> services_;
  std::vector<baseline::Downstream> targets_;
  std::vector<std::jthread> threads_;  // declared last: stop before the services go
};

/// One round of the baseline.
struct BaselineRound {
  /// Orders/s: when place() returns, every downstream service has handled the order, so this
  /// rate is "accepted", "the producer's pace" and "handled by all" at once.
  double per_s = 0;
  double cpu_ns = 0;  ///< The producer thread's CPU time per order (it waits without it).
};

BaselineRound baseline_round(const Sizes& sizes) {
  zmq::context_t context;
  std::vector<std::string> roles;
  for (std::size_t i = 0; i < sizes.consumers; ++i) roles.push_back(role_of(i));
  DownstreamServices downstream(context, roles, sizes.slow_work);
  baseline::SyncOrderService orders(context,
                                    {.downstream = downstream.targets(), .call_timeout = 5s});
  std::uint64_t placed = 0;
  const std::int64_t start_cpu = thread_cpu_ns();
  const LoopResult run =
      run_bounded(sizes.orders, [&](std::size_t) { (void)orders.place(sample_order(++placed)); });
  return {run.per_second(),
          static_cast<double>(thread_cpu_ns() - start_cpu) / static_cast<double>(run.count)};
}

/// Billing down while orders come in, then back.
struct DownResult {
  std::size_t accepted = 0;           ///< Orders the Order service accepted.
  LatencySummary accept;              ///< How long each took (accepted or refused).
  double catch_up_ns = 0;             ///< Pattern: billing back until it has handled every order.
  std::uint64_t acted_on_failed = 0;  ///< Baseline: calls other services made for failed orders.
};

DownResult pattern_with_billing_down(const Sizes& sizes) {
  zmq::context_t context;
  OrderService service(context, {});
  DownResult result;
  LatencyRecorder accept;
  // Billing is down: nobody consumes the events. The Order service does not notice.
  for (std::uint64_t n = 1; n <= sizes.down_orders; ++n) {
    const std::int64_t start = monotonic_ns();
    (void)service.place(sample_order(n));
    accept.record(monotonic_ns() - start);
    ++result.accepted;
  }
  result.accept = accept.summary();
  // Billing comes back: it asks the replay buffer for everything after its checkpoint.
  const std::int64_t back = monotonic_ns();
  ConsumerThreads billing(context, {consumer_of(service, "billing")});
  serve_until(
      service, [&] { return billing.all_reached(sizes.down_orders); }, 10s,
      "billing did not catch up within 10 s");
  result.catch_up_ns = static_cast<double>(monotonic_ns() - back);
  billing.stop([&] { (void)service.serve_once(1ms); });
  billing.check();
  return result;
}

DownResult baseline_with_billing_down(const Sizes& sizes) {
  zmq::context_t context;
  DownstreamServices downstream(context, {"inventory", "shipping", "billing"}, 0us, "billing");
  baseline::SyncOrderService orders(
      context,
      {.downstream = downstream.targets(), .call_timeout = sizes.down_timeout, .call_attempts = 1});
  DownResult result;
  LatencyRecorder accept;
  for (std::uint64_t n = 1; n <= sizes.down_orders; ++n) {
    const std::int64_t start = monotonic_ns();
    try {
      (void)orders.place(sample_order(n));
      ++result.accepted;
    } catch (const std::runtime_error&) {
      // Refused: billing did not answer. Inventory and shipping had already acted on it.
      // (place() reports the failed call as a std::runtime_error naming the service.)
    }
    accept.record(monotonic_ns() - start);
  }
  result.accept = accept.summary();
  result.acted_on_failed = downstream.handled();
  return result;
}

Findings measure(const TourOptions& options, Progress& progress) {
  const Sizes sizes = sizes_for(options);
  const std::string load =
      std::to_string(sizes.consumers) + " consumers, one taking " +
      format_ns(static_cast<double>(std::chrono::nanoseconds(sizes.slow_work).count())) +
      " per order";
  const std::string rounds =
      sizes.rounds > 1 ? ", median of " + std::to_string(sizes.rounds) + " rounds" : "";

  std::vector<PatternRound> pattern_rounds;
  progress.stage(
      "measuring the pattern: acceptance, the producer's time, end to end (" + load + rounds + ")",
      [&] {
        for (int i = 0; i < sizes.rounds; ++i) pattern_rounds.push_back(pattern_round(sizes));
      });
  const auto median_by = [&](double PatternRound::*field) {
    std::vector<double> values;
    for (const PatternRound& round : pattern_rounds) values.push_back(round.*field);
    return median(values);
  };
  const double accept_ns = median_by(&PatternRound::accept_ns);
  const double accepted = median_by(&PatternRound::accepted_per_s);
  const double producer_ns = median_by(&PatternRound::producer_ns);
  const double all_done = median_by(&PatternRound::all_done_per_s);
  const double fetch_backs = median_by(&PatternRound::fetch_backs_per_order);
  std::vector<double> sync_rates;
  std::vector<double> sync_cpu;
  progress.stage("measuring the baseline: the same orders, calling each service in turn", [&] {
    for (int i = 0; i < sizes.rounds; ++i) {
      const BaselineRound round = baseline_round(sizes);
      sync_rates.push_back(round.per_s);
      sync_cpu.push_back(round.cpu_ns);
    }
  });
  const double sync = median(sync_rates);
  // The baseline's place() returns after every call: the customer's wait, the producer's time
  // per order and the end-to-end pace are one figure.
  const double sync_ns = sync > 0 ? 1e9 / sync : 0;
  const DownResult pattern_down =
      progress.stage("billing down: " + std::to_string(sizes.down_orders) +
                         " orders to each design, then billing back",
                     [&] { return pattern_with_billing_down(sizes); });
  const DownResult sync_down = baseline_with_billing_down(sizes);

  const std::string tried = std::to_string(sizes.down_orders);
  const std::string sustained_ratio = all_done > 0 ? format_ratio(all_done, sync) : "-";
  // Two times per order (lower is better) compared: `47x less`, `1.2x more` or `about even`.
  const auto compare_costs = [](double pattern_ns, double baseline_ns) -> std::string {
    if (pattern_ns <= 0 || baseline_ns <= 0) return "-";
    if (format_ratio(std::max(pattern_ns, baseline_ns), std::min(pattern_ns, baseline_ns)) ==
        "1.0x")
      return "about even";
    return pattern_ns <= baseline_ns ? format_ratio(baseline_ns, pattern_ns) + " less"
                                     : format_ratio(pattern_ns, baseline_ns) + " more";
  };
  const double sync_cpu_ns = median(sync_cpu);
  Findings findings;
  findings.rows = {
      {"the customer's wait per order", format_ns(accept_ns), format_ns(sync_ns),
       compare_times(accept_ns, sync_ns)},
      {"orders/s accepted while the consumers fall behind", format_rate(accepted),
       format_rate(sync), compare_rates(accepted, sync)},
      {"producer's time per order, all fetch-backs served",
       producer_ns > 0 ? format_ns(producer_ns) + " CPU" : "not within the limit",
       format_ns(sync_ns) + " waiting for the calls (" + format_ns(sync_cpu_ns) + " CPU)",
       compare_costs(producer_ns, sync_ns) + " (CPU: " + compare_costs(producer_ns, sync_cpu_ns) +
           ")"},
      {"orders/s done by every consumer (sustained)",
       all_done > 0 ? format_rate(all_done) : "not within the limit", format_rate(sync),
       all_done > 0 ? compare_rates(all_done, sync) : "-"},
      {"calls back to the Order service per order", format_count(fetch_backs),
       "0 (each call carries the order)", "the price of thin events"},
      {"billing down: orders accepted",
       format_share(pattern_down.accepted, sizes.down_orders) + ", p50 " +
           format_ns(static_cast<double>(pattern_down.accept.p50_ns)),
       format_share(sync_down.accepted, sizes.down_orders) + ", each after " +
           format_ns(static_cast<double>(sync_down.accept.p50_ns)),
       "orders go on"},
      {"billing back",
       "caught up " + tried + " orders from the replay buffer in " +
           format_ns(pattern_down.catch_up_ns),
       "-", ""},
      {"coupling", "the producer knows no consumer", "calls each service by name", ""},
  };
  findings.notes = {
      "Load: " + load + ", " + format_count(static_cast<double>(sizes.orders.max_count)) +
          " orders per round at most" + rounds +
          "; tcp loopback, every role a thread of this process.",
      "The customer waits for place() alone. Orders are placed as fast as the Order service "
      "takes them, so the consumers fall behind: the accepted rate is the rate of that loop "
      "(place(), then the fetch-backs that have already arrived), and most fetch-backs come "
      "after it.",
      "The producer's time per order counts every fetch-back it served until every consumer "
      "had handled every order: its CPU time, since while it waits for the next request it "
      "could take an order. The baseline's producer waits for every call before it can take "
      "the next order; its CPU time is in brackets.",
      "End to end the slow consumer sets the pace in both designs: the sustained rate is " +
          sustained_ratio + " the baseline's.",
      "Baseline with billing down: inventory and shipping had already acted " +
          std::to_string(sync_down.acted_on_failed) + " times on orders that then failed.",
  };
  findings.buys = {
      "acceptance: the customer waits " + format_ns(accept_ns) + ", not " + format_ns(sync_ns) +
          "; while the consumers fall behind, the producer accepts " +
          format_ratio(accepted, sync) +
          " more orders/s; sustained (every consumer done): " + sustained_ratio + " (" + load + ")",
      "availability: billing down, " + format_share(pattern_down.accepted, sizes.down_orders) +
          " orders accepted (baseline " + format_share(sync_down.accepted, sizes.down_orders) +
          "); billing caught up from the replay buffer in " + format_ns(pattern_down.catch_up_ns),
      "coupling: the producer knows no consumer",
  };
  findings.costs = {
      "fetch-backs: " + format_count(fetch_backs) +
          " calls back per order (one per consumer); with them the producer spends " +
          (producer_ns > 0 ? format_ns(producer_ns) : "-") + " CPU per order, not the " +
          format_ns(accept_ns) + " of accepting it",
      "end to end, the slowest consumer sets the pace: every consumer done at " +
          (all_done > 0 ? format_rate(all_done) : "-") + " vs " + format_rate(sync),
      "complexity: a replay buffer, checkpoints, idempotent consumers",
  };
  return findings;
}

}  // namespace

Stop notification_stop() {
  return {
      .name = "notification",
      .title = "Event notification",
      .intent =
          "When an order is placed, the Order service publishes a thin event (\"order 42 was "
          "placed\") and answers at once. Inventory, shipping and billing react on their own, "
          "and call back for the details they need.",
      .baseline =
          "the Order service calling every downstream service itself, one blocking request "
          "after the other",
      .demo_program = demo_programs::notification,
      .demo_args = {"--transport", "tcp", "--count", "4", "--down", "billing"},
      .quick_demo_args = {"--transport", "tcp", "--count", "2", "--down", "billing"},
      .demo_shows =
          "Billing was down for the first orders; the customer did not notice, and billing "
          "caught up from the replay buffer.",
      .measure = measure,
  };
}

}  // namespace eda::tour
