/// @file child_process.hpp
/// @brief The tour's demos as child processes (eda::ChildProcess): their output shown line by
///        line with a prefix, their run bounded by a time limit, and Ctrl-C stopping them.
#pragma once

#include <chrono>
#include <ostream>
#include <string>
#include <vector>

#include "eda/child_process.hpp"

namespace eda::tour {

/// @brief Runs `program` with `args`, copying everything it writes (standard output and
///        error) to `out` line by line, each line prefixed with `prefix`.
///
/// The demo runs in a process group of its own: when it outlives `time_limit`
/// (ChildResult::timed_out), or the tour is interrupted (ChildResult::stopped), the whole
/// group — the demo and any process it started itself — is stopped (SIGTERM, then SIGKILL).
/// Throws std::runtime_error, saying why and asking whether it was built, when the program
/// cannot be started.
ChildResult run_demo(const std::string& program, const std::vector<std::string>& args,
                     std::chrono::milliseconds time_limit, std::ostream& out,
                     const std::string& prefix);

/// @brief Makes SIGINT and SIGTERM ask the tour to stop instead of ending it at once: a running
///        demo is then stopped (with its group) rather than left behind.
void stop_on_interrupt();

/// @brief Whether the tour was asked to stop (SIGINT or SIGTERM).
[[nodiscard]] bool interrupt_requested() noexcept;

}  // namespace eda::tour
