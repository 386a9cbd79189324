// notification-demo: event notification against its synchronous baseline, on the shop's story.
//
// All roles in one process by default (threads talking over inproc, ipc or tcp), narrated;
// `--role` runs one role as its own process. `--slow ROLE` and `--down ROLE` show what a slow
// or stopped consumer does to each design; `--baseline` runs the synchronous version.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "eda/cli.hpp"
#include "eda/clock.hpp"
#include "eda/latency.hpp"
#include "eda/narrator.hpp"
#include "eda/notification/baseline.hpp"
#include "eda/notification/consumer.hpp"
#include "eda/notification/order_service.hpp"
#include "eda/trace/demo_trace.hpp"

namespace {

using namespace std::chrono_literals;
using namespace eda::notification;

/// Everything the command line says.
struct Settings {
  eda::cli::CommonOptions common;
  bool baseline = false;
  std::string role = "all";
  std::string slow;  // a role that takes `slow_ms` per order
  std::string down;  // a role stopped for the first half of the orders
  int slow_ms = 200;
  std::string events = "tcp://127.0.0.1:5556";
  std::string api = "tcp://127.0.0.1:5557";
  std::string listen = "tcp://127.0.0.1:*";
  std::string inventory, shipping, billing;  // baseline downstream endpoints (role order)
  std::string checkpoint_file;
  int run_for_s = 600;
  std::string curve_keys;  // --curve-keys DIR: CURVE + ZAP on every socket
  bool trace = false;      // --trace: tap the Order service and the consumers' follow-ups
};

std::string money(std::int64_t cents) {
  return std::to_string(cents / 100) + "." + (cents % 100 < 10 ? "0" : "") +
         std::to_string(cents % 100);
}

/// What a role did with an order, in words.
std::string describe(std::string_view role, const OrderPlaced& placed, const Order* order) {
  const std::string id = "order " + std::to_string(placed.order_id);
  if (order == nullptr) return "handled " + id;
  const auto& d = order->details;
  if (role.starts_with("inventory"))
    return "reserved " + std::to_string(d.quantity) + " x " + d.item + " for " + id;
  if (role.starts_with("shipping")) return "scheduled " + id + " to " + d.address;
  return "charged " + d.customer + " " + money(d.price_cents) + " for " + id;
}

/// A counted signal the demo's threads wait on (a real one, not a sleep or a spin).
class Signal {
 public:
  /// Counts one arrival and wakes the waiters.
  void raise() {
    {
      const std::lock_guard lock(mutex_);
      ++count_;
    }
    changed_.notify_all();
  }
  /// Waits until at least `count` arrivals, at most `timeout`; false if it timed out.
  bool wait_for(int count, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return count_ >= count; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int count_ = 0;
};

/// What is wrong with one consumer's reactions, given the order ids `placed` and how often it
/// reacted to each order id: an order it handled never or more than once, or one that was
/// never placed. Empty when it handled each placed order exactly once.
std::string once_each(const std::vector<std::uint64_t>& placed,
                      const std::map<std::uint64_t, int>& reacted) {
  std::string problems;
  const auto add = [&problems](std::uint64_t id, const std::string& what) {
    problems += (problems.empty() ? "order " : "; order ") + std::to_string(id) + " " + what;
  };
  const std::set<std::uint64_t> expected(placed.begin(), placed.end());
  for (const std::uint64_t id : expected) {
    const auto it = reacted.find(id);
    const int times = it == reacted.end() ? 0 : it->second;
    if (times != 1) add(id, "handled " + std::to_string(times) + " times");
  }
  for (const auto& [id, times] : reacted) {
    if (!expected.contains(id))
      add(id, "was never placed but handled " + std::to_string(times) + " times");
  }
  return problems;
}

// ---- The pattern, all roles in one process ---------------------------------------------------

int run_pattern(const Settings& s, eda::Narrator& say) {
  zmq::context_t context;
  const auto curve = eda::cli::secure_context(context, s.curve_keys);
  const auto transport = s.common.transport;
  OrderService service(context, {.events_endpoint = eda::ephemeral_endpoint(transport, "orders"),
                                 .api_endpoint = eda::ephemeral_endpoint(transport, "order-api")});
  say.heading("Event notification: the Order service publishes a thin OrderPlaced and moves on");
  say.say("order-service",
          "publishes on " + service.events_endpoint() + ", API on " + service.api_endpoint());

  std::atomic<bool> stop{false};
  std::thread service_thread([&] { service.serve_while([&] { return !stop.load(); }, 5ms); });

  const std::size_t orders = s.common.count;
  Signal half_placed;
  std::mutex stats_mutex;
  std::map<std::string, ConsumerStats> final_stats;
  std::vector<std::thread> consumers;
  std::vector<std::string> follow_up_endpoints;  // under stats_mutex
  Signal bound;  // one arrival per role thread: its follow-ups are published (or it failed)
  Signal ready;  // one arrival per role thread, ready or failed
  // How often each consumer's reaction ran for each order id (under stats_mutex): "effectively
  // once" is checked on these, order by order, not on a count.
  std::map<std::string, std::map<std::uint64_t, int>> reactions;
  std::atomic<bool> no_more_orders{false};  // the customer gave up: nothing more to wait for
  for (const auto role_view : downstream_roles) {
    const std::string role(role_view);
    consumers.emplace_back([&, role] {
      // An error ends this consumer, not the demo: it is reported and the summary shows it.
      try {
        MemoryCheckpoint checkpoint;  // survives the restart below
        ConsumerOptions options{
            .name = role,
            .events_endpoint = service.events_endpoint(),
            .api_endpoint = service.api_endpoint(),
            .follow_ups_endpoint = eda::ephemeral_endpoint(transport, role),
            .work_time = role == s.slow ? std::chrono::milliseconds(s.slow_ms) : 0ms,
            .checkpoint = &checkpoint};
        const Reaction reaction = [&say, &stats_mutex, &reactions, role,
                                   inner = reaction_for(role)](
                                      eda::Publisher& out, const OrderPlaced& placed,
                                      const Order* order, const eda::EventMetadata& cause) {
          inner(out, placed, order, cause);
          {
            const std::lock_guard lock(stats_mutex);
            ++reactions[role][placed.order_id];
          }
          say.say(role, "got OrderPlaced #" + std::to_string(cause.sequence) +
                            ", fetched the details back, " + describe(role, placed, order));
        };
        auto consumer = std::make_unique<Consumer>(context, options, reaction);
        options.follow_ups_endpoint = consumer->follow_ups_endpoint();  // to come back to
        {
          const std::lock_guard lock(stats_mutex);
          follow_up_endpoints.push_back(consumer->follow_ups_endpoint());
        }
        bound.raise();
        // With --trace, the tap joins before the first reaction, so its trees are whole.
        if (s.trace && !consumer->follow_ups().wait_for_subscribers(1, 15s)) {
          say.say(role, "the trace's tap did not join; its follow-ups are missing from the trace");
        }
        if (!consumer->start(10s)) {
          say.say(role, "could not reach the Order service");
          ready.raise();
          return;
        }
        ConsumerStats before_restart;
        if (role == s.down) {
          consumer.reset();
          say.say(role, "is DOWN (stopped before the first order)");
          ready.raise();
          (void)half_placed.wait_for(1, 60s);
          say.say(role, "is back up: asks the replay buffer for everything after #" +
                            std::to_string(checkpoint.load().value_or(0)));
          // Back on the same address (the kit's bind waits for the old socket to let go of it).
          consumer = std::make_unique<Consumer>(context, options, reaction);
          if (s.trace)
            (void)consumer->follow_ups().wait_for_subscribers(1, 5s);  // the tap reconnects
          (void)consumer->start(10s);
          say.say(role, "caught up " + std::to_string(consumer->stats().replayed) +
                            " orders from the replay buffer, now live");
        } else {
          ready.raise();
        }
        const eda::Deadline deadline(120s);
        while (consumer->last_processed() < orders && !deadline.expired() &&
               !eda::cli::stop_requested() && !no_more_orders) {
          try {
            (void)consumer->poll(20ms);
          } catch (const eda::RpcTimeout& e) {
            say.say(role, std::string("the Order service does not answer: ") + e.what());
          }
        }
        const std::lock_guard lock(stats_mutex);
        final_stats[role] = consumer->stats();
      } catch (const std::exception& e) {
        say.say(role, std::string("stopped by an error: ") + e.what());
        bound.raise();  // at worst counted twice: it only lets the demo go on sooner
        ready.raise();
      }
    });
  }
  (void)bound.wait_for(3, 15s);
  std::optional<eda::trace::DemoTrace> trace;
  if (s.trace) {
    std::vector<std::string> tapped{service.events_endpoint()};
    {
      const std::lock_guard lock(stats_mutex);
      tapped.insert(tapped.end(), follow_up_endpoints.begin(), follow_up_endpoints.end());
    }
    say.say("tracer", "taps the Order service and the consumers' follow-ups");
    trace.emplace(context, eda::trace::DemoTraceOptions{.endpoints = tapped});
  }
  (void)ready.wait_for(3, 15s);

  eda::RpcClient customer(context, {.endpoint = service.api_endpoint(), .timeout = 5s});
  eda::LatencyRecorder place_latency;
  std::vector<std::uint64_t> placed;  // the order ids the Order service answered with
  std::string customer_failure;  // why orders could not be placed; the threads are joined first
  try {
    for (std::uint64_t n = 1; n <= orders && !eda::cli::stop_requested(); ++n) {
      const std::int64_t start = eda::monotonic_ns();
      const auto id = customer.call<std::uint64_t>(method::place_order, sample_order(n));
      place_latency.record(eda::monotonic_ns() - start);
      placed.push_back(id);
      say.say("customer", "order " + std::to_string(id) + " placed in " +
                              eda::format_duration(eda::monotonic_ns() - start) +
                              " (the Order service published OrderPlaced and answered at once)");
      if (n == (orders + 1) / 2) half_placed.raise();
    }
  } catch (const std::exception& e) {
    // A call a stop request cut short is not a failure: the run is stopping.
    if (!eda::cli::stop_requested()) customer_failure = e.what();
    no_more_orders = true;  // no more orders will come: the consumers stop waiting for them
  }
  half_placed.raise();
  for (auto& t : consumers) t.join();
  stop = true;
  service_thread.join();
  if (!customer_failure.empty()) {
    throw std::runtime_error("the customer could not place its orders: " + customer_failure);
  }
  if (eda::cli::stop_requested()) {
    say.say("demo", "stopped: " + std::to_string(placed.size()) + " of " + std::to_string(orders) +
                        " orders placed; nothing kept (the replay buffer and the consumers' checkpoints "
                        "lived in this process)");
    return 0;
  }

  say.heading("Summary (event notification)");
  std::cout << "PlaceOrder as the customer saw it: " << place_latency.summary().to_string() << '\n'
            << "Order service: " << service.stats().orders << " orders, "
            << service.stats().fetch_backs << " fetch-backs served ("
            << (orders
                    ? static_cast<double>(service.stats().fetch_backs) / static_cast<double>(orders)
                    : 0.0)
            << " per order), " << service.stats().replays << " replays\n";
  for (const auto& [role, st] : final_stats) {
    std::cout << "  " << role << ": handled " << st.handled << ", fetch-backs " << st.fetch_backs
              << ", caught up from the replay buffer " << st.replayed << ", duplicates skipped "
              << st.duplicates << ", lost " << st.lost << '\n';
  }
  bool effectively_once = true;
  for (const auto role_view : downstream_roles) {
    const std::string role(role_view);
    const std::string problems = once_each(placed, reactions[role]);
    if (!problems.empty()) {
      effectively_once = false;
      std::cout << "  " << role << ": " << problems << '\n';
    }
  }
  std::cout << (effectively_once ? "effectively once: every consumer handled each of the " +
                                       std::to_string(placed.size()) + " orders exactly once\n"
                                 : "NOT effectively once: a consumer missed an order or handled "
                                   "one twice (see above)\n");
  if (trace) {
    // Each order: OrderPlaced, then one follow-up from each of the three consumers.
    (void)trace->report(std::cout, orders * (1 + std::size(downstream_roles)));
  }
  return effectively_once ? 0 : 1;
}

// ---- The baseline, all roles in one process ---------------------------------------------------

int run_baseline(const Settings& s, eda::Narrator& say) {
  zmq::context_t context;
  const auto curve = eda::cli::secure_context(context, s.curve_keys);
  const auto transport = s.common.transport;
  say.heading(
      "Baseline: the Order service calls inventory, shipping and billing, one after the other");
  std::atomic<bool> stop{false};
  Signal half_placed;
  std::vector<std::unique_ptr<baseline::DownstreamService>> services;
  std::vector<baseline::Downstream> targets;
  for (const auto role_view : downstream_roles) {
    const std::string role(role_view);
    const auto work = role == s.slow ? std::chrono::milliseconds(s.slow_ms) : 0ms;
    services.push_back(std::make_unique<baseline::DownstreamService>(
        context, baseline::DownstreamOptions{.role = role,
                                             .endpoint = eda::ephemeral_endpoint(transport, role),
                                             .work_time = work}));
    targets.push_back({role, services.back()->endpoint()});
  }
  std::vector<std::thread> downstream;
  Signal ready;  // one arrival per role thread, ready or failed
  for (std::size_t i = 0; i < services.size(); ++i) {
    downstream.emplace_back([&, i] {
      baseline::DownstreamService& service = *services[i];
      const std::string role(downstream_roles[i]);
      if (role == s.down) {
        // Down: bound but not answering, like a hung or unreachable service.
        say.say(role, "is DOWN (not answering until half the orders are through)");
        ready.raise();
        (void)half_placed.wait_for(1, 120s);
        say.say(role, "is back");
      } else {
        ready.raise();
      }
      service.serve_while([&] { return !stop.load(); }, 10ms);
    });
  }
  (void)ready.wait_for(3, 15s);

  baseline::SyncOrderService orders(
      context, {.api_endpoint = eda::ephemeral_endpoint(transport, "order-api"),
                .downstream = targets,
                .call_timeout = 1000ms});
  std::thread order_thread([&] { orders.serve_while([&] { return !stop.load(); }, 5ms); });
  eda::RpcClient customer(context,
                          {.endpoint = orders.api_endpoint(), .timeout = 30s, .attempts = 1});
  eda::LatencyRecorder place_latency;
  std::size_t failed = 0;
  const auto order_failed = [&](std::int64_t start, const std::string& why) {
    ++failed;
    say.say("customer",
            "order FAILED after " + eda::format_duration(eda::monotonic_ns() - start) + ": " + why);
  };
  for (std::uint64_t n = 1; n <= s.common.count && !eda::cli::stop_requested(); ++n) {
    const std::int64_t start = eda::monotonic_ns();
    try {
      const auto id = customer.call<std::uint64_t>(method::place_order, sample_order(n));
      place_latency.record(eda::monotonic_ns() - start);
      say.say("customer", "order " + std::to_string(id) + " placed in " +
                              eda::format_duration(eda::monotonic_ns() - start) +
                              " (after inventory, shipping and billing answered)");
    } catch (const eda::RpcTimeout& e) {
      // The kit reports a call whose wait a stop request cut short as unanswered: not a failure.
      if (eda::cli::stop_requested()) break;
      order_failed(start, e.what());
    } catch (const eda::RpcError& e) {
      order_failed(start, e.what());
    }
    if (n == (s.common.count + 1) / 2) half_placed.raise();
  }
  half_placed.raise();
  stop = true;
  order_thread.join();
  for (auto& t : downstream) t.join();
  if (eda::cli::stop_requested()) {
    say.say("demo", "stopped: " + std::to_string(orders.stats().orders) + " of " +
                        std::to_string(s.common.count) + " orders placed, " +
                        std::to_string(failed) +
                        " failed; nothing kept (the baseline's services lived in this process)");
    return 0;
  }

  say.heading("Summary (baseline)");
  std::cout << "PlaceOrder as the customer saw it: " << place_latency.summary().to_string() << '\n'
            << "orders placed: " << orders.stats().orders << ", failed: " << failed
            << ", downstream calls: " << orders.stats().downstream_calls << '\n';
  return 0;
}

// ---- One role per process ----------------------------------------------------------------------

bool keep_running(const eda::Deadline& deadline) {
  return !eda::cli::stop_requested() && !deadline.expired();
}

int run_role(const Settings& s, eda::Narrator& say) {
  zmq::context_t context;
  const auto curve = eda::cli::secure_context(context, s.curve_keys);
  const eda::Deadline deadline(std::chrono::seconds(s.run_for_s));
  if (s.role == "customer") {
    eda::RpcClient customer(context, {.endpoint = s.api, .timeout = 30s, .attempts = 1});
    std::uint64_t placed = 0;
    for (std::uint64_t n = 1; n <= s.common.count && !eda::cli::stop_requested(); ++n) {
      const std::int64_t start = eda::monotonic_ns();
      try {
        const auto id = customer.call<std::uint64_t>(method::place_order, sample_order(n));
        ++placed;
        say.say("customer", "order " + std::to_string(id) + " placed in " +
                                eda::format_duration(eda::monotonic_ns() - start));
      } catch (const eda::RpcTimeout&) {
        // A stop request cuts the wait for the answer short; the kit reports that as no answer.
        if (!eda::cli::stop_requested()) throw;
        say.say("customer",
                "order " + std::to_string(n) + ": sent, its answer not awaited (it may be placed)");
      }
    }
    if (eda::cli::stop_requested()) {
      say.say("customer", "stopped: " + std::to_string(placed) + " of " +
                              std::to_string(s.common.count) +
                              " orders placed (the Order service keeps them)");
    }
    return 0;
  }
  if (s.baseline) {
    if (s.role == "order") {
      baseline::SyncOrderService orders(context, {.api_endpoint = s.api,
                                                  .downstream = {{"inventory", s.inventory},
                                                                 {"shipping", s.shipping},
                                                                 {"billing", s.billing}}});
      say.say("order-service", "(baseline) API on " + orders.api_endpoint());
      orders.serve_while([&] { return keep_running(deadline); });
      say.say("order-service",
              "stopped: " + std::to_string(orders.stats().orders) + " orders placed, " +
                  std::to_string(orders.stats().failed_orders) +
                  " refused; nothing kept (the baseline keeps its orders in memory)");
      return 0;
    }
    baseline::DownstreamService service(
        context, {.role = s.role,
                  .endpoint = s.listen,
                  .work_time = std::chrono::milliseconds(s.slow == s.role ? s.slow_ms : 0)});
    say.say(s.role, "(baseline) answers " + std::string(baseline::method_for(s.role)) + " on " +
                        service.endpoint());
    service.serve_while([&] { return keep_running(deadline); });
    say.say(s.role,
            "stopped: " + std::to_string(service.handled()) + " calls answered; nothing kept");
    return 0;
  }
  if (s.role == "order") {
    OrderService service(context, {.events_endpoint = s.events, .api_endpoint = s.api});
    say.say("order-service",
            "publishes on " + service.events_endpoint() + ", API on " + service.api_endpoint());
    while (keep_running(deadline)) {
      // OrderService polls its sockets itself: a stop request ends that wait with EINTR.
      (void)eda::cli::unless_stopped([&] { (void)service.serve_once(20ms); });
    }
    say.say("order-service",
            "stopped: " + std::to_string(service.stats().orders) +
                " orders placed; nothing kept (its orders and its replay buffer lived in memory)");
    return 0;
  }
  std::unique_ptr<Checkpoint> checkpoint;
  if (!s.checkpoint_file.empty()) checkpoint = std::make_unique<FileCheckpoint>(s.checkpoint_file);
  Consumer consumer(context,
                    {.name = s.role,
                     .events_endpoint = s.events,
                     .api_endpoint = s.api,
                     .follow_ups_endpoint = s.listen,
                     .work_time = std::chrono::milliseconds(s.slow == s.role ? s.slow_ms : 0),
                     .checkpoint = checkpoint.get()},
                    [&say, role = s.role, inner = reaction_for(s.role)](
                        eda::Publisher& out, const OrderPlaced& placed, const Order* order,
                        const eda::EventMetadata& cause) {
                      inner(out, placed, order, cause);
                      say.say(role, describe(role, placed, order));
                    });
  // The handshake is awaited in short turns, so that a stop request is heeded meanwhile.
  const eda::Deadline handshake(30s);
  bool started = false;
  while (!(started = consumer.start(200ms)) && !handshake.expired() &&
         !eda::cli::stop_requested()) {
  }
  if (!started && eda::cli::stop_requested()) {
    say.say(s.role, "stopped before the Order service answered; nothing handled");
    return 0;
  }
  if (!started) {
    throw std::runtime_error("no handshake with the Order service at " + s.events + " within 30 s");
  }
  say.say(s.role, "subscribed; caught up " + std::to_string(consumer.stats().replayed) +
                      " orders from the replay buffer");
  std::uint64_t reconnections = 0;
  while (keep_running(deadline)) {
    try {
      (void)consumer.poll(100ms);
      if (consumer.stats().reconnections != reconnections) {
        reconnections = consumer.stats().reconnections;
        say.say(s.role,
                "reconnected to the Order service (the connection had been closed); "
                "caught up from the replay buffer, " +
                    std::to_string(consumer.stats().replayed) + " orders replayed so far");
      }
    } catch (const eda::RpcTimeout& e) {
      if (eda::cli::stop_requested()) break;  // the fetch-back was cut short by the stop
      say.say(s.role, std::string("the Order service does not answer: ") + e.what());
    }
  }
  say.say(s.role,
          "stopped: " + std::to_string(consumer.stats().handled) + " orders handled; " +
              (s.checkpoint_file.empty()
                   ? "its checkpoint (#" + std::to_string(consumer.last_processed()) +
                         ") lived in memory: a new run starts at the replay buffer's oldest order"
                   : s.role + "'s checkpoint at sequence " +
                         std::to_string(consumer.last_processed()) + " in " + s.checkpoint_file));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "notification-demo: event notification against the synchronous baseline.\n"
      "The Order service publishes a thin OrderPlaced; inventory, shipping and billing react\n"
      "and fetch the details back. With --baseline the Order service calls them itself.\n\n"
      "All roles in one process (default):\n"
      "  notification-demo [--baseline] [--count N] [--slow billing] [--down billing]\n"
      "One role per process (start the order service first):\n"
      "  notification-demo --role order --events tcp://*:5556 --api tcp://*:5557\n"
      "  notification-demo --role billing --events tcp://HOST:5556 --api tcp://HOST:5557\n"
      "  notification-demo --role customer --api tcp://HOST:5557 --count 10\n"};
  Settings s;
  eda::cli::add_common_options(app, s.common, 100'000);
  app.add_flag("--baseline", s.baseline, "Run the synchronous request-response version instead");
  app.add_option("--role", s.role, "all (default), order, inventory, shipping, billing or customer")
      ->check(CLI::IsMember({"all", "order", "inventory", "shipping", "billing", "customer"}));
  app.add_option("--slow", s.slow, "Make this consumer slow (see --slow-ms)")
      ->check(CLI::IsMember({"inventory", "shipping", "billing"}));
  app.add_option("--slow-ms", s.slow_ms, "Work time per order of the --slow consumer, in ms")
      ->check(CLI::Range(1, 10'000))
      ->capture_default_str();
  app.add_option("--down", s.down,
                 "Stop this consumer for the first half of the orders (all-in-one)")
      ->check(CLI::IsMember({"inventory", "shipping", "billing"}));
  eda::cli::add_endpoint_option(app, "--events", s.events, "Order service events endpoint (--role)")
      ->capture_default_str();
  eda::cli::add_endpoint_option(app, "--api", s.api, "Order service API endpoint (--role)")
      ->capture_default_str();
  eda::cli::add_endpoint_option(
      app, "--listen", s.listen,
      "Where a consumer publishes its follow-ups, or a baseline service answers (--role)")
      ->capture_default_str();
  eda::cli::add_endpoint_option(app, "--inventory", s.inventory,
                                "Baseline inventory endpoint (--baseline --role order)");
  eda::cli::add_endpoint_option(app, "--shipping", s.shipping,
                                "Baseline shipping endpoint (--baseline --role order)");
  eda::cli::add_endpoint_option(app, "--billing", s.billing,
                                "Baseline billing endpoint (--baseline --role order)");
  app.add_option("--checkpoint", s.checkpoint_file,
                 "File where a consumer keeps its progress (--role)");
  eda::cli::add_curve_keys_option(app, s.curve_keys);
  app.add_flag("--trace", s.trace, eda::trace::trace_flag_help);
  app.add_option("--run-for", s.run_for_s, "Seconds a service role runs before it exits")
      ->check(CLI::Range(1, 86'400))
      ->capture_default_str();
  return eda::cli::run(app, argc, argv, [&] {
    const eda::cli::StopOnSignals stop_on_signals;  // Ctrl-C and SIGTERM: a clean stop
    eda::Narrator say(std::cout, s.common.verbosity);
    if (s.role != "all") {
      if (s.baseline && s.role == "order" &&
          (s.inventory.empty() || s.shipping.empty() || s.billing.empty())) {
        throw std::invalid_argument(
            "--baseline --role order needs --inventory, --shipping and --billing");
      }
      if (s.trace) {
        throw std::invalid_argument(
            "--trace shows the all-in-one run; to trace separate "
            "processes, run eda-trace live against their endpoints");
      }
      return run_role(s, say);
    }
    if (s.baseline && s.trace) {
      throw std::invalid_argument("--trace follows events; the baseline sends none (it calls)");
    }
    return s.baseline ? run_baseline(s, say) : run_pattern(s, say);
  });
}
