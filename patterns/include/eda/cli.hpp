/// @file cli.hpp
/// @brief The command-line flags every demo shares, built on CLI11 (target eda::cli).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>

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

/// @brief The keys a `--curve-keys` directory holds (layout: curve_keys_layout): server keys
///        and the allowed clients when `DIR/server.key_secret` exists, client keys and the
///        server's public key when `DIR/clients/client.key_secret` does. Throws SecurityError
///        when it holds neither, or a key file is unusable.
[[nodiscard]] CurveKeys load_curve_keys(const std::string& directory);

/// @brief The CurveSetup of `--curve-keys DIR` in `context` (the keys of DIR, and its ZAP
///        handler when DIR holds server keys); off (plaintext) when `directory` is empty.
///        Declare it after the context, before the sockets, and give each socket's options
///        `curve.server()`, `curve.client()` or `curve.both()`.
[[nodiscard]] CurveSetup curve_setup(zmq::context_t& context, const std::string& directory);

// ---- Stopping on Ctrl-C and SIGTERM ------------------------------------------------------------

/// @brief While it lives, SIGINT (Ctrl-C) and SIGTERM ask the program to stop instead of ending
///        it: the handler only sets a flag, stop_requested(), which the program's loops poll.
///        A role then finishes its step, says what it leaves behind, and exits 0.
///
/// How a signal meets the program:
/// - The handlers are installed with sigaction(). The flag is a lock-free std::atomic<bool>,
///   which a signal handler may write and every thread may read (a `volatile
///   std::sig_atomic_t` is safe for the handler, but reading it from a second thread is a
///   data race).
/// - A ZeroMQ wait the signal interrupts (zmq_poll(), a blocking receive) ends at once with
///   EINTR, which cppzmq throws as zmq::error_t. The kit's receive helpers (wait_readable(),
///   poll_within(), receive_frames()) turn it into "nothing arrived", and RpcClient::call()
///   ends at once with RpcTimeout, without sending the request again (a role catches that when
///   stop_requested()). Code that calls zmq::poll() itself wraps the call in unless_stopped(),
///   and eda::cli::run() takes an EINTR that ends the body after a stop request for a clean
///   stop.
/// - SA_RESTART is set, on purpose: it does not delay a stop, because Linux never restarts
///   poll() (so every ZeroMQ wait still ends with EINTR), and it spares every other system
///   call (a write to a full pipe on stdout, a blocking waitpid()) a spurious EINTR failure
///   that would turn a clean stop into an error.
/// - SA_RESETHAND: the second Ctrl-C ends the program at once, as a user expects when a stop
///   takes too long.
/// - Which thread: Linux hands a signal sent to the process to its main thread when that
///   thread does not block it, so the wait that ends with EINTR is the main thread's; the
///   other threads of a demo poll the flag with short ticks. (ZeroMQ's own threads block
///   signals.)
///
/// The handler is not inherited across exec: a child process starts with the default action.
/// One at a time; the destructor puts back the handlers it replaced (a signal after that ends
/// the program the default way).
///
/// @code
/// eda::cli::StopOnSignals stop_on_signals;
/// while (!eda::cli::stop_requested()) {
///   (void)eda::cli::unless_stopped([&] { service.serve_once(100ms); });
/// }
/// say.say("store", "stopped: the store keeps 20 events in orders.db");
/// @endcode
class StopOnSignals {
 public:
  /// @brief Clears the flag and installs the handlers for SIGINT and SIGTERM.
  StopOnSignals();
  /// @brief Puts back the handlers that were there before (the flag keeps its value).
  ~StopOnSignals();
  StopOnSignals(const StopOnSignals&) = delete;             ///< Owns the process's handlers.
  StopOnSignals& operator=(const StopOnSignals&) = delete;  ///< Owns the process's handlers.

 private:
  struct Saved;
  std::unique_ptr<Saved> saved_;
};

/// @brief Whether SIGINT or SIGTERM arrived since the last StopOnSignals was made. Lock-free:
///        any thread may poll it, as often as it likes.
[[nodiscard]] bool stop_requested() noexcept;

/// @brief Whether `error` is a ZeroMQ wait cut short by a stop request (EINTR after
///        stop_requested()), rather than a failure.
[[nodiscard]] bool interrupted_by_stop(const zmq::error_t& error) noexcept;

/// @brief Runs `wait` (a call that may block in ZeroMQ): true when it returned, false when a
///        stop request cut it short (see interrupted_by_stop()); any other error propagates.
template <class Wait>
bool unless_stopped(Wait&& wait) {
  try {
    std::forward<Wait>(wait)();
    return true;
  } catch (const zmq::error_t& error) {
    if (!interrupted_by_stop(error)) throw;
    return false;
  }
}

/// @brief Parses the command line and runs `body`, turning every failure into a clear
///        message and exit code: 0 for `--help`, 2 for a bad command line (with the usage
///        hint), 1 when `body` throws (printing `error: <what>`); otherwise `body`'s result.
///
/// A body that ends by a ZeroMQ wait cut short by a stop request (interrupted_by_stop()) has
/// stopped as asked, not failed: run() prints `stopped: interrupted while waiting` and
/// returns 0. Roles print their own last line (what they leave behind) by catching the
/// interruption themselves with unless_stopped(); this is the net under them.
int run(CLI::App& app, int argc, char** argv, const std::function<int()>& body);

}  // namespace eda::cli
