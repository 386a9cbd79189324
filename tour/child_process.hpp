/// @file child_process.hpp
/// @brief Runs a demo as a child process: its output shown line by line with a prefix, its
///        run bounded by a time limit.
#pragma once

#include <chrono>
#include <ostream>
#include <string>
#include <vector>

namespace eda::tour {

/// @brief How a child process ended.
struct ChildOutcome {
  int exit_code = -1;        ///< Its exit status, when it exited by itself.
  int signal = 0;            ///< The signal that ended it, if one did.
  bool timed_out = false;    ///< It ran past its time limit and was killed.
  bool interrupted = false;  ///< The tour was interrupted (Ctrl-C) and killed it.
  double seconds = 0;        ///< How long it ran.

  /// @brief Whether it exited by itself with status 0.
  [[nodiscard]] bool succeeded() const noexcept {
    return exit_code == 0 && signal == 0 && !timed_out && !interrupted;
  }
  /// @brief How it ended, in words: `exit 0`, `exit 1`, `killed by signal 11`, ...
  [[nodiscard]] std::string describe() const;
};

/// @brief Runs `program` with `args`, copying everything it writes (standard output and
///        error) to `out` line by line, each line prefixed with `prefix`.
///
/// The child runs in a process group of its own, so that when it outlives `time_limit` the
/// whole group — the demo and any process it started itself — is killed (SIGKILL). Throws
/// std::runtime_error when the program cannot be started.
ChildOutcome run_child(const std::string& program, const std::vector<std::string>& args,
                       std::chrono::milliseconds time_limit, std::ostream& out,
                       const std::string& prefix);

/// @brief Makes SIGINT and SIGTERM ask the tour to stop instead of ending it at once: a running
///        child is then killed (with its group) rather than left behind.
void stop_on_interrupt();

/// @brief Whether the tour was asked to stop (SIGINT or SIGTERM).
[[nodiscard]] bool interrupt_requested() noexcept;

}  // namespace eda::tour
