/// @file authenticator.hpp
/// @brief The ZAP handler (RFC 27): the thread that tells libzmq which CURVE clients a
///        context's server sockets let in.
///
/// @par Why every CURVE server needs one
/// libzmq 4.3 lets *any* client with *any* key pair in when no ZAP handler is bound in the
/// server socket's context: CURVE then encrypts but authenticates nobody. A ZapHandler binds
/// libzmq's ZAP address (`inproc://zeromq.zap.01`) in one context and answers each handshake
/// of that context's CURVE servers: `200` for a CURVE client whose public key is on its
/// AllowList, `400` for anyone else.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>
#include <thread>

#include <zmq.hpp>

#include "eda/keys.hpp"

namespace eda {

/// @brief The address libzmq sends ZAP requests to, in each context (RFC 27).
inline constexpr std::string_view zap_endpoint = "inproc://zeromq.zap.01";

/// @brief The ZAP domain the kit's CURVE servers announce to the handler.
inline constexpr std::string_view zap_domain = "eda";

/// @brief What a ZapHandler decided so far.
struct ZapStats {
  std::uint64_t allowed = 0;  ///< Handshakes let in (an allow-listed CURVE client key).
  std::uint64_t denied = 0;   ///< Handshakes refused (unknown key, other mechanism, bad request).
};

/// @brief Which context a ZapHandler guards and whether it still runs; a server Security keeps
///        it (shared), so the check before a socket binds stays safe after the handler is gone.
class ZapPresence {
 public:
  /// @brief Whether the handler still runs and answers the ZAP requests of `context`.
  [[nodiscard]] bool guards(zmq::context_t& context) const noexcept {
    return running_.load() && context_handle_ == context.handle();
  }

 private:
  friend class ZapHandler;
  explicit ZapPresence(void* context_handle) : context_handle_(context_handle) {}
  void* context_handle_;
  std::atomic<bool> running_{true};
};

/// @brief The ZAP handler (RFC 27) of one context: a thread answering libzmq's authentication
///        requests, `200` for a CURVE client whose public key is allow-listed, `400` otherwise.
///
/// It binds `inproc://zeromq.zap.01` in its constructor, so it is in place before any CURVE
/// server socket of the context binds. libzmq allows one per context: a second one cannot bind
/// that address and throws SecurityError (libzmq's own bookkeeping says so; the kit keeps none).
/// Destroy it only after the context's CURVE server sockets are closed: from then on they
/// refuse every client (the kit sets libzmq's ZMQ_ZAP_ENFORCE_DOMAIN; without it libzmq would
/// let every client in).
///
/// A signal that interrupts its wait (EINTR) does not stop it: it waits again.
///
/// @par Thread safety
/// Its own thread answers requests; stats() may be called from any thread.
class ZapHandler {
 public:
  /// @brief Starts the handler of `context`, letting in the keys of `allowed`.
  ZapHandler(zmq::context_t& context, AllowList allowed);

  /// @brief Stops the thread and unbinds the handler.
  ~ZapHandler();

  ZapHandler(const ZapHandler&) = delete;             ///< One handler per context: not copyable.
  ZapHandler& operator=(const ZapHandler&) = delete;  ///< Not assignable.

  /// @brief Decisions so far.
  [[nodiscard]] ZapStats stats() const noexcept;

  /// @brief Whether this handler runs and answers for `context`.
  [[nodiscard]] bool guards(zmq::context_t& context) const noexcept {
    return presence_->guards(context);
  }

  /// @brief The shared record of where this handler runs (what a server Security keeps).
  [[nodiscard]] std::shared_ptr<const ZapPresence> presence() const noexcept { return presence_; }

 private:
  void run(zmq::socket_t requests, zmq::socket_t control);
  void answer(zmq::socket_t& requests);

  std::shared_ptr<ZapPresence> presence_;
  AllowList allowed_;
  zmq::socket_t stop_;
  std::atomic<std::uint64_t> allowed_count_{0};
  std::atomic<std::uint64_t> denied_count_{0};
  std::thread thread_;
};

}  // namespace eda
