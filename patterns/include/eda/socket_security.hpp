/// @file socket_security.hpp
/// @brief How one socket secures its connections (Security), and applying it to that socket.
///
/// @par Who is the server
/// The binding side is the CURVE server and holds a key pair: a Publisher (subscribers connect
/// to it), an RpcServer. The connecting side is the CURVE client: it holds its own key pair and
/// must know the server's public key in advance, so it cannot be fooled by an impostor server.
///
/// @par Said by the caller, per socket
/// Every kit socket is as secure as the Security in its own options, and nothing else decides:
/// a socket given none is plaintext, whatever the other sockets of its context do. A socket
/// given CURVE either gets CURVE or throws SecurityError; it never falls back to plaintext.
///
/// @par A CURVE server is made from a running ZAP handler
/// libzmq lets every client in to a CURVE server whose context has no ZAP handler (see
/// authenticator.hpp). So the only way to make a server Security is Security::server(zap,
/// keys), from a live ZapHandler: the type says "this server is authenticated", no lookup in
/// hidden state does. The Security keeps the handler's shared ZapPresence, so
/// secure_server_socket() can still check, safely even after the handler is gone, that the
/// handler runs and guards the socket's own context (a handler of another context would
/// authenticate nobody here); and it sets ZMQ_ZAP_ENFORCE_DOMAIN, so a server whose handler
/// stops later refuses every client instead of accepting them all.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <zmq.hpp>

#include "eda/authenticator.hpp"
#include "eda/keys.hpp"

namespace eda {

/// @brief How one kit socket secures its connections: plaintext (the default), or CURVE.
///
/// A binding socket (Publisher, RpcServer) uses the server half and becomes a CURVE server; a
/// connecting socket (Subscriber, RpcClient) uses the client half. One value may hold both
/// halves (with_client()), for a service that both binds and connects. A socket whose half is
/// missing from a non-plaintext Security throws instead of silently falling back to plaintext.
class Security {
 public:
  /// @brief Plaintext: no encryption, no authentication (ZeroMQ's NULL mechanism).
  Security() = default;

  /// @brief No encryption, no authentication (ZeroMQ's NULL mechanism).
  [[nodiscard]] static Security plaintext() { return {}; }

  /// @brief A CURVE server holding `keys`, whose clients `authenticator` lets in or refuses;
  ///        the server socket must be in the authenticator's context.
  [[nodiscard]] static Security server(const ZapHandler& authenticator, KeyPair keys);

  /// @brief A CURVE client holding `keys`, trusting only the server with `server_public_key`.
  [[nodiscard]] static Security client(KeyPair keys, std::string server_public_key);

  /// @brief This Security with the client half added (for a service that binds and connects).
  [[nodiscard]] Security with_client(KeyPair keys, std::string server_public_key) const;

  /// @brief Whether this is plaintext (neither half set).
  [[nodiscard]] bool is_plaintext() const noexcept { return !server_keys_ && !client_keys_; }

  /// @brief The server's key pair, when this Security has the server half.
  [[nodiscard]] const std::optional<KeyPair>& server_keys() const noexcept { return server_keys_; }

  /// @brief The client's own key pair, when this Security has the client half.
  [[nodiscard]] const std::optional<KeyPair>& client_keys() const noexcept { return client_keys_; }

  /// @brief The public key of the server a client trusts (empty without the client half).
  [[nodiscard]] const std::string& server_public_key() const noexcept { return server_public_key_; }

  /// @brief Where the server half's ZAP handler runs; nullptr without the server half.
  [[nodiscard]] const ZapPresence* authenticator() const noexcept { return authenticator_.get(); }

 private:
  std::optional<KeyPair> server_keys_{};
  std::shared_ptr<const ZapPresence> authenticator_{};
  std::optional<KeyPair> client_keys_{};
  std::string server_public_key_{};
};

/// @brief Sets `socket` (of `context`) up as a CURVE server, before it binds, when `security`
///        asks for CURVE; nothing for plaintext. Returns whether CURVE is on.
///
/// Throws SecurityError when the Security has no server half, when its ZapHandler has stopped
/// or runs in another context than `context`, or when libzmq lacks CURVE. `what` names the
/// socket in messages, e.g. `publisher 'order-service'`.
bool secure_server_socket(zmq::context_t& context, zmq::socket_t& socket, const Security& security,
                          std::string_view what);

/// @brief Sets `socket` up as a CURVE client, before it connects, when `security` asks for
///        CURVE; nothing for plaintext. Returns whether CURVE is on.
///
/// Throws SecurityError when the Security has no client half or no valid server public key.
bool secure_client_socket(zmq::socket_t& socket, const Security& security, std::string_view what);

}  // namespace eda
