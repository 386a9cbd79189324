// Plain POSIX TCP connections to the kit's loopback endpoints, for tests that play a peer
// libzmq would never be: a stranger sending garbage, a connection left idle, a peer that
// completes the ZMTP handshake and then freezes.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

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

}  // namespace eda::test
