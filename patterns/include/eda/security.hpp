/// @file security.hpp
/// @brief CurveZMQ encryption and authentication for every socket the kit creates: key pairs,
///        the allow-list of client keys, the ZAP handler that enforces it, and the Security
///        options that Publisher, Subscriber, RpcServer and RpcClient accept.
///
/// @par Who is the server
/// The binding side is the CURVE server and holds a key pair: a Publisher (subscribers connect
/// to it), an RpcServer. The connecting side is the CURVE client: it holds its own key pair and
/// must know the server's public key in advance, so it cannot be fooled by an impostor server.
///
/// @par Never CURVE without ZAP
/// libzmq 4.3 lets *any* client with *any* key pair in when no ZAP handler (RFC 27) is bound in
/// the server socket's context: CURVE then encrypts but authenticates nobody. The kit therefore
/// refuses to set a socket up as a CURVE server unless a ZapHandler is running in its context
/// (secure_server_socket() throws), and the ZapHandler lets in only the public keys of its
/// AllowList. It also sets ZMQ_ZAP_ENFORCE_DOMAIN, so that a server whose handler has gone
/// refuses every client instead of accepting them all. libzmq allows one handler per context, so there is one ZapHandler per context,
/// shared by every CURVE server socket in it; ContextSecurity starts it together with the
/// context's default keys, so one line turns CURVE on for every kit socket of a process.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

#include <zmq.hpp>

#include "eda/errors.hpp"

namespace eda {

/// @brief Length of a CURVE key written as Z85 text (32 bytes become 40 characters).
inline constexpr std::size_t curve_key_text_size = 40;

/// @brief The address libzmq sends ZAP requests to, in each context (RFC 27).
inline constexpr std::string_view zap_endpoint = "inproc://zeromq.zap.01";

/// @brief The ZAP domain the kit's CURVE servers announce to the handler.
inline constexpr std::string_view zap_domain = "eda";

/// @brief A key file, key pair or allow-list that cannot be used, or a security set-up that
///        would not be safe; the message names the file (and line) and says what to do.
///        Category: ErrorCategory::security.
class SecurityError : public Error {
 public:
  /// @brief A security error with `message`.
  explicit SecurityError(const std::string& message) : Error(ErrorCategory::security, message) {}
};

/// @brief Whether libzmq was built with CURVE support (libsodium or its own tweetnacl).
[[nodiscard]] bool curve_available() noexcept;

/// @brief Whether `text` is a CURVE key in Z85: exactly 40 characters of the Z85 alphabet.
[[nodiscard]] bool is_z85_key(std::string_view text) noexcept;

/// @brief A CURVE key pair, both halves as Z85 text.
///
/// On disk a pair is two files in one directory: `NAME.key` holds the public key (share it),
/// `NAME.key_secret` the secret key (mode 0600, never share it). Each holds its key on one line;
/// blank lines and lines starting with `#` are comments.
struct KeyPair {
  std::string public_key{};  ///< Z85, 40 characters: who this is.
  std::string secret_key{};  ///< Z85, 40 characters: proves it; keep it private.

  /// @brief A fresh random pair (zmq_curve_keypair); throws SecurityError without CURVE.
  [[nodiscard]] static KeyPair generate();

  /// @brief The pair whose secret key is in `secret_file` (`NAME.key_secret`); the public key
  ///        is derived from it, and checked against `NAME.key` when that file exists.
  ///
  /// Throws SecurityError when the file is missing, malformed, or readable by group or others
  /// (the message says to `chmod 600` it).
  [[nodiscard]] static KeyPair load(const std::filesystem::path& secret_file);

  /// @brief Writes `directory/NAME.key` (mode 0644) and `directory/NAME.key_secret` (mode
  ///        0600, created with that mode, never visible half-written); refuses to overwrite
  ///        either file. Returns the path of the public key file.
  std::filesystem::path save(const std::filesystem::path& directory, std::string_view name) const;
};

/// @brief Reads a public key file (`NAME.key`): one Z85 key, `#` comments allowed; throws
///        SecurityError naming the file and line when it holds anything else.
[[nodiscard]] std::string load_public_key(const std::filesystem::path& file);

/// @brief The public keys of the clients a server lets in.
///
/// Loaded from a directory (every `*.key` file in it, one key each; `*.key_secret` files are
/// ignored) or from one file (one key per line, `#` comments allowed).
class AllowList {
 public:
  /// @brief An empty list: lets nobody in.
  AllowList() = default;

  /// @brief Loads `path` (a directory of `*.key` files, or a file of keys); throws
  ///        SecurityError naming the file and line of anything that is not a Z85 key.
  [[nodiscard]] static AllowList load(const std::filesystem::path& path);

  /// @brief Adds one public key (Z85); throws SecurityError if it is not one.
  void allow(std::string_view public_key);

  /// @brief Whether `public_key` (Z85) is on the list.
  [[nodiscard]] bool allows(std::string_view public_key) const;

  /// @brief How many keys are on the list.
  [[nodiscard]] std::size_t size() const noexcept { return keys_.size(); }

 private:
  std::set<std::string, std::less<>> keys_{};
};

/// @brief What a ZapHandler decided so far.
struct ZapStats {
  std::uint64_t allowed = 0;  ///< Handshakes let in (an allow-listed CURVE client key).
  std::uint64_t denied = 0;   ///< Handshakes refused (unknown key, other mechanism, bad request).
};

/// @brief The ZAP handler (RFC 27) of one context: a thread answering libzmq's authentication
///        requests, `200` for a CURVE client whose public key is allow-listed, `400` otherwise.
///
/// It binds `inproc://zeromq.zap.01` in its constructor, so it is in place before any CURVE
/// server socket of the context binds, and it is the only one of its context (libzmq allows
/// one; a second throws SecurityError). Destroy it only after the context's CURVE server
/// sockets are closed: from then on they refuse every client (the kit sets libzmq's
/// ZMQ_ZAP_ENFORCE_DOMAIN; without it libzmq would let every client in).
///
/// @par Thread safety
/// Its own thread answers requests; stats() and running_in() may be called from any thread.
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

  /// @brief Whether a kit ZapHandler is running in `context`.
  [[nodiscard]] static bool running_in(zmq::context_t& context) noexcept;

 private:
  void run(zmq::socket_t requests, zmq::socket_t control);

  void* context_handle_;
  AllowList allowed_;
  zmq::socket_t stop_;
  std::atomic<std::uint64_t> allowed_count_{0};
  std::atomic<std::uint64_t> denied_count_{0};
  std::thread thread_;
};

/// @brief How a kit socket secures its connections: plaintext (the default), or CURVE.
///
/// A binding socket (Publisher, RpcServer) uses `server_keys` and becomes a CURVE server; a
/// connecting socket (Subscriber, RpcClient) uses `client_keys` and `server_public_key`. One
/// value may hold both halves, so a process that both serves and calls can hand the same
/// Security to all its sockets. A socket whose side is missing from a non-plaintext Security
/// throws instead of silently falling back to plaintext.
struct Security {
  std::optional<KeyPair> server_keys{};  ///< Binding sockets: the server's key pair.
  std::optional<KeyPair> client_keys{};  ///< Connecting sockets: the client's own key pair...
  std::string server_public_key{};       ///< ...and the public key of the server it trusts.

  /// @brief No encryption, no authentication (ZeroMQ's NULL mechanism).
  [[nodiscard]] static Security plaintext() { return {}; }

  /// @brief A CURVE server holding `keys` (a ZapHandler must run in its context).
  [[nodiscard]] static Security server(KeyPair keys);

  /// @brief A CURVE client holding `keys`, trusting only the server with `server_public_key`.
  [[nodiscard]] static Security client(KeyPair keys, std::string server_public_key);

  /// @brief Whether this is plaintext (neither half set).
  [[nodiscard]] bool is_plaintext() const noexcept {
    return !server_keys.has_value() && !client_keys.has_value();
  }
};

/// @brief Sets `socket` up as a CURVE server (before it binds) when `security` — or, if empty,
///        the default of its context (ContextSecurity) — asks for CURVE; nothing for plaintext.
///
/// Throws SecurityError when no ZapHandler runs in `context` (the kit never runs CURVE without
/// one), when the Security has no server keys, or when libzmq lacks CURVE. `what` names the
/// socket in messages, e.g. `publisher 'order-service'`. Returns whether CURVE is on.
bool secure_server_socket(zmq::context_t& context, zmq::socket_t& socket,
                          const std::optional<Security>& security, std::string_view what);

/// @brief Sets `socket` up as a CURVE client (before it connects) when `security` — or, if
///        empty, the default of its context — asks for CURVE; nothing for plaintext.
///
/// Throws SecurityError when the Security has no client keys or no valid server public key.
/// Returns whether CURVE is on.
bool secure_client_socket(zmq::context_t& context, zmq::socket_t& socket,
                          const std::optional<Security>& security, std::string_view what);

/// @brief Turns CURVE on for every kit socket of a context: starts its ZapHandler (when the
///        Security has server keys) and makes the Security the default of every Publisher,
///        Subscriber, RpcServer and RpcClient created in the context without one of its own.
///
/// Create it right after the context and before any socket; destroy it after them (declare it
/// after the context, before everything else).
///
/// @par Example
/// @code
/// zmq::context_t context;
/// eda::ContextSecurity curve(context, eda::Security::server(server_keys), allowed_clients);
/// eda::Publisher events(context, {.source = "order-service", .endpoints = {"tcp://*:5556"}});
/// @endcode
class ContextSecurity {
 public:
  /// @brief Makes `security` the default of `context`, and starts its ZapHandler letting in
  ///        `allowed` when `security` has server keys; throws SecurityError when the context
  ///        already has a default.
  ContextSecurity(zmq::context_t& context, Security security, AllowList allowed = {});

  /// @brief Removes the default and stops the ZapHandler.
  ~ContextSecurity();

  ContextSecurity(const ContextSecurity&) = delete;             ///< Owns the context's default.
  ContextSecurity& operator=(const ContextSecurity&) = delete;  ///< Not assignable.

  /// @brief The context's ZapHandler; nullptr when the Security has no server keys.
  [[nodiscard]] const ZapHandler* zap() const noexcept { return zap_.get(); }

  /// @brief The default Security of `context`, empty when it has none (plaintext).
  [[nodiscard]] static std::optional<Security> default_of(zmq::context_t& context);

 private:
  void* context_handle_;
  std::unique_ptr<ZapHandler> zap_;
};

}  // namespace eda
