#include "eda/peer_watch.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "eda/clock.hpp"
#include "eda/errors.hpp"

namespace eda {

namespace {

/// The reports a PeerWatch needs. Not CONNECT_RETRIED or CONNECT_DELAYED: while a peer is
/// down they come several times a second and would fill the pipe of an unread watch.
constexpr int watched_events =
    ZMQ_EVENT_CONNECTED | ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED |
    ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
    ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;

/// A name for the monitor's in-process endpoint, unique in the process.
std::string next_report_endpoint() {
  static std::atomic<std::uint64_t> next{0};
  return "inproc://eda.peer-watch." + std::to_string(next.fetch_add(1));
}

}  // namespace

PeerWatch::PeerWatch(zmq::context_t& context, zmq::socket_t& watched) : watched_(watched.handle()) {
  const std::string endpoint = next_report_endpoint();
  if (zmq_socket_monitor(watched_, endpoint.c_str(), watched_events) != 0) {
    throw TransportError(std::string("cannot monitor a socket's connections: ") +
                         zmq_strerror(zmq_errno()));
  }
  reports_ = zmq::socket_t(context, zmq::socket_type::pair);
  reports_.set(zmq::sockopt::linger, 0);
  reports_.connect(endpoint);
}

PeerWatch::~PeerWatch() {
  (void)zmq_socket_monitor(watched_, nullptr, 0);
  // Reports left unread when both ends of the pipe close are leaked by libzmq 4.3.
  zmq::message_t left;
  for (int i = 0; i < 100'000 && reports_.recv(left, zmq::recv_flags::dontwait); ++i) {
  }
}

const PeerStatus& PeerWatch::poll() {
  // Bounded: a watch is never read for longer than the reports already waiting.
  for (int i = 0; i < 10'000 && read(std::chrono::milliseconds(0)); ++i) {
  }
  return status_;
}

std::optional<PeerEvent> PeerWatch::wait_for(std::uint16_t kind,
                                             std::chrono::milliseconds timeout) {
  const Deadline deadline(timeout);
  while (true) {
    const auto wait = std::max(deadline.remaining(), std::chrono::milliseconds(0));
    auto event = read(wait);
    if (event && event->kind == kind) {
      return event;
    }
    if (!event && deadline.expired()) {
      return std::nullopt;
    }
  }
}

std::optional<PeerEvent> PeerWatch::read(std::chrono::milliseconds wait) {
  const int timeout_ms = static_cast<int>(wait.count());
  if (timeout_ms != receive_timeout_ms_) {  // a system call saved when the wait is the same
    reports_.set(zmq::sockopt::rcvtimeo, timeout_ms);
    receive_timeout_ms_ = timeout_ms;
  }
  zmq::message_t head;
  try {
    if (!reports_.recv(head)) {
      return std::nullopt;
    }
  } catch (const zmq::error_t& e) {
    if (e.num() == EINTR) {
      return std::nullopt;  // a signal (Ctrl-C): the caller looks at its flags, like any wait
    }
    throw;
  }
  // A report is two frames: 2 bytes of event kind and 4 of value, then the endpoint.
  zmq::message_t endpoint;
  if (head.more()) {
    (void)reports_.recv(endpoint);
  }
  PeerEvent event;
  if (head.size() >= 6) {
    std::memcpy(&event.kind, head.data(), sizeof event.kind);
    std::memcpy(&event.value, static_cast<const char*>(head.data()) + 2, sizeof event.value);
  }
  event.endpoint = endpoint.to_string();
  count(event);
  return event;
}

void PeerWatch::count(const PeerEvent& event) {
  switch (event.kind) {
    case ZMQ_EVENT_CONNECTED:
    case ZMQ_EVENT_ACCEPTED:
      ++status_.open;
      break;
    case ZMQ_EVENT_DISCONNECTED:
      status_.open -= std::min<std::size_t>(status_.open, 1);
      ++status_.disconnects;
      break;
    case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
      ++status_.handshakes;
      break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
      ++status_.refused;
      status_.last_refusal = event;
      break;
    default:
      return;
  }
  status_.last_change_ns = monotonic_ns();
}

}  // namespace eda
