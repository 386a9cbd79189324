#include "eda/authenticator.hpp"

#include <array>
#include <cerrno>
#include <chrono>
#include <string>
#include <vector>

#include "eda/endpoint.hpp"
#include "eda/security.hpp"
#include "eda/wire.hpp"

namespace eda {
namespace {

/// Numbers the control pair of each handler, so several contexts can each run one.
std::atomic<unsigned> next_control_number{0};

std::string text_of(const zmq::message_t& message) {
  return {static_cast<const char*>(message.data()), message.size()};
}

/// Receives one frame, again after a signal interrupted the receive.
zmq::message_t receive_frame(zmq::socket_t& socket) {
  for (;;) {
    try {
      zmq::message_t frame;
      (void)socket.recv(frame);
      return frame;
    } catch (const zmq::error_t& error) {
      if (error.num() != EINTR) throw;
    }
  }
}

}  // namespace

ZapHandler::ZapHandler(zmq::context_t& context, AllowList allowed)
    : presence_(new ZapPresence(context.handle())), allowed_(std::move(allowed)) {
  zmq::socket_t requests(context, zmq::socket_type::rep);
  requests.set(zmq::sockopt::linger, 0);
  try {
    (void)bind_endpoint(requests, zap_endpoint);
  } catch (const std::runtime_error& e) {
    throw SecurityError(std::string("cannot start the ZAP handler: ") + e.what() +
                        " (another ZAP handler is bound in this context, and libzmq allows one "
                        "per context: share it, e.g. one eda::CurveSetup per context)");
  }
  const std::string control_endpoint =
      "inproc://eda-zap-control-" + std::to_string(next_control_number++);
  zmq::socket_t control(context, zmq::socket_type::pair);
  control.bind(control_endpoint);
  stop_ = zmq::socket_t(context, zmq::socket_type::pair);
  stop_.set(zmq::sockopt::linger, 0);
  stop_.connect(control_endpoint);
  thread_ = std::thread(&ZapHandler::run, this, std::move(requests), std::move(control));
}

ZapHandler::~ZapHandler() {
  presence_->running_ = false;
  try {
    (void)stop_.send(zmq::str_buffer("stop"), zmq::send_flags::none);
  } catch (const zmq::error_t&) {
    // The context is being terminated: the thread's poll fails and it ends by itself.
  }
  thread_.join();
  stop_.close();
}

ZapStats ZapHandler::stats() const noexcept {
  return ZapStats{allowed_count_.load(), denied_count_.load()};
}

void ZapHandler::run(zmq::socket_t requests, zmq::socket_t control) {
  try {
    for (;;) {
      std::array<zmq::pollitem_t, 2> items{
          {{requests.handle(), 0, ZMQ_POLLIN, 0}, {control.handle(), 0, ZMQ_POLLIN, 0}}};
      // A signal interrupting the wait (EINTR) is no reason to stop authenticating:
      // poll_within() reports it as nothing ready, and the handler waits again.
      if (eda::poll_within(items, std::chrono::milliseconds(-1)) == 0) continue;
      if ((items[1].revents & ZMQ_POLLIN) != 0) {
        // Unbinding takes the ZAP address away at once (closing would release it a moment
        // later, on libzmq's own thread): from now on libzmq finds no handler, and a server
        // socket with ZMQ_ZAP_ENFORCE_DOMAIN refuses every client instead of waiting for one.
        requests.unbind(std::string(zap_endpoint));
        return;
      }
      if ((items[0].revents & ZMQ_POLLIN) != 0) answer(requests);
    }
  } catch (const zmq::error_t&) {
    // ETERM: the context is being shut down; the sockets close as this thread ends.
  }
  presence_->running_ = false;
}

void ZapHandler::answer(zmq::socket_t& requests) {
  // RFC 27 request: version, request id, domain, address, identity, mechanism, credentials.
  std::vector<zmq::message_t> frames;
  bool more = true;
  while (more) {
    zmq::message_t frame = receive_frame(requests);
    more = frame.more();
    if (frames.size() < 16) frames.push_back(std::move(frame));  // more is never valid
  }
  std::string status = "400";
  std::string text = "only CURVE clients with an allow-listed public key are let in";
  std::string user;
  if (frames.size() < 6 || text_of(frames[0]) != "1.0") {
    status = "500";
    text = "malformed ZAP request";
  } else if (text_of(frames[5]) == "CURVE" && frames.size() == 7 && frames[6].size() == 32) {
    std::array<char, curve_key_text_size + 1> key{};
    if (zmq_z85_encode(key.data(), static_cast<const std::uint8_t*>(frames[6].data()), 32) !=
            nullptr &&
        allowed_.allows(key.data())) {
      status = "200";
      text = "OK";
      user = key.data();
    } else {
      text = "client public key is not on the allow-list";
    }
  }
  (status == "200" ? allowed_count_ : denied_count_).fetch_add(1);
  const std::string request_id = frames.size() > 1 ? text_of(frames[1]) : std::string();
  (void)requests.send(zmq::str_buffer("1.0"), zmq::send_flags::sndmore);
  (void)requests.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
  (void)requests.send(zmq::buffer(status), zmq::send_flags::sndmore);
  (void)requests.send(zmq::buffer(text), zmq::send_flags::sndmore);
  (void)requests.send(zmq::buffer(user), zmq::send_flags::sndmore);
  (void)requests.send(zmq::const_buffer("", 0), zmq::send_flags::none);
}

}  // namespace eda
