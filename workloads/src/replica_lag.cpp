#include "eda/workloads/replica_lag.hpp"

#include <chrono>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include <zmq.hpp>

#include "eda/clock.hpp"
#include "eda/envelope.hpp"
#include "eda/state_transfer/customer.hpp"
#include "eda/state_transfer/customer_service.hpp"
#include "eda/state_transfer/replica.hpp"
#include "eda/workloads/customer_lookups.hpp"

namespace eda::workloads {

using namespace std::chrono_literals;
using namespace eda::state_transfer;

namespace {

/// The replica's options: following `source`, recording each change's lag in `lag` (on the
/// replica's thread).
ReplicaOptions lag_recording_replica(const CustomerService& source, LatencyRecorder& lag) {
  ReplicaOptions options = replica_of(source, "shipping");
  options.applied = [&lag](const EventMetadata& meta) {
    if (meta.type == CustomerUpdated::event_type) {  // not the heartbeats
      lag.record(wall_clock_ns() - meta.timestamp_ns);
    }
  };
  return options;
}

}  // namespace

/// Declared in the order they are built; the replica's thread stops first.
struct ReplicaLagRun::Parts {
  explicit Parts(const ReplicaLagOptions& run_options)
      : options(run_options),
        source(context, customer_service_options(), CustomerGenerator().table(options.customers)),
        moves(planned_moves(source.records(), options.changes)),
        follower(context, lag_recording_replica(source, lag)) {}

  ReplicaLagOptions options;
  zmq::context_t context;
  CustomerService source;
  std::vector<Customer> moves;
  LatencyRecorder lag;  // written on the replica's thread only, read after it stopped
  FollowingReplica follower;
  double publish_seconds = 0;
};

ReplicaLagRun::ReplicaLagRun(ReplicaLagOptions options) : parts_(std::make_unique<Parts>(options)) {
  Parts& parts = *parts_;
  // The source answers the replica's handshake and snapshot request from this thread.
  const Deadline synchronised(30s);
  while (!is_live(parts.follower.replica()) && !synchronised.expired()) parts.source.serve(1ms);
  if (!is_live(parts.follower.replica())) {
    throw std::runtime_error("the replica did not synchronise within 30 s");
  }
}

ReplicaLagRun::~ReplicaLagRun() = default;

void ReplicaLagRun::publish() {
  Parts& parts = *parts_;
  Replica& replica = parts.follower.replica();
  const std::int64_t period_ns =
      1'000'000'000 / static_cast<std::int64_t>(parts.options.changes_per_second);
  const std::int64_t start = monotonic_ns();
  std::uint64_t last = 0;
  for (std::uint64_t i = 0; i < parts.options.changes; ++i) {
    // Busy pacing, yielding so that the replica and ZeroMQ's I/O thread keep a core on a
    // small machine.
    const std::int64_t due = start + static_cast<std::int64_t>(i) * period_ns;
    while (monotonic_ns() < due) std::this_thread::yield();
    last = parts.source.upsert(parts.moves[i]);
  }
  parts.publish_seconds = static_cast<double>(monotonic_ns() - start) / 1e9;
  // Serving meanwhile, in case the replica lost an update and asks for a snapshot.
  const Deadline drained(30s);
  while (!replica.await_sequence(last, 1ms) && !drained.expired()) parts.source.serve(0ms);
  if (!replica.await_sequence(last, 0ms)) {
    throw std::runtime_error("the replica did not catch up within 30 s");
  }
}

void ReplicaLagRun::stop() { parts_->follower.stop(); }

const LatencyRecorder& ReplicaLagRun::lag() const { return parts_->lag; }

double ReplicaLagRun::changes_per_second() const {
  return parts_->publish_seconds > 0
             ? static_cast<double>(parts_->options.changes) / parts_->publish_seconds
             : 0.0;
}

std::uint64_t ReplicaLagRun::resyncs() const {
  const ReplicaStats stats = parts_->follower.replica().stats();
  return stats.resyncs_after_gap + stats.resyncs_after_silence + stats.resyncs_after_restart +
         stats.resyncs_after_bad_update;
}

}  // namespace eda::workloads
