/// @file jetstream_server.hpp
/// @brief A throw-away NATS server with JetStream: `nats-server -js` on a free loopback port,
///        its store in a temporary folder, stopped and removed when the object goes.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "eda/brokers/loopback.hpp"
#include "eda/child_process.hpp"

namespace eda::brokers {

/// @brief Raised when a broker is installed but cannot be started (or stopped): the message
///        carries the server's own words (the end of its log). Category: ErrorCategory::process.
class BrokerStartError : public Error {
 public:
  /// @brief A start error with `message`.
  explicit BrokerStartError(const std::string& message) : Error(ErrorCategory::process, message) {}
};

/// @brief Where Debian's `nats-server` is installed, or nothing when the package is absent.
[[nodiscard]] std::optional<std::string> find_nats_server();

/// @brief A `nats-server -js` of its own: listening on 127.0.0.1 only (no monitoring port, no
///        cluster), its JetStream store and log in a temporary folder, ready when constructed.
///
/// JetStream starts in well under a second, so each test may have its own server.
///
/// @par Errors
/// The constructor throws BrokerStartError with the end of the server's log when the server
/// exits at start or does not accept connections within `ready_within`, and eda::SpawnError
/// when the program cannot be run at all.
class JetStreamServer {
 public:
  /// @brief Starts `program` (see find_nats_server()) and waits until it accepts connections;
  ///        `extra_arguments` go after ours (e.g. `-c FILE` for a configuration).
  explicit JetStreamServer(const std::string& program,
                           std::chrono::milliseconds ready_within = std::chrono::seconds(10),
                           const std::vector<std::string>& extra_arguments = {});
  /// @brief Stops the server (SIGTERM, then SIGKILL after 5 s) and removes its folder.
  ///
  /// What it printed before its log file opened (a bad flag, a bad configuration) is captured
  /// and quoted by the errors; once running it logs to its file only.
  ~JetStreamServer() = default;
  JetStreamServer(const JetStreamServer&) = delete;             ///< Owns a process.
  JetStreamServer& operator=(const JetStreamServer&) = delete;  ///< Owns a process.

  /// @brief Where clients connect, e.g. `nats://127.0.0.1:40123`.
  [[nodiscard]] const std::string& url() const noexcept { return url_; }
  /// @brief The server's process id.
  [[nodiscard]] pid_t pid() const noexcept { return server_->pid(); }

  /// @brief Kills the server with SIGKILL (a crash: nothing is flushed or synced), waits for
  ///        it to end, and starts it again on the same port and store; returns once it accepts
  ///        connections. Throws BrokerStartError as the constructor does.
  void crash_and_restart(std::chrono::milliseconds ready_within = std::chrono::seconds(10));
  /// @brief The JetStream store directory.
  [[nodiscard]] std::filesystem::path store_directory() const { return folder_.path() / "store"; }
  /// @brief The server's log file.
  [[nodiscard]] std::filesystem::path log_file() const {
    return folder_.path() / "nats-server.log";
  }

 private:
  void wait_until_ready(std::chrono::milliseconds ready_within);

  [[nodiscard]] ChildSpec spec() const;

  TemporaryFolder folder_;  // declared first: removed after the server has stopped
  std::uint16_t port_;
  std::string url_;
  std::vector<std::string> argv_;
  std::optional<ChildProcess> server_;
};

}  // namespace eda::brokers
