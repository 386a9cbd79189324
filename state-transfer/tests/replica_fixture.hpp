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

}  // namespace eda::state_transfer::test
