// notification-demo: event notification against its synchronous baseline, on the shop's story.
//
// All roles in one process by default (threads talking over inproc, ipc or tcp), narrated;
// `--role` runs one role as its own process. `--slow ROLE` and `--down ROLE` show what a slow
// or stopped consumer does to each design; `--baseline` runs the synchronous version.

#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

#include "eda/cli.hpp"
#include "eda/clock.hpp"
#include "eda/latency.hpp"
#include "eda/narrator.hpp"
#include "eda/notification/baseline.hpp"
#include "eda/trace/demo_trace.hpp"
#include "roles.hpp"
#include "scenes.hpp"
#include "story.hpp"

namespace {

using namespace std::chrono_literals;
using namespace eda::notification;
using namespace eda::notification::demo;

// ---- The pattern, all roles in one process ---------------------------------------------------

/// The story, scene by scene (scenes.cpp).
int run_pattern(const Settings& s, eda::Narrator& say) {
  zmq::context_t context;
  const auto curve = eda::cli::curve_setup(context, s.curve_keys);
  PatternRun run(s, say, context, curve);
  open_order_service(run);
  start_consumers(run);
  start_trace(run);
  customer_places_orders(run);
  wind_down(run);
  if (eda::cli::stop_requested()) {
    say_stopped(run);
    return 0;
  }
  return summary(run) ? 0 : 1;
}

// ---- The baseline, all roles in one process ---------------------------------------------------

int run_baseline(const Settings& s, eda::Narrator& say) {
  zmq::context_t context;
  const auto curve = eda::cli::curve_setup(context, s.curve_keys);
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
                                             .work_time = work,
                                             .security = curve.server()}));
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
                .call_timeout = 1000ms,
                .security = curve.both()});
  std::thread order_thread([&] { orders.serve_while([&] { return !stop.load(); }, 5ms); });
  eda::RpcClient customer(context, {.endpoint = orders.api_endpoint(),
                                    .timeout = 30s,
                                    .attempts = 1,
                                    .security = curve.client()});
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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "notification-demo: event notification against the synchronous baseline.\n"
      "The Order service publishes a thin OrderPlaced; inventory, shipping and billing react\n"
      "and fetch the details back. With --baseline the Order service calls them itself.\n\n"
      "All roles in one process (default):\n"
      "  notification-demo [--baseline] [--count N] [--slow billing] [--down billing]\n"
      "One role per process (start the order service first), on one machine:\n"
      "  notification-demo --role order --events tcp://127.0.0.1:5556 --api tcp://127.0.0.1:5557\n"
      "  notification-demo --role billing --events tcp://127.0.0.1:5556 --api "
      "tcp://127.0.0.1:5557 --checkpoint billing.ckpt\n"
      "  notification-demo --role customer --api tcp://127.0.0.1:5557 --count 10\n"
      "On several machines, a role that binds gives tcp://*:PORT and the others the binding\n"
      "machine's name instead of 127.0.0.1 (every endpoint may also be ipc://PATH).\n"};
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
                 "File where a consumer keeps its progress (--role)")
      ->type_name("FILE");
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
