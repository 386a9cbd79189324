// Plain POSIX TCP connections to the kit's loopback endpoints, for tests that play a peer
// libzmq would never be: a stranger sending garbage, a connection left idle, a peer that
// completes the ZMTP handshake and then freezes, or one that announces a huge message.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

#include <sys/time.h>

namespace eda::test {

/// The port of a `tcp://host:port` endpoint.
inline std::uint16_t port_of(const std::string& endpoint) {
  return static_cast<std::uint16_t>(std::stoi(endpoint.substr(endpoint.rfind(':') + 1)));
}

/// A file descriptor closed on destruction; throws when `fd` is invalid.
class Descriptor {
 public:
  explicit Descriptor(int fd) : fd_(fd) {
    if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  }
  ~Descriptor() { ::close(fd_); }
  Descriptor(const Descriptor&) = delete;             ///< Owns the descriptor.
  Descriptor& operator=(const Descriptor&) = delete;  ///< Owns the descriptor.
  /// The descriptor itself.
  [[nodiscard]] int get() const noexcept { return fd_; }

 private:
  int fd_;
};

/// Sends all of `bytes` on `fd`; throws when the connection fails.
inline void send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t sent = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent <= 0) throw std::runtime_error(std::string("send: ") + std::strerror(errno));
    bytes.remove_prefix(static_cast<std::size_t>(sent));
  }
}

/// A plain TCP connection to 127.0.0.1 on the port of `endpoint` (`tcp://127.0.0.1:PORT`).
class RawConnection {
 public:
  explicit RawConnection(const std::string& endpoint) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port_of(endpoint));
    if (::connect(fd_.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      throw std::runtime_error("cannot connect to " + endpoint + ": " + std::strerror(errno));
    }
  }
  /// The connection's descriptor.
  [[nodiscard]] int fd() const noexcept { return fd_.get(); }
  /// Sends all of `bytes`.
  void send(std::string_view bytes) const { send_all(fd_.get(), bytes); }

 private:
  Descriptor fd_;
};

/// The 64-byte ZMTP 3.0 greeting of a peer using `mechanism` (RFC 23), NULL by default.
inline std::string zmtp_greeting(std::string_view mechanism = "NULL") {
  std::string greeting(64, '\0');
  greeting[0] = '\xff';
  greeting[9] = '\x7f';
  greeting[10] = 3;  // version 3.0
  std::memcpy(greeting.data() + 12, mechanism.data(), std::min<std::size_t>(mechanism.size(), 20));
  return greeting;
}

/// The READY command announcing `socket_type` (e.g. "PUB"), as a short command frame.
inline std::string zmtp_ready(std::string_view socket_type) {
  std::string body = "\x05READY\x0bSocket-Type";
  body += std::string{'\0', '\0', '\0', static_cast<char>(socket_type.size())};
  body += socket_type;
  return std::string{'\x04', static_cast<char>(body.size())} + body;
}

/// Bounds every later blocking read on `fd` to `timeout`.
inline void set_receive_timeout(int fd, std::chrono::milliseconds timeout) {
  const timeval limit{static_cast<time_t>(timeout.count() / 1000),
                      static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) != 0) {
    throw std::runtime_error(std::string("setsockopt: ") + std::strerror(errno));
  }
}

/// Reads exactly `size` bytes; throws when the connection ends or a read times out.
inline void receive_exactly(int fd, std::size_t size) {
  std::array<char, 256> buffer{};
  while (size > 0) {
    const ssize_t got = ::recv(fd, buffer.data(), std::min(size, buffer.size()), 0);
    if (got <= 0) throw std::runtime_error("the peer's handshake did not come");
    size -= static_cast<std::size_t>(got);
  }
}

/// Reads the other side's greeting and READY command (at most 10 s). A message sent before
/// them would reach libzmq while it still expects handshake commands, and be refused as an
/// unexpected command.
inline void receive_handshake(int fd) {
  set_receive_timeout(fd, std::chrono::seconds(10));
  receive_exactly(fd, 64);
  std::array<unsigned char, 2> header{};  // a short command: flags 0x04, then the body's size
  if (::recv(fd, header.data(), header.size(), MSG_WAITALL) != 2 || header[0] != 0x04) {
    throw std::runtime_error("the peer's READY command did not come");
  }
  receive_exactly(fd, header[1]);
}

/// Whether the other side closes the connection within `timeout`; what it sends meanwhile is
/// read and dropped.
inline bool closed_by_peer(int fd, std::chrono::milliseconds timeout) {
  set_receive_timeout(fd, std::chrono::milliseconds(100));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::array<char, 4096> buffer{};
  while (std::chrono::steady_clock::now() < deadline) {
    const ssize_t got = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (got == 0) return true;  // orderly close
    if (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return true;  // reset
  }
  return false;
}

/// What a hostile peer sends to a listening port.
enum class Hostility {
  /// A greeting with ZMTP's signature and version, then junk where the mechanism should be.
  garbage,
  /// A correct handshake, then a frame header announcing a message of `declared_size` bytes
  /// (and the first kilobyte of it): only a ZMQ_MAXMSGSIZE limit stops the allocation.
  oversized_message,
};

/// Connects to `endpoint` (tcp, loopback) and misbehaves as `how` says, posing as a
/// `peer_type` socket ("SUB" for a publisher, "DEALER" for a ROUTER or an RPC server).
/// Returns whether the server dropped the connection within 2 s: sooner than the kit's
/// default heartbeat would (a PING after 1 s, unanswered for 3 s), so a drop seen here is the
/// size limit's or the handshake's doing, not the heartbeat's.
inline bool hostile_peer_is_dropped(const std::string& endpoint, Hostility how,
                                    std::string_view peer_type,
                                    std::uint64_t declared_size = std::uint64_t{256} << 20) {
  const RawConnection connection(endpoint);
  if (how == Hostility::garbage) {
    std::string greeting = zmtp_greeting();
    for (std::size_t i = 12; i < greeting.size(); ++i) greeting[i] = static_cast<char>(0xa5 ^ i);
    connection.send(greeting);
  } else {
    connection.send(zmtp_greeting() + zmtp_ready(peer_type));
    receive_handshake(connection.fd());
    std::string header(9, '\0');
    header[0] = '\x02';  // a long message frame, the last one: an 8-byte size follows
    for (int byte = 0; byte < 8; ++byte) {
      header[static_cast<std::size_t>(1 + byte)] =
          static_cast<char>((declared_size >> (8 * (7 - byte))) & 0xff);
    }
    try {
      connection.send(header + std::string(1024, 'x'));
    } catch (const std::runtime_error&) {
      return true;  // already closed while we were still writing
    }
  }
  return closed_by_peer(connection.fd(), std::chrono::seconds(2));
}

}  // namespace eda::test
