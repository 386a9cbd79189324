/// @file curve_setup.hpp
/// @brief CURVE for a whole process, said explicitly: one CurveSetup per context holds the
///        keys and the ZAP handler, and hands each socket the Security it is given.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <zmq.hpp>

#include "eda/authenticator.hpp"
#include "eda/keys.hpp"
#include "eda/socket_security.hpp"

namespace eda {

/// @brief The CURVE keys one process holds; either half may be missing.
struct CurveKeys {
  std::optional<KeyPair> server_keys{};  ///< The pair of its binding (server) sockets.
  AllowList allowed_clients{};           ///< The client keys its servers let in.
  std::optional<KeyPair> client_keys{};  ///< The pair of its connecting (client) sockets...
  std::string server_public_key{};       ///< ...and the public key of the server they trust.
};

/// @brief The CURVE set-up of one context: its ZapHandler (started when the process holds
///        server keys) and its keys, handing out the Security of each socket the caller makes.
///
/// It turns nothing on by itself: a socket is CURVE only when its options are given
/// `server()`, `client()` or `both()`. A default-made CurveSetup is off, and hands out
/// plaintext, so a program can pass `curve.server()` whether or not CURVE was asked for.
/// Declare it after the context and before the sockets: it must outlive its CURVE servers.
///
/// @par Example
/// @code
/// zmq::context_t context;
/// eda::CurveSetup curve(context, {.server_keys = server_keys, .allowed_clients = allowed});
/// eda::Publisher events(context, {.source = "order-service", .endpoints = {"tcp://*:5556"},
///                                 .security = curve.server()});
/// @endcode
class CurveSetup {
 public:
  /// @brief Off: every Security it hands out is plaintext.
  CurveSetup() = default;

  /// @brief CURVE with `keys` in `context`: starts the context's ZapHandler, letting in
  ///        `keys.allowed_clients`, when `keys` has server keys; throws SecurityError for
  ///        unusable keys, keys with neither half, or a context that already has a ZapHandler.
  CurveSetup(zmq::context_t& context, CurveKeys keys);

  /// @brief Whether CURVE is on (keys were given).
  [[nodiscard]] bool is_on() const noexcept { return !both_.is_plaintext(); }

  /// @brief For a binding socket: the server half; plaintext when off. Throws SecurityError
  ///        when CURVE is on but this process holds no server keys.
  [[nodiscard]] Security server() const;

  /// @brief For a connecting socket: the client half; plaintext when off. Throws
  ///        SecurityError when CURVE is on but this process holds no client keys.
  [[nodiscard]] Security client() const;

  /// @brief For a service that binds and connects: every half this process holds (each of
  ///        its sockets throws if its own half is missing); plaintext when off.
  [[nodiscard]] const Security& both() const noexcept { return both_; }

  /// @brief The context's ZapHandler; nullptr when off or without server keys.
  [[nodiscard]] const ZapHandler* authenticator() const noexcept { return zap_.get(); }

 private:
  // Owned through a pointer, so a CurveSetup can move while Securities refer to the handler.
  std::unique_ptr<ZapHandler> zap_{};
  Security both_{};
};

}  // namespace eda
