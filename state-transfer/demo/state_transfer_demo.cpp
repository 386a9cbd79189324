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

namespace {

using namespace std::chrono_literals;
using namespace eda::state_transfer;

/// Everything the command line says.
struct Settings {
  eda::cli::CommonOptions common{.transport = eda::Transport::tcp};
  bool baseline = false;
  std::string role = "all";
  std::size_t customers = 1000;
  bool late_joiner = false;
  std::size_t lose = 0;
  bool down = false;
  std::string updates = "tcp://127.0.0.1:5601";
  std::string snapshots = "tcp://127.0.0.1:5602";
  double rate = 20;  // changes per second (--role customer)
  int run_for_s = 600;
  int heartbeat_ms = 1000;  // ZMTP heartbeat interval of the roles' update connections
  bool trace = false;       // --trace: tap the updates Shipping receives
  std::string curve_keys;   // --curve-keys DIR: CURVE + ZAP on every socket

  /// The roles' ZMTP heartbeats: a PING every `heartbeat_ms`, a peer silent for three of them
  /// is cut off.
  [[nodiscard]] eda::Heartbeat heartbeat() const {
    const std::chrono::milliseconds interval(heartbeat_ms);
    return eda::Heartbeat{interval, 3 * interval, 3 * interval};
  }
};

std::uint64_t changes_made = 0;  // by the pattern's all-in-one run, across restarts
bool curve_on = false;           // --curve-keys given: a refused key is a likely cause of silence

/// How a staleness reads in a sentence.
std::string stale(std::chrono::nanoseconds staleness) {
  return eda::format_duration(staleness.count()) + " stale";
}

/// One shipping line: where the order goes.
std::string describe(const ShippingLabel& label) {
  return "order " + std::to_string(label.order_id) + " -> " + label.address +
         (label.express ? " [express]" : "");
}

/// ... and, for a label from a replica, how current that knowledge is.
std::string describe_from_replica(const ShippingLabel& label) {
  return describe(label) + "  (as of #" + std::to_string(label.as_of_sequence) + ", " +
         stale(label.staleness) + ")";
}

/// What the Customer service holds, read on its own thread.
struct SourceState {
  CustomerTable records;    // all its records
  std::uint64_t sequence;   // the sequence they are current to
  Incarnation incarnation;  // the run of the service they belong to
};

SourceState state_of(CustomerServiceThread& source) {
  return source.call([](CustomerService& service) {
    return SourceState{service.records(), service.sequence(), service.incarnation()};
  });
}

/// Requests the Customer service was sent that were not snapshot requests, as it counted
/// them: a lookup of one record would be one (it answers nothing else than snapshots).
std::uint64_t other_requests(CustomerServiceThread& source) {
  return source.call([](CustomerService& service) { return service.stats().bad_requests; });
}

/// Complete snapshots the Customer service sent.
std::uint64_t snapshots_served(CustomerServiceThread& source) {
  return source.call([](CustomerService& service) { return service.stats().snapshots_served; });
}

/// Makes one change on the Customer service's thread; returns what it was and its sequence.
std::pair<std::string, std::uint64_t> change(CustomerServiceThread& source,
                                             CustomerGenerator& generator) {
  ++changes_made;
  return source.call([&](CustomerService& service) {
    std::string what = make_random_change(service, generator);
    return std::pair{std::move(what), service.sequence()};
  });
}

/// The customer a change sentence names ("customer 12 moved to ..." -> 12).
CustomerId customer_in(const std::string& change) {
  return std::stoull(change.substr(change.find(' ') + 1));
}

/// A replica pumping on its own thread, reporting what it does through the narrator.
class ShippingReplica {
 public:
  ShippingReplica(zmq::context_t& context, eda::Narrator& say, std::string name,
                  std::string updates, std::string snapshots, eda::Heartbeat heartbeat = {})
      : replica_(context, {.name = name,
                           .updates_endpoint = std::move(updates),
                           .snapshot_endpoint = std::move(snapshots),
                           .silence_timeout = 500ms,
                           .heartbeat = heartbeat,
                           .report = [&say, name](std::string_view line) { say.say(name, line); }}),
        thread_([this](const std::stop_token& stop) { replica_.run(stop, 10ms); }) {}
  Replica& replica() { return replica_; }

 private:
  Replica replica_;
  std::jthread thread_;  // last: stops before the replica goes
};

/// Waits (bounded) for the replica to hold everything up to `sequence` (of the source's run
/// `incarnation`, when given).
void await_caught_up(Replica& replica, std::uint64_t sequence, Incarnation incarnation = 0) {
  if (!replica.await_sequence(sequence, 10s, incarnation)) {
    throw std::runtime_error(
        replica.name() + " did not catch up with #" + std::to_string(sequence) + " within 10 s" +
        (curve_on ? " (CURVE: is this client's key on the server's allow-list, "
                    "and is DIR/server.key the server's public key?)"
                  : ""));
  }
}

/// Says whether the replica holds exactly the source's records, and fails the demo if not.
void check_identical(eda::Narrator& say, Replica& replica, CustomerServiceThread& source) {
  const SourceState state = state_of(source);
  await_caught_up(replica, state.sequence, state.incarnation);
  if (replica.copy() != state.records) {
    throw std::runtime_error(replica.name() + " differs from the Customer service");
  }
  say.say(replica.name(),
          "identical to the Customer service: " + std::to_string(state.records.size()) +
              " records, as of #" + std::to_string(state.sequence));
}

int run_pattern(const Settings& s, eda::Narrator& say) {
  if (s.down && s.common.transport == eda::Transport::inproc) {
    throw std::invalid_argument(
        "--down needs --transport ipc or tcp: inproc connections do not "
        "reconnect to a restarted service");
  }
  zmq::context_t context;
  const auto curve = eda::cli::secure_context(context, s.curve_keys);
  curve_on = curve != nullptr;
  CustomerGenerator generator(2026);
  CustomerServiceOptions options{
      .update_endpoints = {eda::ephemeral_endpoint(s.common.transport, "customer-updates")},
      .snapshot_endpoints = {eda::ephemeral_endpoint(s.common.transport, "customer-snapshots")},
      .heartbeat_interval = 100ms};

  say.heading("Event-carried state transfer: Shipping keeps a replica of the customer records");
  auto source =
      std::make_unique<CustomerServiceThread>(context, options, generator.table(s.customers));
  options.update_endpoints = source->update_endpoints();  // real ports, to come back to
  options.snapshot_endpoints = source->snapshot_endpoints();
  say.say("customer-service", "owns " + std::to_string(s.customers) + " customers; updates on " +
                                  options.update_endpoints.front() + ", snapshots on " +
                                  options.snapshot_endpoints.front());

  // With --lose, Shipping's updates travel through a link that can drop them.
  std::optional<LossyLink> link;
  if (s.lose > 0) {
    link.emplace(context, LossyLinkOptions{.upstream = options.update_endpoints.front(),
                                           .downstream = eda::ephemeral_endpoint(s.common.transport,
                                                                                 "lossy-link")});
    say.say("network", "Shipping's updates pass through a lossy link at " + link->endpoint());
  }
  // The tap listens where Shipping does: through the lossy link when there is one, so the
  // trace shows the very gap the replica will notice.
  std::optional<eda::trace::DemoTrace> trace;
  if (s.trace) {
    say.say("tracer", "taps the updates Shipping receives");
    trace.emplace(context,
                  eda::trace::DemoTraceOptions{
                      .endpoints = {link ? link->endpoint() : options.update_endpoints.front()}});
  }
  // What the tap is to see: published after it joined, by the first run and the restarted one.
  const std::uint64_t published_before_tap = trace ? state_of(*source).sequence : 0;
  std::uint64_t published_before_restart = 0;  // by the run that --down stops
  ShippingReplica shipping(context, say, "shipping",
                           link ? link->endpoint() : options.update_endpoints.front(),
                           options.snapshot_endpoints.front());
  Replica& replica = shipping.replica();
  await_caught_up(replica, 0);
  const Shipping labels(replica);

  say.heading("Customers change; every change travels whole, Shipping reads its own copy");
  std::uint64_t order_id = 1000;
  std::uint64_t shipped = 0;
  const auto ship = [&](CustomerId customer) {
    const auto label = labels.label_for({.order_id = ++order_id, .customer_id = customer});
    if (label) {
      ++shipped;
      say.say("shipping", describe_from_replica(*label));
    } else {
      say.say("shipping", "order " + std::to_string(order_id) + ": customer " +
                              std::to_string(customer) + " has no record (closed)");
    }
  };
  // A stop request ends the run between two scenes (or two changes), saying what was done.
  const auto stopped = [&] {
    const ReplicaStatus status = replica.status();
    say.say("demo",
            "stopped: " + std::to_string(changes_made) + " changes made; Shipping's replica held " +
                std::to_string(status.records) + " records as of #" +
                std::to_string(status.sequence) +
                "; nothing kept (the Customer service and the replicas lived in this process)");
    return 0;
  };
  std::unique_ptr<ShippingReplica> late;
  for (std::size_t i = 0; i < s.common.count && !eda::cli::stop_requested(); ++i) {
    const auto [what, sequence] = change(*source, generator);
    say.say("customer-service", what + " -> published #" + std::to_string(sequence));
    await_caught_up(replica, sequence);
    ship(customer_in(what));
    if (s.late_joiner && i == s.common.count / 2 && !late) {
      say.heading("A second Shipping replica joins late, while changes keep coming");
      late = std::make_unique<ShippingReplica>(context, say, "shipping-2",
                                               options.update_endpoints.front(),
                                               options.snapshot_endpoints.front());
    }
  }
  if (eda::cli::stop_requested()) return stopped();
  if (late) {
    check_identical(say, late->replica(), *source);
  }

  if (link && !eda::cli::stop_requested()) {
    say.heading("The network loses " + std::to_string(s.lose) + " updates");
    link->lose_next(s.lose);
    std::uint64_t last = 0;
    for (std::size_t i = 0; i < s.lose + 3; ++i) {
      const auto [what, sequence] = change(*source, generator);
      say.say("customer-service", what + " -> published #" + std::to_string(sequence));
      last = sequence;
    }
    await_caught_up(replica, last);
    say.say("network", "lost " + std::to_string(link->stats().lost) + " updates on the way");
    check_identical(say, replica, *source);
  }

  // What the first run of the Customer service counted, before --down stops it.
  std::uint64_t lookups_before_restart = 0;
  std::uint64_t snapshots_before_restart = 0;
  if (s.down && !eda::cli::stop_requested()) {
    say.heading("The Customer service goes down; Shipping keeps shipping from its replica");
    published_before_restart = state_of(*source).sequence;
    lookups_before_restart = other_requests(*source);
    snapshots_before_restart = snapshots_served(*source);
    CustomerTable records = source->stop();
    source.reset();
    say.say("customer-service", "stopped");
    if (!replica.await_state(ReplicaState::source_silent, 10s)) {
      throw std::runtime_error("the replica did not notice that the source stopped");
    }
    for (CustomerId customer : {1, 2, 3}) {
      ship(customer);
    }
    say.heading("The Customer service comes back (a new run, with a change made meanwhile)");
    Customer moved = generator.moved(records.at(1));
    records.insert_or_assign(moved.id, moved);
    source = std::make_unique<CustomerServiceThread>(context, options, std::move(records));
    say.say("customer-service",
            "back on the same endpoints; customer 1 now lives in " + moved.city);
    if (!replica.await_state(ReplicaState::live, 10s)) {  // it re-syncs by itself
      throw std::runtime_error("the replica did not re-synchronise with the restarted source");
    }
    ship(1);
    check_identical(say, replica, *source);
    if (late) {
      check_identical(say, late->replica(), *source);
    }
  }

  if (eda::cli::stop_requested()) return stopped();
  const ReplicaStats stats = replica.stats();
  say.heading("Summary");
  say.say("shipping",
          std::to_string(shipped) + " labels printed from the replica; " +
              std::to_string(stats.snapshots) + " snapshots (" +
              std::to_string(stats.resyncs_after_gap) + " after a gap, " +
              std::to_string(stats.resyncs_after_silence + stats.resyncs_after_restart) +
              " after an outage), " + std::to_string(stats.updates) + " updates and " +
              std::to_string(stats.removals) + " removals applied");
  // Measured, not asserted: a Shipping that asked for records would show here.
  say.say(
      "customer-service",
      "lookups asked of it: " + std::to_string(lookups_before_restart + other_requests(*source)) +
          " (it counts every request that is not a snapshot request); it published " +
          std::to_string(changes_made) + " changes and served " +
          std::to_string(snapshots_before_restart + snapshots_served(*source)) +
          " snapshots to the replicas");
  if (trace) {
    // Every update, removal and heartbeat the source published, less what the link lost.
    const std::uint64_t published =
        published_before_restart + state_of(*source).sequence - published_before_tap;
    (void)trace->report(std::cout, published - (link ? link->stats().lost : 0));
  }
  return 0;
}

/// The baseline Customer service, answering on its own thread until stopped.
class BaselineOwner {
 public:
  BaselineOwner(zmq::context_t& context, std::string endpoint, CustomerTable records)
      : service_(context, {.endpoints = {std::move(endpoint)}}, std::move(records)),
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
  const auto curve = eda::cli::secure_context(context, s.curve_keys);
  curve_on = curve != nullptr;
  CustomerGenerator generator(2026);
  CustomerTable records = generator.table(s.customers);
  say.heading("Baseline: Shipping asks the Customer service for the record every time");
  auto owner = std::make_unique<BaselineOwner>(
      context, eda::ephemeral_endpoint(s.common.transport, "customer-api"), records);
  say.say("customer-service", "owns " + std::to_string(s.customers) + " customers; answers " +
                                  std::string(baseline::method::get_customer) + " on " +
                                  owner->endpoint());
  baseline::SyncShipping shipping(context,
                                  {.endpoint = owner->endpoint(), .timeout = 300ms, .attempts = 2});
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
    for (CustomerId customer : {1, 2, 3}) {
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
  const auto curve = eda::cli::secure_context(context, s.curve_keys);
  curve_on = curve != nullptr;
  CustomerGenerator generator(2026);
  CustomerService service(context,
                          {.update_endpoints = {s.updates},
                           .snapshot_endpoints = {s.snapshots},
                           .heartbeat = s.heartbeat()},
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
  const auto curve = eda::cli::secure_context(context, s.curve_keys);
  curve_on = curve != nullptr;
  ShippingReplica shipping(context, say, "shipping", s.updates, s.snapshots, s.heartbeat());
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
