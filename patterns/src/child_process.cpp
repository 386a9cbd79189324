#include "eda/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <utility>

extern char** environ;

namespace eda {

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

/// How long output still open after the program ended is read for: long enough to drain what
/// it wrote, short enough that a process that escaped its group cannot hold the owner up.
constexpr auto drain_limit = 500ms;

/// A file descriptor closed when it goes.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd = -1) noexcept : fd_(fd) {}
  ~FileDescriptor() { reset(); }
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(other.release()) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = other.release();
    }
    return *this;
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  [[nodiscard]] int get() const noexcept { return fd_; }
  int release() noexcept { return std::exchange(fd_, -1); }
  void reset() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

/// `fd` moved above the standard descriptors (when this process runs with one of them closed,
/// a new descriptor can be 0, 1 or 2, and the child's redirections would overwrite it).
FileDescriptor above_standard(int fd) {
  FileDescriptor opened(fd);
  if (fd < 0 || fd > STDERR_FILENO) return opened;
  return FileDescriptor(::fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1));
}

/// Both ends of a pipe, closed on exec in this process and its children.
struct Pipe {
  FileDescriptor read_end;
  FileDescriptor write_end;
};

Pipe make_pipe(const std::string& command_line) {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) {
    throw SpawnError(command_line, std::string("cannot create a pipe: ") + std::strerror(errno));
  }
  Pipe made{above_standard(ends[0]), above_standard(ends[1])};
  if (made.read_end.get() < 0 || made.write_end.get() < 0) {
    throw SpawnError(command_line, std::string("cannot create a pipe: ") + std::strerror(errno));
  }
  return made;
}

void close_fd(int& fd) noexcept {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

std::string join(const std::vector<std::string>& argv) {
  std::string line;
  for (const std::string& arg : argv) line += (line.empty() ? "" : " ") + arg;
  return line;
}

/// `60 s` or `250 ms`.
std::string duration_words(std::chrono::milliseconds duration) {
  if (duration.count() % 1000 == 0) return std::to_string(duration.count() / 1000) + " s";
  return std::to_string(duration.count()) + " ms";
}

/// What the child could not do before its program took over, reported through a pipe.
enum class ChildStep : int { process_group, owner_signal, redirect, execute };

struct ChildFailure {
  ChildStep step;
  int error;
};

std::string failure_words(const ChildFailure& failure, const std::string& program) {
  const std::string reason = std::strerror(failure.error);
  switch (failure.step) {
    case ChildStep::process_group:
      return "cannot give it a process group of its own: " + reason;
    case ChildStep::owner_signal:
      return "cannot ask for a signal when its owner ends: " + reason;
    case ChildStep::redirect:
      return "cannot redirect its standard input and output: " + reason;
    case ChildStep::execute:
      break;
  }
  return "cannot execute " + program + ": " + reason;
}

/// Everything the child needs, prepared before fork(): after it, the child may make only
/// async-signal-safe calls (this process may have other threads, holding locks).
struct Launch {
  const char* program;
  char* const* argv;
  pid_t parent;
  bool end_with_owner;
  int null_device;  // standard input always; output and error when discarded
  bool discard;     // output and error go to null_device
  int output;       // the capture pipe's write end, or -1
  int report;       // where a failure before exec is written
  const struct sigaction* default_action;
  const sigset_t* no_signals;
};

[[noreturn]] void fail_in_child(const Launch& launch, ChildStep step) noexcept {
  const ChildFailure failure{step, errno};
  (void)!::write(launch.report, &failure, sizeof failure);
  ::_exit(127);
}

[[noreturn]] void become_program(const Launch& launch) noexcept {
  if (::setpgid(0, 0) != 0) fail_in_child(launch, ChildStep::process_group);
  if (launch.end_with_owner) {
    if (::prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) fail_in_child(launch, ChildStep::owner_signal);
    if (::getppid() != launch.parent) ::_exit(127);  // the owner has ended already
  }
  // dup2 clears close-on-exec on the copies: only these survive the exec.
  if (::dup2(launch.null_device, STDIN_FILENO) < 0) fail_in_child(launch, ChildStep::redirect);
  const int output = launch.output >= 0 ? launch.output : launch.null_device;
  if (launch.output >= 0 || launch.discard) {
    if (::dup2(output, STDOUT_FILENO) < 0 || ::dup2(output, STDERR_FILENO) < 0) {
      fail_in_child(launch, ChildStep::redirect);
    }
  }
  // Ignored signals and the signal mask survive exec: reset both, so that SIGTERM and SIGKILL
  // sent to the group mean what they say whatever this process does with its own signals.
  for (int number = 1; number < NSIG; ++number) {
    (void)::sigaction(number, launch.default_action, nullptr);
  }
  (void)::sigprocmask(SIG_SETMASK, launch.no_signals, nullptr);
  ::execve(launch.program, launch.argv, environ);
  fail_in_child(launch, ChildStep::execute);
}

}  // namespace

std::string ChildResult::ending() const {
  std::string how;
  if (signal != 0) {
    const char* name = ::sigabbrev_np(signal);
    how = "killed by signal " + std::to_string(signal) +
          (name != nullptr ? std::string(" (SIG") + name + ")" : std::string());
  } else if (exit_code >= 0) {
    how = "exit " + std::to_string(exit_code);
  } else {
    how = "its exit status was lost (something else reaped it)";
  }
  if (timed_out) {
    return "ran past its deadline of " + duration_words(deadline) +
           ": its process group was stopped (" + how + ")";
  }
  if (stopped) return "stopped with its process group by its owner (" + how + ")";
  return how;
}

std::string ChildResult::describe() const { return command_line + ": " + ending(); }

SpawnError::SpawnError(const std::string& command_line, const std::string& reason)
    : Error(ErrorCategory::process, "cannot start `" + command_line + "`: " + reason) {}

ChildProcess::ChildProcess(ChildSpec spec) : command_line_(join(spec.argv)), grace_(spec.grace) {
  if (spec.argv.empty()) {
    throw std::invalid_argument("ChildProcess: the command line is empty (argv[0] is the program)");
  }
  for (const std::string& arg : spec.argv) {
    if (arg.find('\0') != std::string::npos) {
      throw std::invalid_argument("ChildProcess: an argument of `" + command_line_ +
                                  "` contains a NUL byte, which a command line cannot carry");
    }
  }
  if (spec.grace < 0ms) {
    throw std::invalid_argument("ChildProcess: a negative grace period for `" + command_line_ +
                                "`");
  }
  const std::optional<std::string> program = find_on_path(spec.argv.front());
  if (!program) {
    throw SpawnError(command_line_,
                     spec.argv.front().find('/') == std::string::npos
                         ? spec.argv.front() + " was not found on PATH"
                         : spec.argv.front() + " does not exist or is not executable");
  }
  outcome_.command_line = command_line_;

  std::vector<char*> argv;
  for (std::string& arg : spec.argv) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const FileDescriptor null_device = above_standard(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (null_device.get() < 0) {
    throw SpawnError(command_line_, std::string("cannot open /dev/null: ") + std::strerror(errno));
  }
  std::optional<Pipe> output;
  if (spec.output == ChildOutput::capture) {
    output = make_pipe(command_line_);
    // Reads never block: a process that escaped the group may hold the pipe open for ever.
    if (::fcntl(output->read_end.get(), F_SETFL, O_NONBLOCK) != 0) {
      throw SpawnError(command_line_,
                       std::string("cannot configure its output pipe: ") + std::strerror(errno));
    }
  }
  Pipe report = make_pipe(command_line_);
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  sigemptyset(&default_action.sa_mask);
  sigset_t no_signals;
  sigemptyset(&no_signals);
  const Launch launch{.program = program->c_str(),
                      .argv = argv.data(),
                      .parent = ::getpid(),
                      .end_with_owner = spec.end_with_owner,
                      .null_device = null_device.get(),
                      .discard = spec.output == ChildOutput::discard,
                      .output = output ? output->write_end.get() : -1,
                      .report = report.write_end.get(),
                      .default_action = &default_action,
                      .no_signals = &no_signals};

  const pid_t pid = ::fork();
  if (pid < 0) throw SpawnError(command_line_, std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) become_program(launch);

  // Only the child writes now. The report pipe closes on its exec (success) or carries why it
  // failed; either way, once read, the child has its process group.
  report.write_end.reset();
  if (output) output->write_end.reset();
  ChildFailure failure{};
  ssize_t got = 0;
  while ((got = ::read(report.read_end.get(), &failure, sizeof failure)) < 0 && errno == EINTR) {
  }
  if (got == static_cast<ssize_t>(sizeof failure)) {
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    throw SpawnError(command_line_, failure_words(failure, *program));
  }
  pid_ = pid;
  // A pidfd becomes readable when the child ends: a wait with a timeout, without sleeping.
  // (A system call: glibc 2.36 declares pidfd_open() without C linkage for C++.) Where it is
  // unavailable, waits look every 10 ms instead.
  pid_fd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (output) output_fd_ = output->read_end.release();
}

ChildProcess::~ChildProcess() {
  if (pid_ < 0) return;
  try {
    (void)stop();
  } catch (...) {  // out of memory while stopping: still no zombie and no group left behind
    ::kill(-pid_, SIGKILL);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  close_fd(pid_fd_);
  close_fd(output_fd_);
}

ChildResult ChildProcess::wait(std::chrono::milliseconds deadline, const LineHandler& on_line,
                               const std::function<bool()>& keep_waiting) {
  if (result_) return *result_;
  switch (pump(Clock::now() + deadline, on_line, keep_waiting ? &keep_waiting : nullptr)) {
    case Waited::ended:
      break;
    case Waited::deadline_passed:
      outcome_.timed_out = true;
      outcome_.deadline = deadline;
      stop_group(on_line);
      break;
    case Waited::told_to_stop:
      outcome_.stopped = true;
      stop_group(on_line);
      break;
  }
  return reap(on_line);
}

std::optional<ChildResult> ChildProcess::wait_for(std::chrono::milliseconds timeout,
                                                  const LineHandler& on_line) {
  if (result_) return result_;
  if (pump(Clock::now() + timeout, on_line, nullptr) != Waited::ended) return std::nullopt;
  return reap(on_line);
}

ChildResult ChildProcess::stop(const LineHandler& on_line) {
  if (result_) return *result_;
  if (!has_ended()) {
    outcome_.stopped = true;
    stop_group(on_line);
  }
  return reap(on_line);
}

void ChildProcess::signal(int number) {
  if (pid_ < 0) {
    throw std::logic_error("cannot send signal " + std::to_string(number) + " to `" +
                           command_line_ + "`: it has ended and been reaped");
  }
  if (::kill(-pid_, number) != 0 && errno == EINVAL) {
    throw std::invalid_argument("cannot send signal " + std::to_string(number) + " to `" +
                                command_line_ + "`: no such signal");
  }
}

bool ChildProcess::has_ended() {
  siginfo_t info{};
  while (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    if (errno != EINTR) return true;  // ECHILD: something else reaped it
  }
  return info.si_pid == pid_;
}

ChildProcess::Waited ChildProcess::pump(Clock::time_point until, const LineHandler& on_line,
                                        const std::function<bool()>* keep_waiting) {
  while (true) {
    if (has_ended()) return Waited::ended;
    if (keep_waiting != nullptr && !(*keep_waiting)()) return Waited::told_to_stop;
    const Clock::time_point now = Clock::now();
    if (now >= until) {
      // Even a wait of no time hands over the output already written (else a caller polling
      // with wait_for(0ms) would never see a line before the child ends).
      drain_ready_output(on_line);
      return Waited::deadline_passed;
    }
    auto timeout = std::chrono::ceil<std::chrono::milliseconds>(until - now);
    if (pid_fd_ < 0) timeout = std::min<std::chrono::milliseconds>(timeout, 10ms);
    // A signal that arrives just before poll() does not interrupt it: look again soon anyway.
    if (keep_waiting != nullptr) timeout = std::min<std::chrono::milliseconds>(timeout, 100ms);
    pollfd ready[2]{};
    nfds_t count = 0;
    if (pid_fd_ >= 0) ready[count++] = {pid_fd_, POLLIN, 0};
    const nfds_t output_at = count;
    if (output_fd_ >= 0) ready[count++] = {output_fd_, POLLIN, 0};
    const int waited =
        static_cast<int>(std::min<std::chrono::milliseconds::rep>(timeout.count(), INT_MAX));
    if (::poll(ready, count, waited) > 0 && output_fd_ >= 0 && ready[output_at].revents != 0) {
      read_output(on_line);
    }
  }
}

void ChildProcess::drain_ready_output(const LineHandler& on_line) {
  // Bounded: a child writing without pause must not keep its owner here.
  for (int reads = 0; reads < 64 && output_fd_ >= 0; ++reads) {
    pollfd output{output_fd_, POLLIN, 0};
    if (::poll(&output, 1, 0) <= 0 || output.revents == 0) return;
    read_output(on_line);
  }
}

void ChildProcess::read_output(const LineHandler& on_line) {
  char buffer[4096];
  const ssize_t got = ::read(output_fd_, buffer, sizeof buffer);
  if (got > 0) {
    take_output(std::string_view(buffer, static_cast<std::size_t>(got)), on_line);
  } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
    close_output(on_line);
  }
}

void ChildProcess::take_output(std::string_view text, const LineHandler& on_line) {
  if (!on_line) {
    captured_ += std::exchange(pending_, {});
    captured_ += text;
    return;
  }
  pending_ += text;
  std::size_t start = 0;
  for (std::size_t end; (end = pending_.find('\n', start)) != std::string::npos; start = end + 1) {
    on_line(std::string_view(pending_).substr(start, end - start));
  }
  pending_.erase(0, start);
}

void ChildProcess::close_output(const LineHandler& on_line) {
  close_fd(output_fd_);
  if (pending_.empty()) return;
  if (on_line) {
    on_line(std::exchange(pending_, {}));
  } else {
    captured_ += std::exchange(pending_, {});
  }
}

void ChildProcess::stop_group(const LineHandler& on_line) {
  ::kill(-pid_, SIGTERM);
  ::kill(-pid_, SIGCONT);  // a stopped process acts on SIGTERM only once it runs again
  if (pump(Clock::now() + grace_, on_line, nullptr) != Waited::ended) ::kill(-pid_, SIGKILL);
}

ChildResult ChildProcess::reap(const LineHandler& on_line) {
  siginfo_t info{};
  int waited = 0;
  // WNOWAIT: the child stays a zombie, so its pid (the group's id) cannot be reused while what
  // it left running in its group is killed.
  while ((waited = ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT)) != 0 &&
         errno == EINTR) {
  }
  if (waited == 0) {
    if (info.si_code == CLD_EXITED) {
      outcome_.exit_code = info.si_status;
    } else {
      outcome_.signal = info.si_status;
    }
    ::kill(-pid_, SIGKILL);
  }
  const Clock::time_point until = Clock::now() + drain_limit;
  while (output_fd_ >= 0) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now());
    pollfd ready{output_fd_, POLLIN, 0};
    const int polled = left <= 0ms ? 0 : ::poll(&ready, 1, static_cast<int>(left.count()));
    if (polled == 0) {
      close_output(on_line);
    } else if (polled > 0) {
      read_output(on_line);
    }
  }
  if (waited == 0) {
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  pid_ = -1;
  close_fd(pid_fd_);
  outcome_.output = std::exchange(captured_, {});
  result_ = outcome_;
  return *result_;
}

std::optional<std::string> find_on_path(std::string_view program) {
  const auto runnable = [](const std::string& candidate) {
    return ::access(candidate.c_str(), X_OK) == 0 && !std::filesystem::is_directory(candidate);
  };
  if (program.empty()) return std::nullopt;
  if (program.find('/') != std::string_view::npos) {
    if (runnable(std::string(program))) return std::string(program);
    return std::nullopt;
  }
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "";
  while (!dirs.empty()) {
    const std::size_t colon = dirs.find(':');
    const std::string_view dir = dirs.substr(0, colon);
    dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
    if (dir.empty()) continue;
    std::string candidate = std::string(dir) + "/" + std::string(program);
    if (runnable(candidate)) return candidate;
  }
  return std::nullopt;
}

std::string this_program_path() {
  std::error_code error;
  const auto path = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error)
    throw SpawnError("/proc/self/exe", "cannot read this program's path: " + error.message());
  return path.string();
}

}  // namespace eda
