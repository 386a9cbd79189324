// Helpers for the state-transfer tests: endpoints, replicas that pump on their own thread,
// and bounded waits for convergence.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <stop_token>
#include <thread>
#include <utility>

#include "eda/clock.hpp"
#include "eda/endpoint.hpp"
#include "eda/state_transfer/lossy_link.hpp"
#include "eda/state_transfer/replica.hpp"
#include "eda/state_transfer/service_thread.hpp"

namespace eda::state_transfer::test {

using namespace std::chrono_literals;

/// Options for a Customer service on ephemeral endpoints of `transport`.
inline CustomerServiceOptions service_options(Transport transport = Transport::tcp) {
  return CustomerServiceOptions{
      .update_endpoints = {ephemeral_endpoint(transport, "customer-updates")},
      .snapshot_endpoints = {ephemeral_endpoint(transport, "customer-snapshots")}};
}

/// Options for a replica of `source`, named `name`.
inline ReplicaOptions replica_options(const CustomerServiceThread& source, std::string name) {
  return ReplicaOptions{.name = std::move(name),
                        .updates_endpoint = source.update_endpoints().front(),
                        .snapshot_endpoint = source.snapshot_endpoints().front()};
}

/// A replica pumping on its own thread until destroyed.
class RunningReplica {
 public:
  RunningReplica(zmq::context_t& context, ReplicaOptions options)
      : replica_(context, std::move(options)),
        thread_([this](const std::stop_token& stop) { replica_.run(stop, 5ms); }) {}
  Replica& operator*() { return replica_; }
  Replica* operator->() { return &replica_; }

 private:
  Replica replica_;
  std::jthread thread_;  // declared last: stops before the replica is destroyed
};

/// Waits (bounded) until `condition()` holds, pumping `replica` on this thread meanwhile.
inline bool pump_until(Replica& replica, const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = 20s) {
  const Deadline deadline(timeout);
  while (!condition()) {
    if (deadline.expired()) {
      return false;
    }
    replica.pump(10ms);
  }
  return true;
}

/// Waits (bounded) until `condition()` holds, for replicas pumped by their own thread.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = 20s) {
  const Deadline deadline(timeout);
  while (!condition()) {
    if (deadline.expired()) {
      return false;
    }
    std::this_thread::sleep_for(2ms);  // polling a condition owned by other threads
  }
  return true;
}

/// What the source holds, read on its own thread.
struct SourceState {
  CustomerTable records;    ///< All its records.
  std::uint64_t sequence;   ///< The sequence they are current to.
  Incarnation incarnation;  ///< The run of the source they belong to.
};

/// The source's records, the sequence they are current to and its run.
inline SourceState source_state(CustomerServiceThread& source) {
  return source.call([](CustomerService& service) {
    return SourceState{service.records(), service.sequence(), service.incarnation()};
  });
}

/// Whether the replica holds exactly the source's records (waiting, bounded, until it follows
/// the source's current run and has caught up with its current sequence).
inline bool converged(Replica& replica, CustomerServiceThread& source) {
  const SourceState state = source_state(source);
  return replica.await_sequence(state.sequence, 20s, state.incarnation) &&
         replica.copy() == state.records;
}

/// A quiet source (one heartbeat at start, then only what a test publishes), a lossy link in
/// front of its updates, and a replica behind the link pumped by the test's own thread, live.
struct ReplicaBehindLink {
  ReplicaBehindLink(zmq::context_t& context, std::size_t records)
      : source(context, quiet_options(), CustomerGenerator(1).table(records)),
        link(context, {.upstream = source.update_endpoints().front()}),
        replica(context, {.name = "shipping",
                          .updates_endpoint = link.endpoint(),
                          .snapshot_endpoint = source.snapshot_endpoints().front()}) {}

  /// Pumps until the replica is live; false if it did not get there in time.
  bool go_live() {
    return pump_until(replica, [&] { return replica.status().state == ReplicaState::live; });
  }

  CustomerServiceThread source;  ///< The Customer service.
  LossyLink link;                ///< Between its updates and the replica.
  Replica replica;               ///< Pumped by the test.

 private:
  static CustomerServiceOptions quiet_options() {
    auto options = service_options();
    options.heartbeat_interval = std::chrono::hours(1);
    return options;
  }
};

}  // namespace eda::state_transfer::test
