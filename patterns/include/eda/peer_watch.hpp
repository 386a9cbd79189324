/// @file peer_watch.hpp
/// @brief PeerWatch: what happened to a socket's connections (opened, handshake done, closed,
///        refused), read from libzmq's socket monitor without ever blocking.
///
/// ZeroMQ hides connections on purpose: a socket reconnects, queues and resends by itself.
/// That is what an application wants while sending, but not when it must *know* that a peer
/// went away, e.g. to tell a person that the source of its data is gone, or to prove in a test
/// that a frozen peer was noticed. libzmq reports each connection's life on a monitor socket
/// (zmq_socket_monitor); a PeerWatch reads those reports and keeps the counts.
///
/// @par Read it now and then
/// libzmq's I/O thread writes the reports into an in-process pipe of bounded size. Publisher
/// and Subscriber drain theirs while they wait anyway; anyone holding a PeerWatch of their own
/// calls poll() from time to time (a few hundred unread connection changes are harmless).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <zmq.hpp>

namespace eda {

/// @brief One report of a socket's monitor: what happened (a ZMQ_EVENT_* constant), its value
///        (a file descriptor, or an error or ZAP status code) and the endpoint concerned.
struct PeerEvent {
  std::uint16_t kind = 0;   ///< ZMQ_EVENT_CONNECTED, ZMQ_EVENT_DISCONNECTED, ...
  std::uint32_t value = 0;  ///< The descriptor, or the error / ZAP status for failures.
  std::string endpoint{};   ///< The endpoint as bound or connected, e.g. `tcp://127.0.0.1:5601`.

  /// @brief Field-by-field equality.
  friend bool operator==(const PeerEvent&, const PeerEvent&) = default;
};

/// @brief A socket's connections so far, as its monitor reported them.
struct PeerStatus {
  std::size_t open = 0;             ///< Connections open now (handshake done or not).
  std::uint64_t handshakes = 0;     ///< ZMTP handshakes completed, in total.
  std::uint64_t disconnects = 0;    ///< Connections closed, in total, for any reason.
  std::uint64_t refused = 0;        ///< Handshakes that failed (bad protocol, CURVE refused).
  std::int64_t last_change_ns = 0;  ///< Monotonic time of the last report (0: none yet).
  PeerEvent last_refusal{};         ///< The last failed handshake (kind 0: none yet).

  /// @brief Field-by-field equality.
  friend bool operator==(const PeerStatus&, const PeerStatus&) = default;
};

/// @brief Watches one socket's connections through libzmq's socket monitor.
///
/// Create it before the socket binds or connects, so that the first connection is seen, and
/// destroy it before the socket (as a class member, declare it after the socket).
///
/// @par Thread safety
/// The thread that uses the watched socket, one call at a time.
class PeerWatch {
 public:
  /// @brief Starts monitoring `watched` (a socket of `context`); throws TransportError
  ///        when libzmq refuses.
  PeerWatch(zmq::context_t& context, zmq::socket_t& watched);
  /// @brief Stops monitoring and reads what is left (so that no report leaks).
  ~PeerWatch();
  PeerWatch(const PeerWatch&) = delete;             ///< Owns a socket: not copyable.
  PeerWatch& operator=(const PeerWatch&) = delete;  ///< Owns a socket: not copyable.

  /// @brief Reads every report waiting (never waits) and returns the counts.
  const PeerStatus& poll();

  /// @brief Waits up to `timeout` for the next report of `kind`, counting every report read
  ///        on the way; empty if none came.
  std::optional<PeerEvent> wait_for(std::uint16_t kind, std::chrono::milliseconds timeout);

  /// @brief The counts as of the last poll() or wait_for().
  [[nodiscard]] const PeerStatus& status() const noexcept { return status_; }

 private:
  /// Reads one report, waiting up to `wait` (0: not at all); counts it.
  std::optional<PeerEvent> read(std::chrono::milliseconds wait);
  void count(const PeerEvent& event);

  void* watched_;  // the raw handle: only to stop the monitor in the destructor
  zmq::socket_t reports_;
  int receive_timeout_ms_ = -1;  // the socket's ZMQ_RCVTIMEO (libzmq's default: wait forever)
  PeerStatus status_{};
};

}  // namespace eda
