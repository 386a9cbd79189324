#include "eda/heartbeat.hpp"

#include <stdexcept>
#include <string>

namespace eda {

namespace {

/// libzmq carries the TTL in a 16-bit count of deciseconds.
constexpr std::chrono::milliseconds longest_time_to_live{65'535 * 100};

}  // namespace

void validate_heartbeat(const Heartbeat& heartbeat, const std::string& owner) {
  if (heartbeat == Heartbeat::off()) {
    return;
  }
  if (heartbeat.interval.count() <= 0) {
    throw std::invalid_argument(owner +
                                ": heartbeat interval must be positive (or use "
                                "Heartbeat::off()), e.g. 1000 ms");
  }
  if (heartbeat.timeout < heartbeat.interval) {
    throw std::invalid_argument(owner + ": heartbeat timeout (" +
                                std::to_string(heartbeat.timeout.count()) +
                                " ms) must be at least the interval (" +
                                std::to_string(heartbeat.interval.count()) + " ms)");
  }
  if (heartbeat.time_to_live.count() < 0 || heartbeat.time_to_live > longest_time_to_live) {
    throw std::invalid_argument(owner + ": heartbeat time_to_live must be 0..6553500 ms");
  }
}

void apply_heartbeat(zmq::socket_t& socket, const Heartbeat& heartbeat, const std::string& owner) {
  validate_heartbeat(heartbeat, owner);
  if (!heartbeat.enabled()) {
    return;  // libzmq's default: no heartbeats
  }
  socket.set(zmq::sockopt::heartbeat_ivl, static_cast<int>(heartbeat.interval.count()));
  socket.set(zmq::sockopt::heartbeat_timeout, static_cast<int>(heartbeat.timeout.count()));
  socket.set(zmq::sockopt::heartbeat_ttl, static_cast<int>(heartbeat.time_to_live.count()));
}

}  // namespace eda
