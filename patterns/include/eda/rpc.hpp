/// @file rpc.hpp
/// @brief Synchronous request-response over REQ/REP: the transport of every baseline.
///
/// | frame | request                      | reply                                        |
/// |-------|------------------------------|----------------------------------------------|
/// | 0     | method name, e.g. `GetOrder` | status: `ok`, `error`, `bad_request`, `unknown_method` |
/// | 1     | body (MessagePack)           | body (MessagePack), or the error text        |
///
/// The client never hangs: every call has a timeout. When no reply comes, the client closes its
/// socket, opens a fresh one and tries again a bounded number of times (the ZeroMQ Guide's
/// "Lazy Pirate"), then raises RpcTimeout. Its next call starts with a fresh socket, so the same
/// client works again as soon as the server is back. Retries re-send the request, so the server
/// may see it twice: only retry requests that are safe to repeat (reads, idempotent writes).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <zmq.hpp>

#include "eda/codec.hpp"
#include "eda/errors.hpp"
#include "eda/heartbeat.hpp"
#include "eda/security.hpp"

namespace eda {

/// @brief The server answered, but with an error (rejected, unknown method, bad request).
///        Category: ErrorCategory::application (the call arrived; its handler said no).
class RpcError : public Error {
 public:
  /// @brief An error reply with `status` to a call of `method`, carrying the server's message.
  RpcError(std::string status, const std::string& method, const std::string& message);

  /// @brief The reply status: `error`, `bad_request`, `unknown_method`, `bad_reply`, or a
  ///        status of the server's own protocol.
  [[nodiscard]] const std::string& status() const noexcept { return status_; }

  /// @brief The reply body exactly as the server sent it (for servers that put structured
  ///        details there).
  [[nodiscard]] const std::string& body() const noexcept { return body_; }

 private:
  std::string status_{};
  std::string body_{};
};

/// @brief No reply arrived within the timeout, on every attempt, or a signal ended the wait.
///        Category: ErrorCategory::timeout.
class RpcTimeout : public Error {
 public:
  /// @brief A timeout with `message`.
  explicit RpcTimeout(const std::string& message) : Error(ErrorCategory::timeout, message) {}
};

/// @brief How an RpcClient is set up.
struct RpcClientOptions {
  std::string endpoint{};                   ///< The server to call.
  std::chrono::milliseconds timeout{1000};  ///< How long one attempt waits for its reply.
  int attempts = 3;                         ///< Attempts per call before RpcTimeout (>= 1).
  std::int64_t max_reply_bytes = 16 << 20;  ///< Larger replies drop the connection.
  /// ZMTP heartbeats: a server that stops answering them has its connection closed (the
  /// call in progress then times out and is retried on a fresh connection).
  Heartbeat heartbeat{};
  /// Plaintext (the default) or CURVE: the client connects, so it is a CURVE client
  /// (Security::client, CurveSetup::client()). A server that refuses the client's keys looks
  /// like a server that does not answer: RpcTimeout.
  Security security{};
};

/// @brief Calls methods on an RpcServer, one blocking call at a time, with timeouts and
///        automatic recovery (Lazy Pirate).
///
/// @par Thread safety
/// One thread at a time.
class RpcClient {
 public:
  /// @brief A client of the server at `options.endpoint` (connecting does not wait).
  RpcClient(zmq::context_t& context, RpcClientOptions options);

  /// @brief Calls `method` with raw `body` bytes; returns the reply body.
  ///
  /// Throws RpcTimeout when no attempt got a reply, or at once when a signal interrupts the
  /// wait (the request is not sent again: a Ctrl-C must not wait for more attempts), and
  /// RpcError when the server answered with an error status.
  std::string call(std::string_view method, std::string_view body);

  /// @brief Like call(), for a method the server may hold for up to `server_wait` before it
  ///        answers (a query waiting for a consistency token): each attempt waits that much
  ///        longer for its reply, so a long wait is not mistaken for a dead server.
  std::string call(std::string_view method, std::string_view body,
                   std::chrono::milliseconds server_wait);

  /// @brief Calls `method` with a typed request and decodes the typed reply.
  template <class Reply, class Request>
  Reply call(std::string_view method, const Request& request) {
    const std::string reply = call(method, std::string_view(encode_value(request)));
    return decode_value<Reply>(reply, "reply to " + std::string(method));
  }

  /// @brief How many times this client has thrown away its socket and opened a new one.
  [[nodiscard]] std::uint64_t reconnects() const noexcept { return reconnects_; }

  /// @brief The server endpoint.
  [[nodiscard]] const std::string& endpoint() const noexcept { return options_.endpoint; }

 private:
  void open_socket();

  zmq::context_t& context_;
  RpcClientOptions options_;
  zmq::socket_t socket_;
  std::uint64_t reconnects_ = 0;
  std::vector<zmq::message_t> frames_{};
};

/// @brief A handler: request body in, reply body out. Throwing sends an `error` reply whose
///        message is the exception's `what()`; throwing RpcError sends its own status and
///        body instead (a protocol's domain answers, e.g. `rejected` with the reason).
using RpcHandler = std::function<std::string(std::string_view body)>;

/// @brief How an RpcServer is set up.
struct RpcServerOptions {
  std::vector<std::string> endpoints{};       ///< Where to bind; at least one.
  std::int64_t max_request_bytes = 16 << 20;  ///< Larger requests drop the connection.
  int linger_ms = 0;                          ///< How long closing may wait to flush a reply.
  /// ZMTP heartbeats: a client that stops answering them has its connection closed.
  Heartbeat heartbeat{};
  /// Plaintext (the default) or CURVE: the server binds, so it is the CURVE server
  /// (Security::server, CurveSetup::server()).
  Security security{};
};

/// @brief Counters an RpcServer keeps.
struct RpcServerStats {
  std::uint64_t served = 0;        ///< Requests answered `ok`.
  std::uint64_t failed = 0;        ///< Requests whose handler threw (answered `error`).
  std::uint64_t bad_requests = 0;  ///< Malformed requests or unknown methods.
};

/// @brief Answers requests on a REP socket by dispatching on the method name.
///
/// The server never dies of a bad request: malformed messages and unknown methods get an error
/// reply, handler exceptions become `error` replies, and it goes on with the next request.
///
/// @par Thread safety
/// One thread at a time (register handlers before serving).
class RpcServer {
 public:
  /// @brief Binds to every endpoint; throws std::invalid_argument / TransportError, and
  ///        SecurityError for a CURVE Security whose ZapHandler does not run in `context`.
  RpcServer(zmq::context_t& context, RpcServerOptions options);

  /// @brief The endpoints actually bound, in connectable form.
  [[nodiscard]] const std::vector<std::string>& endpoints() const noexcept { return endpoints_; }

  /// @brief Registers the handler for `method` (replacing any earlier one).
  void handle(std::string method, RpcHandler handler);

  /// @brief Registers a typed handler: `fn(const Request&)` returns the reply value.
  template <class Request, class Fn>
  void handle_typed(const std::string& method, Fn fn) {
    const std::string what = "request body of " + method;
    handle(method, [fn = std::move(fn), what](std::string_view body) {
      return encode_value(fn(decode_value<Request>(body, what)));
    });
  }

  /// @brief Waits up to `wait` for one request and answers it; false if none came.
  bool serve_once(std::chrono::milliseconds wait);

  /// @brief Answers requests until `keep_going()` returns false (checked at least every
  ///        `tick`), e.g. `[&]{ return !stop.stop_requested(); }`.
  void serve_while(const std::function<bool()>& keep_going,
                   std::chrono::milliseconds tick = std::chrono::milliseconds(50));

  /// @brief Counters so far.
  [[nodiscard]] const RpcServerStats& stats() const noexcept { return stats_; }

  /// @brief The underlying socket, e.g. to poll it together with others.
  [[nodiscard]] zmq::socket_t& socket() noexcept { return socket_; }

 private:
  void reply(std::string_view status, std::string_view body);

  RpcServerOptions options_;
  zmq::socket_t socket_;
  std::vector<std::string> endpoints_{};
  std::map<std::string, RpcHandler, std::less<>> handlers_{};
  RpcServerStats stats_;
  std::vector<zmq::message_t> frames_{};
  int receive_timeout_ms_ = -1;  // the socket's ZMQ_RCVTIMEO, set only when it changes
};

}  // namespace eda
