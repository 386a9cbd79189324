// state-transfer-demo: event-carried state transfer against its synchronous baseline, on the
// shop's story.
//
// All roles in one process by default (threads talking over inproc, ipc or tcp), narrated.
// Scenes are added with flags: `--late-joiner` (a second replica joins mid-stream and ends up
// identical), `--lose N` (a lossy link drops N updates; the replica notices and re-syncs),
// `--down` (the Customer service goes away; Shipping keeps shipping from its replica, the
// baseline cannot). `--baseline` runs the synchronous version; `--role` runs one role as its
// own process.

#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>

#include "eda/cli.hpp"
#include "eda/clock.hpp"
#include "eda/codec.hpp"
#include "eda/latency.hpp"
#include "eda/narrator.hpp"
#include "eda/state_transfer/baseline.hpp"
#include "eda/state_transfer/lossy_link.hpp"
#include "eda/state_transfer/replica.hpp"
#include "eda/state_transfer/service_thread.hpp"
#include "eda/state_transfer/shipping.hpp"
#include "eda/trace/demo_trace.hpp"
#include "scenes.hpp"
#include "story.hpp"

namespace {

using namespace std::chrono_literals;
using namespace eda::state_transfer;

using namespace eda::state_transfer::demo;

/// The story, scene by scene (scenes.cpp); the flags add scenes. A stop request ends it
/// between two scenes (or two changes), saying what was done.
int run_pattern(const Settings& s, eda::Narrator& say) {
  if (s.down && s.common.transport == eda::Transport::inproc) {
    throw std::invalid_argument(
        "--down needs --transport ipc or tcp: inproc connections do not "
        "reconnect to a restarted service");
  }
  zmq::context_t context;
  const auto curve = eda::cli::curve_setup(context, s.curve_keys);
  ReplicaRun run(s, say, context, curve);
  open_customer_service(run);
  connect_shipping(run);
  if (!customers_change(run)) return say_stopped(run);
  if (s.lose > 0 && !eda::cli::stop_requested()) network_loses_updates(run);
  if (s.down && !eda::cli::stop_requested()) customer_service_goes_down_and_back(run);
  if (eda::cli::stop_requested()) return say_stopped(run);
  summary(run);
  return 0;
}

/// The baseline Customer service, answering on its own thread until stopped.
class BaselineOwner {
 public:
  BaselineOwner(zmq::context_t& context, std::string endpoint, CustomerTable records,
                eda::Security security)
      : service_(context, {.endpoints = {std::move(endpoint)}, .security = std::move(security)},
                 std::move(records)),
        thread_([this](const std::stop_token& stop) {
          service_.serve_while([&] { return !stop.stop_requested(); }, 10ms);
        }) {}
  [[nodiscard]] const std::string& endpoint() const { return service_.endpoints().front(); }
  /// Stops serving; the service (and its socket) stays until destruction.
  std::uint64_t stop() {
    thread_.request_stop();
    if (thread_.joinable()) thread_.join();
    return service_.lookups_served();
  }

 private:
  baseline::CustomerService service_;
  std::jthread thread_;
};

int run_baseline(const Settings& s, eda::Narrator& say) {
  zmq::context_t context;
  const auto curve = eda::cli::curve_setup(context, s.curve_keys);
  CustomerGenerator generator(2026);
  CustomerTable records = generator.table(s.customers);
  say.heading("Baseline: Shipping asks the Customer service for the record every time");
  auto owner = std::make_unique<BaselineOwner>(
      context, eda::ephemeral_endpoint(s.common.transport, "customer-api"), records,
      curve.server());
  say.say("customer-service", "owns " + std::to_string(s.customers) + " customers; answers " +
                                  std::string(baseline::method::get_customer) + " on " +
                                  owner->endpoint());
  baseline::SyncShipping shipping(
      context,
      {.endpoint = owner->endpoint(), .timeout = 300ms, .attempts = 2, .security = curve.client()});
  std::uint64_t order_id = 1000;
  std::uint64_t shipped = 0;
  std::uint64_t failed = 0;
  const auto ship = [&](CustomerId customer) {
    const std::int64_t start = eda::monotonic_ns();
    try {
      const auto label = shipping.label_for({.order_id = ++order_id, .customer_id = customer});
      const std::string took = eda::format_duration(eda::monotonic_ns() - start);
      if (label) {
        ++shipped;
        say.say("shipping", describe(*label) + ", asked the Customer service (" + took + ")");
      } else {
        say.say("shipping", "order " + std::to_string(order_id) + ": no such customer");
      }
    } catch (const eda::RpcTimeout& e) {
      if (eda::cli::stop_requested()) return;  // the stop ended the call: not a failure
      ++failed;
      say.say("shipping", "order " + std::to_string(order_id) + " NOT shipped: " + e.what());
    }
  };
  for (std::size_t i = 0; i < s.common.count && !eda::cli::stop_requested(); ++i) {
    ship(generator.below(s.customers) + 1);
  }
  if (eda::cli::stop_requested()) {
    say.say(
        "demo",
        "stopped: " + std::to_string(shipped) + " labels printed, " + std::to_string(failed) +
            " orders could not ship; nothing kept (the Customer service lived in this process)");
    return 0;
  }
  std::uint64_t served = 0;
  if (s.down) {
    say.heading("The Customer service goes down; Shipping cannot ship");
    served += owner->stop();
    owner.reset();
    say.say("customer-service", "stopped");
    for (CustomerId customer : {1U, 2U, 3U}) {
      ship(customer);
    }
  } else {
    served += owner->stop();
  }
  say.heading("Summary");
  say.say("shipping", std::to_string(shipped) + " labels printed, " + std::to_string(failed) +
                          " orders could not ship; " + std::to_string(shipping.calls()) +
                          " calls to the Customer service");
  say.say("customer-service",
          "lookups served for Shipping: " + std::to_string(served) + " (one per shipment)");
  return 0;
}

/// --role customer: the Customer service as its own process, changing customers at a rate.
int run_customer_role(const Settings& s, eda::Narrator& say) {
  zmq::context_t context;
  const auto curve = eda::cli::curve_setup(context, s.curve_keys);
  CustomerGenerator generator(2026);
  CustomerService service(context,
                          {.update_endpoints = {s.updates},
                           .snapshot_endpoints = {s.snapshots},
                           .heartbeat = s.heartbeat(),
                           .security = curve.server()},
                          generator.table(s.customers));
  say.say("customer-service", "owns " + std::to_string(s.customers) + " customers; updates on " +
                                  service.update_endpoints().front() + ", snapshots on " +
                                  service.snapshot_endpoints().front() + " (" +
                                  std::to_string(s.run_for_s) + " s)");
  const eda::Deadline done(std::chrono::seconds(s.run_for_s));
  const auto period = std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / s.rate));
  auto next = eda::MonotonicClock::now();
  std::uint64_t snapshots = 0;
  std::uint64_t replicas_lost = 0;
  while (!done.expired() && !eda::cli::stop_requested()) {
    service.serve(std::chrono::ceil<std::chrono::milliseconds>(
        std::max(next - eda::MonotonicClock::now(), eda::MonotonicClock::duration::zero())));
    if (service.stats().snapshots_served != snapshots) {
      snapshots = service.stats().snapshots_served;
      say.say("customer-service", "served snapshot #" + std::to_string(snapshots) + " (" +
                                      std::to_string(service.records().size()) +
                                      " records, as of #" + std::to_string(service.sequence()) +
                                      ")");
    }
    if (const eda::PeerStatus& replicas = service.replica_connections();
        replicas.disconnects != replicas_lost) {
      replicas_lost = replicas.disconnects;
      say.say("customer-service",
              "a replica's connection was closed (it stopped answering "
              "heartbeats, or went away): its queue is freed; " +
                  std::to_string(replicas.open) + " open");
    }
    if (eda::MonotonicClock::now() >= next) {
      const std::string what = make_random_change(service, generator);
      say.detail("customer-service", what + " -> #" + std::to_string(service.sequence()));
      next += period;
    }
  }
  say.say("customer-service",
          "stopped: " + std::to_string(service.sequence()) + " messages published (" +
              std::to_string(service.stats().updates) + " updates, " +
              std::to_string(service.stats().removals) + " removals, " +
              std::to_string(service.stats().heartbeats) + " heartbeats); " +
              std::to_string(service.records().size()) + " records, fingerprint " +
              fingerprint(service.records()) +
              "; nothing kept (the records lived in memory; replicas keep their copies)");
  return 0;
}

/// --role shipping: a replica as its own process, shipping an order every 200 ms.
int run_shipping_role(const Settings& s, eda::Narrator& say) {
  zmq::context_t context;
  const auto curve = eda::cli::curve_setup(context, s.curve_keys);
  ShippingReplica shipping(context, say, "shipping", s.updates, s.snapshots, curve.client(),
                           s.heartbeat());
  Replica& replica = shipping.replica();
  const Shipping labels(replica);
  CustomerGenerator generator(7);
  const eda::Deadline done(std::chrono::seconds(s.run_for_s));
  std::uint64_t order_id = 1000;
  while (!done.expired() && !eda::cli::stop_requested()) {
    std::this_thread::sleep_for(200ms);  // the pace of orders arriving, not a synchronisation
    const ReplicaStatus status = replica.status();
    if (status.state == ReplicaState::waiting_for_source) {
      say.say("shipping", "waiting for the Customer service at " + s.snapshots);
      continue;
    }
    const CustomerId customer = generator.below(std::max<std::size_t>(status.records, 1)) + 1;
    if (const auto label = labels.label_for({.order_id = ++order_id, .customer_id = customer})) {
      say.say("shipping",
              describe_from_replica(*label) + ", " + std::string(to_string(status.state)));
    }
  }
  const ReplicaStatus status = replica.status();
  const std::string print = replica.read(
      [](const CustomerTable& records, std::uint64_t) { return fingerprint(records); });
  say.say("shipping",
          "stopped: " + std::to_string(status.records) + " records as of #" +
              std::to_string(status.sequence) + ", " + std::string(to_string(status.state)) +
              ", fingerprint " + print +
              "; nothing kept (the replica lived in memory: a new run starts from a snapshot)");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "state-transfer-demo: event-carried state transfer against the synchronous baseline.\n"
      "The Customer service publishes every change with the whole record; Shipping keeps a\n"
      "replica (snapshot + sequenced updates, the ZeroMQ Guide's Clone pattern) and never\n"
      "calls it. With --baseline, Shipping asks the Customer service for every label.\n\n"
      "All roles in one process (default):\n"
      "  state-transfer-demo [--baseline] [--count N] [--late-joiner] [--lose N] [--down]\n"
      "One role per process (either may start first), on one machine:\n"
      "  state-transfer-demo --role customer --updates tcp://127.0.0.1:5601 --snapshots "
      "tcp://127.0.0.1:5602\n"
      "  state-transfer-demo --role shipping --updates tcp://127.0.0.1:5601 --snapshots "
      "tcp://127.0.0.1:5602\n"
      "On several machines, a role that binds gives tcp://*:PORT and the others the binding\n"
      "machine's name instead of 127.0.0.1 (every endpoint may also be ipc://PATH).\n"};
  Settings s;
  eda::cli::add_common_options(app, s.common, 100'000);
  app.add_flag("--baseline", s.baseline, "Run the synchronous request-response version instead");
  app.add_option("--role", s.role, "all (default), customer or shipping")
      ->check(CLI::IsMember({"all", "customer", "shipping"}));
  app.add_option("--customers", s.customers, "Customer records the Customer service starts with")
      ->check(CLI::Range(1, 5'000'000))
      ->capture_default_str();
  app.add_flag("--late-joiner", s.late_joiner,
               "A second replica joins halfway through the changes and must end up identical");
  app.add_option("--lose", s.lose, "The network loses this many updates; the replica re-syncs")
      ->check(CLI::Range(1, 100'000));
  app.add_flag("--down", s.down,
               "Stop the Customer service: Shipping keeps shipping (the baseline cannot)");
  eda::cli::add_endpoint_option(app, "--updates", s.updates, "Customer updates endpoint (--role)")
      ->capture_default_str();
  eda::cli::add_endpoint_option(app, "--snapshots", s.snapshots,
                                "Customer snapshots endpoint (--role)")
      ->capture_default_str();
  app.add_option("--rate", s.rate, "Changes per second (--role customer)")
      ->check(CLI::Range(0.1, 100'000.0))
      ->capture_default_str();
  app.add_option("--run-for", s.run_for_s, "Seconds a role runs before it exits")
      ->check(CLI::Range(1, 86'400))
      ->capture_default_str();
  app.add_option("--heartbeat-ms", s.heartbeat_ms,
                 "ZMTP heartbeat interval of the roles' update connections; a peer silent for "
                 "three intervals (frozen, its host gone) is cut off and reconnected")
      ->check(CLI::Range(10, 60'000))
      ->capture_default_str();
  app.add_flag("--trace", s.trace, eda::trace::trace_flag_help);
  eda::cli::add_curve_keys_option(app, s.curve_keys);
  return eda::cli::run(app, argc, argv, [&] {
    const eda::cli::StopOnSignals stop_on_signals;  // Ctrl-C and SIGTERM: a clean stop
    eda::Narrator say(std::cout, s.common.verbosity);
    if (s.trace && (s.baseline || s.role != "all")) {
      throw std::invalid_argument(
          "--trace shows the all-in-one pattern run (the baseline sends no "
          "events; for separate processes, run eda-trace live)");
    }
    if (s.role == "customer") return run_customer_role(s, say);
    if (s.role == "shipping") return run_shipping_role(s, say);
    if (s.baseline && (s.lose > 0 || s.late_joiner)) {
      throw std::invalid_argument(
          "--lose and --late-joiner show the replica: the baseline has none");
    }
    return s.baseline ? run_baseline(s, say) : run_pattern(s, say);
  });
}
