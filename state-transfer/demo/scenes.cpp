#include "scenes.hpp"

#include <iostream>
#include <stdexcept>
#include <string>
#include <utility>

#include "eda/cli.hpp"
#include "eda/endpoint.hpp"

namespace eda::state_transfer::demo {

using namespace std::chrono_literals;

namespace {

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
std::pair<std::string, std::uint64_t> change(ReplicaRun& run) {
  ++run.changes_made;
  return run.source->call([&](CustomerService& service) {
    std::string what = make_random_change(service, run.generator);
    return std::pair{std::move(what), service.sequence()};
  });
}

/// The customer a change sentence names ("customer 12 moved to ..." -> 12).
CustomerId customer_in(const std::string& change) {
  return std::stoull(change.substr(change.find(' ') + 1));
}

/// Waits (bounded) for the replica to hold everything up to `sequence` (of the source's run
/// `incarnation`, when given).
void await_caught_up(const ReplicaRun& run, Replica& replica, std::uint64_t sequence,
                     Incarnation incarnation = 0) {
  if (!replica.await_sequence(sequence, 10s, incarnation)) {
    throw std::runtime_error(
        replica.name() + " did not catch up with #" + std::to_string(sequence) + " within 10 s" +
        (run.curve.is_on() ? " (CURVE: is this client's key on the server's allow-list, "
                             "and is DIR/server.key the server's public key?)"
                           : ""));
  }
}

/// Says whether the replica holds exactly the source's records, and fails the demo if not.
void check_identical(ReplicaRun& run, Replica& replica) {
  const SourceState state = state_of(*run.source);
  await_caught_up(run, replica, state.sequence, state.incarnation);
  if (replica.copy() != state.records) {
    throw std::runtime_error(replica.name() + " differs from the Customer service");
  }
  run.say.say(replica.name(),
              "identical to the Customer service: " + std::to_string(state.records.size()) +
                  " records, as of #" + std::to_string(state.sequence));
}

/// Shipping makes a label for a new order of `customer`, from its replica.
void ship(ReplicaRun& run, CustomerId customer) {
  const auto label = run.labels->label_for({.order_id = ++run.order_id, .customer_id = customer});
  if (label) {
    ++run.shipped;
    run.say.say("shipping", describe_from_replica(*label));
  } else {
    run.say.say("shipping", "order " + std::to_string(run.order_id) + ": customer " +
                                std::to_string(customer) + " has no record (closed)");
  }
}

/// One change, published whole.
std::pair<std::string, std::uint64_t> publish_change(ReplicaRun& run) {
  auto [what, sequence] = change(run);
  run.say.say("customer-service", what + " -> published #" + std::to_string(sequence));
  return {std::move(what), sequence};
}

}  // namespace

ReplicaRun::ReplicaRun(const Settings& run_settings, Narrator& narrator,
                       zmq::context_t& run_context, const CurveSetup& run_curve)
    : settings(run_settings),
      say(narrator),
      context(run_context),
      curve(run_curve),
      options{.update_endpoints = {eda::ephemeral_endpoint(run_settings.common.transport,
                                                           "customer-updates")},
              .snapshot_endpoints = {eda::ephemeral_endpoint(run_settings.common.transport,
                                                             "customer-snapshots")},
              .heartbeat_interval = 100ms,
              .security = run_curve.server()} {}

void open_customer_service(ReplicaRun& run) {
  run.say.heading("Event-carried state transfer: Shipping keeps a replica of the customer records");
  run.source = std::make_unique<CustomerServiceThread>(run.context, run.options,
                                                       run.generator.table(run.settings.customers));
  run.options.update_endpoints = run.source->update_endpoints();  // real ports, to come back to
  run.options.snapshot_endpoints = run.source->snapshot_endpoints();
  run.say.say("customer-service", "owns " + std::to_string(run.settings.customers) +
                                      " customers; updates on " +
                                      run.options.update_endpoints.front() + ", snapshots on " +
                                      run.options.snapshot_endpoints.front());
}

void connect_shipping(ReplicaRun& run) {
  const Settings& s = run.settings;
  // With --lose, Shipping's updates travel through a link that can drop them.
  if (s.lose > 0) {
    run.link.emplace(run.context, LossyLinkOptions{.upstream = run.options.update_endpoints.front(),
                                                   .downstream = eda::ephemeral_endpoint(
                                                       s.common.transport, "lossy-link"),
                                                   .security = run.curve.both()});
    run.say.say("network",
                "Shipping's updates pass through a lossy link at " + run.link->endpoint());
  }
  const std::string updates =
      run.link ? run.link->endpoint() : run.options.update_endpoints.front();
  // The tap listens where Shipping does: through the lossy link when there is one, so the
  // trace shows the very gap the replica will notice.
  if (s.trace) {
    run.say.say("tracer", "taps the updates Shipping receives");
    run.trace.emplace(run.context, eda::trace::DemoTraceOptions{.endpoints = {updates},
                                                                .security = run.curve.client()});
  }
  // What the tap is to see: published after it joined, by the first run and the restarted one.
  run.published_before_tap = run.trace ? state_of(*run.source).sequence : 0;
  run.shipping.emplace(run.context, run.say, "shipping", updates,
                       run.options.snapshot_endpoints.front(), run.curve.client());
  await_caught_up(run, run.shipping->replica(), 0);
  run.labels.emplace(run.shipping->replica());
}

bool customers_change(ReplicaRun& run) {
  const Settings& s = run.settings;
  run.say.heading("Customers change; every change travels whole, Shipping reads its own copy");
  for (std::size_t i = 0; i < s.common.count && !eda::cli::stop_requested(); ++i) {
    const auto [what, sequence] = publish_change(run);
    await_caught_up(run, run.shipping->replica(), sequence);
    ship(run, customer_in(what));
    if (s.late_joiner && i == s.common.count / 2 && !run.late) {
      run.say.heading("A second Shipping replica joins late, while changes keep coming");
      run.late = std::make_unique<ShippingReplica>(
          run.context, run.say, "shipping-2", run.options.update_endpoints.front(),
          run.options.snapshot_endpoints.front(), run.curve.client());
    }
  }
  if (eda::cli::stop_requested()) return false;
  if (run.late) check_identical(run, run.late->replica());
  return true;
}

void network_loses_updates(ReplicaRun& run) {
  const std::size_t lose = run.settings.lose;
  run.say.heading("The network loses " + std::to_string(lose) + " updates");
  run.link->lose_next(lose);
  std::uint64_t last = 0;
  for (std::size_t i = 0; i < lose + 3; ++i) last = publish_change(run).second;
  await_caught_up(run, run.shipping->replica(), last);
  run.say.say("network", "lost " + std::to_string(run.link->stats().lost) + " updates on the way");
  check_identical(run, run.shipping->replica());
}

void customer_service_goes_down_and_back(ReplicaRun& run) {
  Replica& replica = run.shipping->replica();
  run.say.heading("The Customer service goes down; Shipping keeps shipping from its replica");
  // What the first run of the Customer service counted, before it stops.
  run.published_before_restart = state_of(*run.source).sequence;
  run.lookups_before_restart = other_requests(*run.source);
  run.snapshots_before_restart = snapshots_served(*run.source);
  CustomerTable records = run.source->stop();
  run.source.reset();
  run.say.say("customer-service", "stopped");
  if (!replica.await_state(ReplicaState::source_silent, 10s)) {
    throw std::runtime_error("the replica did not notice that the source stopped");
  }
  for (CustomerId customer : {1U, 2U, 3U}) ship(run, customer);

  run.say.heading("The Customer service comes back (a new run, with a change made meanwhile)");
  Customer moved = run.generator.moved(records.at(1));
  records.insert_or_assign(moved.id, moved);
  run.source =
      std::make_unique<CustomerServiceThread>(run.context, run.options, std::move(records));
  run.say.say("customer-service",
              "back on the same endpoints; customer 1 now lives in " + moved.city);
  if (!replica.await_state(ReplicaState::live, 10s)) {  // it re-syncs by itself
    throw std::runtime_error("the replica did not re-synchronise with the restarted source");
  }
  ship(run, 1);
  check_identical(run, replica);
  if (run.late) check_identical(run, run.late->replica());
}

int say_stopped(ReplicaRun& run) {
  const ReplicaStatus status = run.shipping->replica().status();
  run.say.say("demo", "stopped: " + std::to_string(run.changes_made) +
                          " changes made; Shipping's replica held " +
                          std::to_string(status.records) + " records as of #" +
                          std::to_string(status.sequence) +
                          "; nothing kept (the Customer service and the replicas lived in this "
                          "process)");
  return 0;
}

void summary(ReplicaRun& run) {
  const ReplicaStats stats = run.shipping->replica().stats();
  run.say.heading("Summary");
  run.say.say("shipping",
              std::to_string(run.shipped) + " labels printed from the replica; " +
                  std::to_string(stats.snapshots) + " snapshots (" +
                  std::to_string(stats.resyncs_after_gap) + " after a gap, " +
                  std::to_string(stats.resyncs_after_silence + stats.resyncs_after_restart) +
                  " after an outage), " + std::to_string(stats.updates) + " updates and " +
                  std::to_string(stats.removals) + " removals applied");
  // Measured, not asserted: a Shipping that asked for records would show here.
  run.say.say("customer-service",
              "lookups asked of it: " +
                  std::to_string(run.lookups_before_restart + other_requests(*run.source)) +
                  " (it counts every request that is not a snapshot request); it published " +
                  std::to_string(run.changes_made) + " changes and served " +
                  std::to_string(run.snapshots_before_restart + snapshots_served(*run.source)) +
                  " snapshots to the replicas");
  if (run.trace) {
    // Every update, removal and heartbeat the source published, less what the link lost.
    const std::uint64_t published =
        run.published_before_restart + state_of(*run.source).sequence - run.published_before_tap;
    (void)run.trace->report(std::cout, published - (run.link ? run.link->stats().lost : 0));
  }
}

}  // namespace eda::state_transfer::demo
