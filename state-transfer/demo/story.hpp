/// @file story.hpp
/// @brief What the state-transfer demo's command line says, and what its parts share: how a
///        label is put in words, and a Shipping replica pumping on a thread of its own.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <thread>

#include <zmq.hpp>

#include "eda/cli.hpp"
#include "eda/narrator.hpp"
#include "eda/state_transfer/replica.hpp"
#include "eda/state_transfer/shipping.hpp"

namespace eda::state_transfer::demo {

/// @brief Everything the command line says.
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
  double rate = 20;  ///< Changes per second (--role customer).
  int run_for_s = 600;
  int heartbeat_ms = 1000;  ///< ZMTP heartbeat interval of the roles' update connections.
  bool trace = false;       ///< `--trace`: tap the updates Shipping receives.
  std::string curve_keys;   ///< `--curve-keys DIR`: CURVE + ZAP on every socket.

  /// @brief The roles' ZMTP heartbeats: a PING every `heartbeat_ms`, a peer silent for three
  ///        of them is cut off.
  [[nodiscard]] eda::Heartbeat heartbeat() const {
    const std::chrono::milliseconds interval(heartbeat_ms);
    return eda::Heartbeat{interval, 3 * interval, 3 * interval};
  }
};

/// @brief How a staleness reads in a sentence (`12.0us stale`).
std::string stale(std::chrono::nanoseconds staleness);

/// @brief One shipping line: where the order goes.
std::string describe(const ShippingLabel& label);

/// @brief ... and, for a label from a replica, how current that knowledge is.
std::string describe_from_replica(const ShippingLabel& label);

/// @brief A replica pumping on its own thread, reporting what it does through the narrator.
class ShippingReplica {
 public:
  /// @brief Starts replica `name` of the Customer service at `updates` and `snapshots`, its
  ///        sockets set up with `security` (a CURVE client, or plaintext).
  ShippingReplica(zmq::context_t& context, Narrator& say, std::string name, std::string updates,
                  std::string snapshots, eda::Security security, eda::Heartbeat heartbeat = {});
  /// @brief The replica (its thread keeps pumping it).
  Replica& replica() { return replica_; }

 private:
  Replica replica_;
  std::jthread thread_;  // last: stops before the replica goes
};

}  // namespace eda::state_transfer::demo
