/// @file scenes.hpp
/// @brief The state-transfer demo's all-in-one run, scene by scene: the Customer service opens,
///        Shipping connects its replica, customers change (a second replica joins late with
///        `--late-joiner`), the network loses updates (`--lose`), the Customer service goes
///        down and comes back (`--down`). Every scene is a function of the run's state
///        (ReplicaRun), so the run reads as a list of them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include <zmq.hpp>

#include "eda/curve_setup.hpp"
#include "eda/narrator.hpp"
#include "eda/state_transfer/lossy_link.hpp"
#include "eda/state_transfer/service_thread.hpp"
#include "eda/trace/demo_trace.hpp"
#include "story.hpp"

namespace eda::state_transfer::demo {

/// @brief Everything one all-in-one run holds: the Customer service (on its own thread, and
///        where it serves), the lossy link and the tap when asked for, the replicas, and what
///        the run has counted so far.
///
/// The context (and its CURVE settings) belong to the caller, who keeps them alive longer.
struct ReplicaRun {
  /// @brief Nothing runs yet; `curve` gives each socket its Security (when it is on, a
  ///        refused key is a likely cause of a replica that hears nothing).
  ReplicaRun(const Settings& settings, Narrator& say, zmq::context_t& context,
             const CurveSetup& curve);

  const Settings& settings;                       ///< What the command line said.
  Narrator& say;                                  ///< Where the story is told.
  zmq::context_t& context;                        ///< The process's one context.
  const CurveSetup& curve;                        ///< Its CURVE set-up (on: `--curve-keys`).
  CustomerGenerator generator{2026};              ///< Makes the records and their changes.
  CustomerServiceOptions options;                 ///< Where it serves (real ports, once bound).
  std::unique_ptr<CustomerServiceThread> source;  ///< The Customer service, while it runs.
  std::optional<LossyLink> link;                  ///< With `--lose`: Shipping's updates' path.
  std::optional<trace::DemoTrace> trace;          ///< With `--trace`: the tap.
  std::optional<ShippingReplica> shipping;        ///< Shipping's replica.
  std::optional<Shipping> labels;                 ///< Shipping, reading its replica.
  std::unique_ptr<ShippingReplica> late;          ///< With `--late-joiner`: the second one.
  std::uint64_t changes_made = 0;                 ///< By the Customer service, across its restart.
  std::uint64_t order_id = 1000;                  ///< The last order Shipping made a label for.
  std::uint64_t shipped = 0;                      ///< Labels printed from the replica.
  std::uint64_t published_before_tap = 0;         ///< What the tap cannot have seen.
  std::uint64_t published_before_restart = 0;     ///< By the run that `--down` stops.
  std::uint64_t lookups_before_restart = 0;       ///< Counted by that run...
  std::uint64_t snapshots_before_restart = 0;     ///< ... and these too.
};

/// @brief Starts the Customer service with `--customers` records.
void open_customer_service(ReplicaRun& run);
/// @brief Starts Shipping's replica (behind the lossy link with `--lose`; tapped with
///        `--trace`) and waits until it holds the snapshot.
void connect_shipping(ReplicaRun& run);
/// @brief `--count` changes, each published whole and a label made from the replica; the late
///        replica joins halfway. False when a stop request cut it short.
bool customers_change(ReplicaRun& run);
/// @brief The link drops `--lose` updates; the replica notices the gap and re-syncs.
void network_loses_updates(ReplicaRun& run);
/// @brief The Customer service stops: Shipping keeps shipping; it comes back with a change
///        made meanwhile, and the replicas re-sync by themselves.
void customer_service_goes_down_and_back(ReplicaRun& run);
/// @brief The last line of a run stopped by Ctrl-C or SIGTERM: how far it got. Returns 0.
int say_stopped(ReplicaRun& run);
/// @brief What Shipping applied, what the Customer service was asked (no lookups), and the
///        trace's report with `--trace`.
void summary(ReplicaRun& run);

}  // namespace eda::state_transfer::demo
