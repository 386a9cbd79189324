/// @file heartbeat.hpp
/// @brief ZMTP heartbeats on long-lived connections: how a peer that stopped answering (a
///        process frozen by SIGSTOP, a host that vanished without closing its sockets) is
///        noticed and its connection closed, so that its queue is freed and it reconnects.
///
/// @par Why the kit needs them
/// TCP alone does not notice a peer that is alive as far as the kernel is concerned but does
/// not run: its kernel keeps acknowledging bytes until the buffers are full, and the
/// connection looks healthy for as long as nobody writes to it. ZeroMQ's own heartbeats (ZMTP
/// PING and PONG commands, RFC 37) are answered by the peer's libzmq I/O thread, so a frozen
/// process stops answering them: after `timeout` without any traffic from it, libzmq closes
/// the connection. The connecting side then reconnects by itself (every few hundred ms) once
/// the peer runs again, and the application's usual recovery (a gap check, a snapshot, a
/// store catch-up) fills in what it missed. A PeerWatch makes the closing visible.
#pragma once

#include <chrono>
#include <string>

#include <zmq.hpp>

namespace eda {

/// @brief ZMTP heartbeat settings of one socket (ZMQ_HEARTBEAT_IVL, _TIMEOUT and _TTL).
///
/// The defaults notice a frozen peer within about four seconds and cost one small PING frame a
/// second per connection, sent and answered by libzmq's I/O threads, never by the application.
struct Heartbeat {
  /// How often a PING is sent on a connection; zero turns heartbeats off.
  std::chrono::milliseconds interval{1000};
  /// How long after a PING the connection may stay silent before it is closed (>= interval).
  std::chrono::milliseconds timeout{3000};
  /// Told to the peer in each PING: it closes the connection after this long without hearing
  /// from us (rounded down to tenths of a second, at most 6553.5 s; zero: the peer decides).
  std::chrono::milliseconds time_to_live{3000};

  /// @brief Heartbeats off: connections are only closed by the network or the peer.
  [[nodiscard]] static constexpr Heartbeat off() noexcept {
    return Heartbeat{std::chrono::milliseconds(0), std::chrono::milliseconds(0),
                     std::chrono::milliseconds(0)};
  }

  /// @brief Whether PINGs are sent at all.
  [[nodiscard]] constexpr bool enabled() const noexcept { return interval.count() > 0; }

  /// @brief Field-by-field equality.
  friend constexpr bool operator==(const Heartbeat&, const Heartbeat&) = default;
};

/// @brief Throws std::invalid_argument, naming `owner`, unless `heartbeat` is off or has a
///        positive interval, a timeout of at least the interval, and a representable TTL.
void validate_heartbeat(const Heartbeat& heartbeat, const std::string& owner);

/// @brief Validates `heartbeat` and sets it on `socket`. Call before bind() or connect():
///        libzmq applies heartbeat options to connections made after they are set.
void apply_heartbeat(zmq::socket_t& socket, const Heartbeat& heartbeat, const std::string& owner);

}  // namespace eda
