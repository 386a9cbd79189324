/// @file cli.hpp
/// @brief The command-line flags every demo shares, built on CLI11 (target eda::cli).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <zmq.hpp>

#include "eda/endpoint.hpp"
#include "eda/security.hpp"

namespace eda::cli {

/// @brief Flags every demo has, with the same names and meaning everywhere.
struct CommonOptions {
  Transport transport = Transport::inproc;  ///< `--transport`: for roles run in one process.
  std::size_t count = 5;                    ///< `--count`: how many events or orders.
  int verbosity = 1;                        ///< `-v` raises it, `-q` sets it to 0.
};

/// @brief Adds `--transport`, `--count`, `-v/--verbose` and `-q/--quiet` to `app`.
///
/// `--count` is checked to lie in 1..`max_count`.
void add_common_options(CLI::App& app, CommonOptions& options, std::size_t max_count = 10'000'000);

/// @brief Adds an endpoint flag (e.g. `--events`) whose value is checked to be a valid
///        `inproc://`, `ipc://` or `tcp://` endpoint before the program runs.
CLI::Option* add_endpoint_option(CLI::App& app, const std::string& flag, std::string& target,
                                 const std::string& description);

/// @brief What `--curve-keys DIR` expects in DIR, for the demos' `--help`.
inline constexpr const char* curve_keys_layout =
    "Run every socket with CURVE encryption and authentication (ZAP), keys from DIR:\n"
    "  DIR/server.key, DIR/server.key_secret   the servers' key pair (binding sockets)\n"
    "  DIR/clients/*.key                        public keys the servers let in\n"
    "  DIR/clients/client.key_secret            the key pair this process's clients use\n"
    "Make them with: eda-keys generate DIR server && eda-keys generate DIR/clients client.\n"
    "A process that only serves needs no client pair; one that only connects needs\n"
    "DIR/server.key (public) and its client pair.";

/// @brief Adds `--curve-keys DIR` (the layout is curve_keys_layout); the directory is checked
///        to exist before the program runs.
CLI::Option* add_curve_keys_option(CLI::App& app, std::string& directory);

/// @brief The Security a `--curve-keys` directory describes, and the client keys its servers
///        let in: server keys when `DIR/server.key_secret` exists, client keys when
///        `DIR/clients/client.key_secret` does. Throws SecurityError when it holds neither, or
///        a key file is unusable.
struct CurveKeys {
  Security security;  ///< The keys, both halves when the directory holds both.
  AllowList allowed;  ///< Every `DIR/clients/*.key`.

  /// @brief Loads the keys of `directory` (layout: curve_keys_layout).
  [[nodiscard]] static CurveKeys load(const std::string& directory);
};

/// @brief Turns `--curve-keys DIR` into CURVE for every kit socket of `context` (a
///        ContextSecurity with the keys of DIR and its ZAP handler); nullptr (plaintext) when
///        `directory` is empty. Keep the result alive as long as the context's sockets.
[[nodiscard]] std::unique_ptr<ContextSecurity> secure_context(zmq::context_t& context,
                                                              const std::string& directory);

/// @brief Parses the command line and runs `body`, turning every failure into a clear
///        message and exit code: 0 for `--help`, 2 for a bad command line (with the usage
///        hint), 1 when `body` throws (printing `error: <what>`); otherwise `body`'s result.
int run(CLI::App& app, int argc, char** argv, const std::function<int()>& body);

}  // namespace eda::cli
