#include "eda/rpc.hpp"

#include <algorithm>

#include "eda/endpoint.hpp"
#include "eda/wire.hpp"

namespace eda {
namespace {

constexpr std::string_view status_ok = "ok";

}  // namespace

RpcError::RpcError(std::string status, const std::string& method, const std::string& message)
    : Error(ErrorCategory::application, method + " failed (" + status + "): " + message),
      status_(std::move(status)),
      body_(message) {}

RpcClient::RpcClient(zmq::context_t& context, RpcClientOptions options)
    : context_(context), options_(std::move(options)) {
  validate_endpoint(options_.endpoint);
  if (options_.attempts < 1) {
    throw std::invalid_argument("RPC client needs at least 1 attempt per call");
  }
  if (options_.timeout.count() <= 0) {
    throw std::invalid_argument("RPC client timeout must be positive");
  }
  open_socket();
}

void RpcClient::open_socket() {
  // A REQ socket that sent a request and got no reply cannot send again, so recovering means
  // closing it (dropping the lost request) and opening a fresh one.
  socket_ = zmq::socket_t(context_, zmq::socket_type::req);
  socket_.set(zmq::sockopt::linger, 0);
  socket_.set(zmq::sockopt::rcvtimeo, static_cast<int>(options_.timeout.count()));
  if (options_.max_reply_bytes > 0) {
    socket_.set(zmq::sockopt::maxmsgsize, options_.max_reply_bytes);
  }
  apply_heartbeat(socket_, options_.heartbeat, "RPC client of " + options_.endpoint);
  (void)secure_client_socket(socket_, options_.security, "RPC client of " + options_.endpoint);
  connect_endpoint(socket_, options_.endpoint);
}

std::string RpcClient::call(std::string_view method, std::string_view body) {
  return call(method, body, std::chrono::milliseconds(0));
}

std::string RpcClient::call(std::string_view method, std::string_view body,
                            std::chrono::milliseconds server_wait) {
  const auto wait = options_.timeout + std::max(server_wait, std::chrono::milliseconds(0));
  for (int attempt = 1; attempt <= options_.attempts; ++attempt) {
    socket_.set(zmq::sockopt::rcvtimeo, static_cast<int>(wait.count()));
    (void)socket_.send(zmq::const_buffer(method.data(), method.size()), zmq::send_flags::sndmore);
    (void)socket_.send(zmq::const_buffer(body.data(), body.size()), zmq::send_flags::none);
    zmq::message_t first;
    bool arrived = false;
    try {
      arrived = socket_.recv(first).has_value();
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;
      // A signal (Ctrl-C, SIGTERM) is not a lost reply: sending the request again would only
      // delay the stop by another timeout. End the call now, with the socket ready for the next.
      ++reconnects_;
      open_socket();
      throw RpcTimeout(std::string(method) + " to " + options_.endpoint +
                       ": interrupted by a signal while waiting for the reply (not sent again)");
    }
    if (!arrived) {  // timed out: Lazy Pirate, reopen and try again
      ++reconnects_;
      open_socket();
      continue;
    }
    const std::size_t count = receive_rest(socket_, std::move(first), frames_, 2);
    if (count != 2) {
      throw RpcError("bad_reply", std::string(method),
                     "reply has " + std::to_string(count) + " frames, expected 2 (status, body)");
    }
    const std::string_view status = view_of(frames_[0]);
    std::string reply(view_of(frames_[1]));
    if (status != status_ok) {
      throw RpcError(printable(status), std::string(method), reply);
    }
    return reply;
  }
  throw RpcTimeout("no reply to " + std::string(method) + " from " + options_.endpoint + " after " +
                   std::to_string(options_.attempts) + " attempt(s) of " +
                   std::to_string(wait.count()) + " ms: is the server running and reachable?");
}

RpcServer::RpcServer(zmq::context_t& context, RpcServerOptions options)
    : options_(std::move(options)), socket_(context, zmq::socket_type::rep) {
  if (options_.endpoints.empty()) {
    throw std::invalid_argument("RPC server needs at least one endpoint to bind");
  }
  socket_.set(zmq::sockopt::linger, options_.linger_ms);
  if (options_.max_request_bytes > 0) {
    socket_.set(zmq::sockopt::maxmsgsize, options_.max_request_bytes);
  }
  apply_heartbeat(socket_, options_.heartbeat, "RPC server");
  (void)secure_server_socket(context, socket_, options_.security, "RPC server");
  for (const std::string& endpoint : options_.endpoints) {
    endpoints_.push_back(connectable_endpoint(bind_endpoint(socket_, endpoint)));
  }
}

void RpcServer::handle(std::string method, RpcHandler handler) {
  handlers_[std::move(method)] = std::move(handler);
}

void RpcServer::reply(std::string_view status, std::string_view body) {
  (void)socket_.send(zmq::const_buffer(status.data(), status.size()), zmq::send_flags::sndmore);
  (void)socket_.send(zmq::const_buffer(body.data(), body.size()), zmq::send_flags::none);
}

bool RpcServer::serve_once(std::chrono::milliseconds wait) {
  const std::size_t count = receive_frames_within(socket_, frames_, 2, wait, receive_timeout_ms_);
  if (count == 0) {
    return false;
  }
  if (count != 2) {
    ++stats_.bad_requests;
    reply("bad_request",
          "request has " + std::to_string(count) + " frames, expected 2 (method, body)");
    return true;
  }
  const std::string_view method = view_of(frames_[0]);
  const auto handler = handlers_.find(method);
  if (handler == handlers_.end()) {
    ++stats_.bad_requests;
    reply("unknown_method", "no method named '" + printable(method) + "'");
    return true;
  }
  try {
    const std::string body = handler->second(view_of(frames_[1]));
    ++stats_.served;
    reply(status_ok, body);
  } catch (const MalformedMessage& e) {
    ++stats_.bad_requests;
    reply("bad_request", e.what());
  } catch (const RpcError& e) {  // the handler chose its answer's status (e.g. `rejected`)
    ++stats_.failed;
    reply(e.status(), e.body());
  } catch (const std::exception& e) {
    ++stats_.failed;
    reply("error", e.what());
  }
  return true;
}

void RpcServer::serve_while(const std::function<bool()>& keep_going,
                            std::chrono::milliseconds tick) {
  while (keep_going()) {
    (void)serve_once(tick);
  }
}

}  // namespace eda
