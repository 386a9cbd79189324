/// @file customer_lookups.hpp
/// @brief Shipping making labels, from its replica (event-carried state transfer) or by
///        asking the Customer service (the baseline): the services wired as bench-state-transfer
///        and the tour's state-transfer stop both run them, and the label latency both report.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <zmq.hpp>

#include "eda/clock.hpp"
#include "eda/latency.hpp"
#include "eda/state_transfer/customer.hpp"
#include "eda/state_transfer/customer_service.hpp"
#include "eda/state_transfer/replica.hpp"
#include "eda/state_transfer/service_thread.hpp"
#include "eda/state_transfer/shipping.hpp"

namespace eda::workloads {

/// @brief The customers the Customer service owns in bench-state-transfer's lookups and lag
///        run (the tour uses as many, or a tenth under `--quick`).
inline constexpr std::size_t suite_customers = 10'000;

/// @brief A Customer service on ephemeral tcp loopback ports.
state_transfer::CustomerServiceOptions customer_service_options();

/// @brief A replica named `name` of `source` (a CustomerService or a CustomerServiceThread).
template <class Source>
state_transfer::ReplicaOptions replica_of(const Source& source, std::string name) {
  return {.name = std::move(name),
          .updates_endpoint = source.update_endpoints().front(),
          .snapshot_endpoint = source.snapshot_endpoints().front()};
}

/// @brief A Replica that follows its source on a thread of its own, as a Shipping service's
///        would.
class FollowingReplica {
 public:
  /// @brief A replica made with `options`, following at once.
  FollowingReplica(zmq::context_t& context, state_transfer::ReplicaOptions options);

  /// @brief The replica.
  state_transfer::Replica& replica() noexcept { return replica_; }

  /// @brief Stops following; afterwards, what the following thread wrote may be read safely.
  void stop();

 private:
  state_transfer::Replica replica_;
  std::jthread follower_;  // declared last: stops before the replica is destroyed
};

/// @brief Whether `replica` has synchronised and is following its source.
bool is_live(const state_transfer::Replica& replica);

/// @brief The requests the Customer service (running on `source`'s thread) has served to
///        replicas: complete snapshots, the only thing a replica asks for.
std::uint64_t snapshots_served(state_transfer::CustomerServiceThread& source);

/// @brief The orders Shipping ships: order 1, 2, ... to pseudo-random customers with ids in
///        1..customers, drawn in advance from a fixed seed, so that both designs ship to the
///        same customers at no cost to either.
class ShippingPlan {
 public:
  /// @brief A plan over customers 1..`customers`.
  explicit ShippingPlan(std::size_t customers);
  /// @brief The next order to ship.
  state_transfer::ShipOrder next() {
    ++orders_;
    return {.order_id = orders_, .customer_id = customers_[orders_ & (plan_size - 1)]};
  }

 private:
  // The length of the plan (a power of two, so `n & (plan_size - 1)` cycles through it).
  static constexpr std::size_t plan_size = std::size_t{1} << 16;
  std::vector<state_transfer::CustomerId> customers_;
  std::uint64_t orders_ = 0;
};

/// @brief Makes the label for `order` with `shipping` (the pattern's Shipping or the
///        baseline's SyncShipping) and records how long it took in `latency`.
///
/// **Label latency** is the time of the `label_for()` call alone, the two clock reads around
/// it included (a vDSO call each, about 35 ns together on a 2.5 GHz Xeon): for the pattern's
/// local read it is an upper bound, for the baseline's round trip noise.
/// @return Whether there was a label (false: the customer has no record).
template <class AnyShipping>
bool make_label(AnyShipping& shipping, const state_transfer::ShipOrder& order,
                LatencyRecorder& latency) {
  const std::int64_t start = monotonic_ns();
  const std::optional<state_transfer::ShippingLabel> label = shipping.label_for(order);
  latency.record(monotonic_ns() - start);
  return label.has_value();
}

/// @brief `count` changes to make to `records`: customers moving house, drawn from a fixed
///        seed before a run starts.
std::vector<state_transfer::Customer> planned_moves(const state_transfer::CustomerTable& records,
                                                    std::uint64_t count);

}  // namespace eda::workloads
