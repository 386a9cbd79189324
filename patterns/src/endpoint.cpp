#include "eda/endpoint.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>

#include "eda/clock.hpp"
#include "eda/errors.hpp"

namespace eda {
namespace {

std::atomic<unsigned> next_endpoint_number{0};

std::string safe_name(std::string_view name) {
  std::string out;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    out.push_back(ok ? c : '-');
  }
  return out.empty() ? std::string("endpoint") : out.substr(0, 40);
}

}  // namespace

std::string_view to_string(Transport transport) noexcept {
  switch (transport) {
    case Transport::inproc:
      return "inproc";
    case Transport::ipc:
      return "ipc";
    case Transport::tcp:
      return "tcp";
  }
  return "?";
}

Transport parse_transport(std::string_view name) {
  if (name == "inproc") return Transport::inproc;
  if (name == "ipc") return Transport::ipc;
  if (name == "tcp") return Transport::tcp;
  throw std::invalid_argument("unknown transport '" + std::string(name) +
                              "': choose inproc, ipc or tcp");
}

void validate_endpoint(std::string_view endpoint) {
  const auto fail = [&](const std::string& problem) {
    throw std::invalid_argument("endpoint '" + std::string(endpoint) + "' " + problem);
  };
  if (endpoint.starts_with("inproc://")) {
    if (endpoint.size() == 9) fail("needs a name after inproc://, e.g. inproc://orders");
    return;
  }
  if (endpoint.starts_with("ipc://")) {
    const std::string_view path = endpoint.substr(6);
    if (path.empty()) fail("needs a path after ipc://, e.g. ipc:///tmp/orders.sock");
    // sockaddr_un holds at most 107 path bytes plus the terminating zero.
    if (path.size() > 107) fail("has a path longer than 107 bytes, too long for a Unix socket");
    return;
  }
  if (endpoint.starts_with("tcp://")) {
    const std::string_view rest = endpoint.substr(6);
    const auto colon = rest.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == rest.size()) {
      fail("needs host:port after tcp://, e.g. tcp://127.0.0.1:5556 (port * picks a free one)");
    }
    const std::string_view port = rest.substr(colon + 1);
    if (port == "*") return;
    if (port.size() > 5) fail("has an invalid port '" + std::string(port) + "'");
    unsigned value = 0;
    for (const char c : port) {
      if (c < '0' || c > '9') fail("has an invalid port '" + std::string(port) + "'");
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) fail("has a port outside 1..65535");
    return;
  }
  fail("must start with inproc://, ipc:// or tcp:// (e.g. tcp://127.0.0.1:5556)");
}

std::string ephemeral_endpoint(Transport transport, std::string_view name) {
  const unsigned number = next_endpoint_number.fetch_add(1);
  switch (transport) {
    case Transport::inproc:
      return "inproc://" + safe_name(name) + "-" + std::to_string(number);
    case Transport::ipc: {
      const auto file = std::filesystem::temp_directory_path() /
                        ("eda-" + std::to_string(::getpid()) + "-" + std::to_string(number) + "-" +
                         safe_name(name) + ".sock");
      return "ipc://" + file.string();
    }
    case Transport::tcp:
      return "tcp://127.0.0.1:*";
  }
  throw std::invalid_argument("unknown transport");
}

std::string bind_endpoint(zmq::socket_t& socket, std::string_view endpoint) {
  validate_endpoint(endpoint);
  // libzmq closes sockets on its own I/O thread, a moment after close() returns, so an
  // address that a socket of this very process just gave up (a service restarting at the
  // same endpoint) can still be taken. That is retried for a bounded time; an address held
  // by another process fails with the same message after it.
  const Deadline deadline(std::chrono::seconds(1));
  for (;;) {
    try {
      socket.bind(std::string(endpoint));
      return socket.get(zmq::sockopt::last_endpoint);
    } catch (const zmq::error_t& e) {
      if (e.num() != EADDRINUSE || deadline.expired()) {
        throw TransportError("cannot bind " + std::string(endpoint) + ": " + e.what() +
                             " (is another process using it?)");
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void connect_endpoint(zmq::socket_t& socket, std::string_view endpoint) {
  validate_endpoint(endpoint);
  try {
    socket.connect(std::string(endpoint));
  } catch (const zmq::error_t& e) {
    throw TransportError("cannot connect to " + std::string(endpoint) + ": " + e.what());
  }
}

std::string connectable_endpoint(std::string_view bound) {
  if (bound.starts_with("tcp://0.0.0.0:")) {
    return "tcp://127.0.0.1:" + std::string(bound.substr(14));
  }
  if (bound.starts_with("tcp://[::]:")) {
    return "tcp://[::1]:" + std::string(bound.substr(11));
  }
  return std::string(bound);
}

}  // namespace eda
