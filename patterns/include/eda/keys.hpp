/// @file keys.hpp
/// @brief CURVE keys: key pairs and their files, Z85 checks, and the allow-list of the client
///        keys a server lets in.
///
/// On disk a pair is two files in one directory: `NAME.key` holds the public key (share it),
/// `NAME.key_secret` the secret key (mode 0600, never share it). Each holds its key on one
/// line; blank lines and lines starting with `#` are comments. `eda-keys generate DIR NAME`
/// makes them.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <string_view>

namespace eda {

/// @brief Length of a CURVE key written as Z85 text (32 bytes become 40 characters).
inline constexpr std::size_t curve_key_text_size = 40;

/// @brief Whether libzmq was built with CURVE support (libsodium or its own tweetnacl).
[[nodiscard]] bool curve_available() noexcept;

/// @brief Throws SecurityError, saying what to install, when libzmq lacks CURVE.
void require_curve();

/// @brief Whether `text` is a CURVE key in Z85: exactly 40 characters of the Z85 alphabet.
[[nodiscard]] bool is_z85_key(std::string_view text) noexcept;

/// @brief Throws SecurityError saying that `what` is not a CURVE key, unless `key` is one.
void check_z85_key(std::string_view key, const std::string& what);

/// @brief A CURVE key pair, both halves as Z85 text.
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

  /// @brief Throws SecurityError naming `what` unless both halves are Z85 keys.
  void check(const std::string& what) const;
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

}  // namespace eda
