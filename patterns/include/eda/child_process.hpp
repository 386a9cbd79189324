/// @file child_process.hpp
/// @brief Another program run as a child process: in a process group of its own, waited for
///        with a deadline, stopped with its whole group when it overruns, and always reaped.
///
/// The tour runs each pattern's demo this way, the tracer runs Graphviz's `dot`, and the peer
/// benchmark runs a `nats-server`. One class does it for all of them, so a demo that hangs, or
/// a server that a crashed benchmark leaves behind, is handled once and the same way.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "eda/errors.hpp"

namespace eda {

/// @brief Where a child's standard output and standard error go. (Its standard input is
///        always `/dev/null`: a child in a process group of its own must not read the terminal.)
enum class ChildOutput {
  inherit,  ///< Where this process's go: the child writes to the same terminal or file.
  discard,  ///< Nowhere (`/dev/null`): for a server whose log would mix with our output.
  capture,  ///< Into a pipe this process reads, both merged in the order they were written:
            ///< handed to a line handler while waiting, or kept in ChildResult::output.
};

/// @brief What to run, and how.
struct ChildSpec {
  /// @brief The program and its arguments; argv[0] is the program, looked up on `PATH` when it
  ///        has no `/` in it.
  std::vector<std::string> argv;
  /// @brief Where its standard output and error go.
  ChildOutput output = ChildOutput::inherit;
  /// @brief How long SIGTERM has to end the process group before SIGKILL does, whenever the
  ///        child is stopped (an overrun deadline, ChildProcess::stop, destruction).
  std::chrono::milliseconds grace{5000};
  /// @brief Whether the child gets SIGTERM when the thread that started it ends, even by a crash
  ///        or SIGKILL (Linux's parent-death signal): for a server that must not outlive a
  ///        benchmark. It is the starting *thread* that counts, so start such a child from a
  ///        thread that lives as long as the child should.
  bool end_with_owner = false;
};

/// @brief How a child ended: a value, because a program that fails or overruns is an outcome
///        the caller expects and reports, not a fault of the caller.
struct ChildResult {
  std::string command_line;  ///< What ran: argv joined with spaces.
  int exit_code = -1;        ///< Its exit status when it exited, -1 when a signal ended it.
  int signal = 0;            ///< The signal that ended it, 0 when it exited.
  bool timed_out = false;    ///< It ran past its deadline, and its group was stopped.
  bool stopped = false;      ///< Its owner stopped it (ChildProcess::stop, or a wait that was
                             ///< told to stop waiting).
  std::chrono::milliseconds deadline{0};  ///< The deadline it overran (when timed_out).
  std::string output;  ///< What it wrote, when captured and no line handler took it.

  /// @brief Whether it exited by itself with status 0.
  [[nodiscard]] bool succeeded() const noexcept {
    return exit_code == 0 && signal == 0 && !timed_out && !stopped;
  }
  /// @brief How it ended, in words: `exit 0`, `killed by signal 10 (User defined signal 1)`,
  ///        `ran past its deadline of 60 s: its process group was stopped (signal 15 ...)`.
  [[nodiscard]] std::string ending() const;
  /// @brief The command line and how it ended: `dot -Tsvg a.dot -o a.svg: exit 1`.
  [[nodiscard]] std::string describe() const;
};

/// @brief Raised when a program cannot be started at all: not found on `PATH`, not executable,
///        no processes or pipes left. The message names the command line and the reason.
///        Category: ErrorCategory::process.
class SpawnError : public Error {
 public:
  /// @brief A spawn error for `command_line`, with the reason in words.
  SpawnError(const std::string& command_line, const std::string& reason);
};

/// @brief Receives what a captured child writes, one line at a time, without its newline (a
///        last line without a newline too, once the child has ended).
using LineHandler = std::function<void(std::string_view line)>;

/// @brief A running program, started in a process group of its own (group id = its pid), so
///        that stopping it stops whatever it started too.
///
/// @par Stopping
/// A child is stopped by SIGTERM to its whole group and, if the group's leader has not ended
/// after ChildSpec::grace, SIGKILL to the group. That happens when a wait runs past its
/// deadline, on stop(), and when the object is destroyed (also while an exception unwinds)
/// with the child still running. When the program ends, whatever it left running in its group
/// is killed (SIGKILL) before the program is reaped, so no process group outlives its owner.
///
/// @par Errors
/// Failing and overrunning programs are results (ChildResult). A program that cannot be
/// started throws SpawnError; misuse (an empty command line, signalling a reaped child)
/// throws std::invalid_argument or std::logic_error.
///
/// @par Thread safety
/// One owner: the object is not safe to use from two threads at once. The owning process
/// must not reap children behind its back (`waitpid(-1, ...)`, SIGCHLD ignored).
class ChildProcess {
 public:
  /// @brief Starts `spec.argv`; returns once the program is running (its exec succeeded).
  explicit ChildProcess(ChildSpec spec);
  /// @brief Stops the child with its group if it still runs (see Stopping), and reaps it.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  /// @brief Its process id (also its process group id); -1 once it has been reaped.
  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  /// @brief What runs: argv joined with spaces.
  [[nodiscard]] const std::string& command_line() const noexcept { return command_line_; }

  /// @brief Waits for the program to end, at most `deadline`; when it runs past it, stops its
  ///        group and says so (ChildResult::timed_out).
  ///
  /// Captured output goes to `on_line` as it comes (or into ChildResult::output without one).
  /// `keep_waiting`, when given, is asked at least every 100 ms and on every signal this
  /// process receives; when it says no, the group is stopped (ChildResult::stopped). Once the
  /// child has been reaped, every wait returns the same result at once.
  ChildResult wait(std::chrono::milliseconds deadline, const LineHandler& on_line = {},
                   const std::function<bool()>& keep_waiting = {});

  /// @brief Waits at most `timeout` for the program to end, without stopping it: its result
  ///        once it has ended (and been reaped), nothing while it still runs. Captured output
  ///        already written goes to `on_line` even with a timeout of 0.
  std::optional<ChildResult> wait_for(std::chrono::milliseconds timeout,
                                      const LineHandler& on_line = {});

  /// @brief Stops the child with its group (see Stopping), reaps it, and says how it ended.
  ChildResult stop(const LineHandler& on_line = {});

  /// @brief Sends signal `number` to the child's whole process group; wait() then says how it
  ///        ended. Throws std::logic_error once the child has been reaped.
  void signal(int number);

 private:
  /// Why pump() returned.
  enum class Waited { ended, deadline_passed, told_to_stop };

  bool has_ended();
  Waited pump(std::chrono::steady_clock::time_point until, const LineHandler& on_line,
              const std::function<bool()>* keep_waiting);
  void drain_ready_output(const LineHandler& on_line);  // what is already written, now
  void read_output(const LineHandler& on_line);
  void take_output(std::string_view text, const LineHandler& on_line);
  void close_output(const LineHandler& on_line);
  void stop_group(const LineHandler& on_line);
  ChildResult reap(const LineHandler& on_line);

  std::string command_line_;
  std::chrono::milliseconds grace_;
  pid_t pid_ = -1;        // the child, until it has been reaped
  int pid_fd_ = -1;       // readable when it has ended; -1 where pidfd_open is unavailable
  int output_fd_ = -1;    // the read end of the capture pipe, until end of file
  std::string pending_;   // an unfinished line of captured output
  std::string captured_;  // captured output no line handler took
  ChildResult outcome_;   // filled in as the child is stopped and reaped
  std::optional<ChildResult> result_;  // set once reaped
};

/// @brief The full path of `program` in a directory of `PATH` (executable, not a directory),
///        or nothing when it is not installed.
[[nodiscard]] std::optional<std::string> find_on_path(std::string_view program);

/// @brief The full path of the program this process runs (Linux's `/proc/self/exe`), for a
///        program that starts copies of itself as child processes: a demo's `--role` processes
///        it kills, a benchmark that runs itself again under a throw-away server.
/// @throws SpawnError when the path cannot be read (no `/proc` mounted).
[[nodiscard]] std::string this_program_path();

}  // namespace eda
