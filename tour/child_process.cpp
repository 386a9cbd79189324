#include "child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>

#include "eda/clock.hpp"

extern char** environ;

namespace eda::tour {

namespace {

volatile std::sig_atomic_t interrupted = 0;

extern "C" void on_interrupt(int) { interrupted = 1; }

/// A file descriptor closed when it goes.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd = -1) noexcept : fd_(fd) {}
  ~FileDescriptor() { close(); }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  [[nodiscard]] int get() const noexcept { return fd_; }
  void close() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

/// posix_spawn's two helper objects, destroyed when they go.
struct SpawnSetup {
  posix_spawn_file_actions_t actions{};
  posix_spawnattr_t attributes{};
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

/// Writes complete lines of `pending` to `out` with `prefix`, keeping an unfinished last line.
void write_lines(std::string& pending, std::ostream& out, const std::string& prefix) {
  std::size_t start = 0;
  for (std::size_t end; (end = pending.find('\n', start)) != std::string::npos; start = end + 1) {
    out << prefix << std::string_view(pending).substr(start, end - start) << '\n';
  }
  pending.erase(0, start);
  out << std::flush;
}

}  // namespace

std::string ChildOutcome::describe() const {
  if (interrupted) return "interrupted";
  if (timed_out) return "killed after its time limit";
  if (signal != 0)
    return "killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
  return "exit " + std::to_string(exit_code);
}

void stop_on_interrupt() {
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

bool interrupt_requested() noexcept { return interrupted != 0; }

ChildOutcome run_child(const std::string& program, const std::vector<std::string>& args,
                       std::chrono::milliseconds time_limit, std::ostream& out,
                       const std::string& prefix) {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("cannot create a pipe for ") + program + ": " +
                             std::strerror(errno));
  }
  FileDescriptor reading(ends[0]);
  FileDescriptor writing(ends[1]);

  SpawnSetup setup;
  // The child's standard output and error both go into the pipe (dup2 clears O_CLOEXEC on
  // the copies, so only these two survive the exec).
  posix_spawn_file_actions_adddup2(&setup.actions, writing.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&setup.actions, writing.get(), STDERR_FILENO);
  // A process group of its own (group id = its pid), so a timeout kills what it started too.
  posix_spawnattr_setflags(&setup.attributes, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&setup.attributes, 0);

  std::vector<std::string> arguments{program};
  arguments.insert(arguments.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);

  const std::int64_t start = monotonic_ns();
  pid_t pid = 0;
  const int spawned =
      posix_spawn(&pid, program.c_str(), &setup.actions, &setup.attributes, argv.data(), environ);
  if (spawned != 0) {
    throw std::runtime_error("cannot start " + program + ": " + std::strerror(spawned) +
                             " (was it built? `cmake --build` builds it with eda-tour)");
  }
  writing
      .close();  // only the child writes now: end of file means it (and its own children) closed it

  ChildOutcome outcome;
  const Deadline deadline(time_limit);
  std::string pending;
  bool exited = false;
  bool output_open = true;
  int status = 0;
  // After the child exited, output still open belongs to a process it left behind: it gets a
  // short grace period, not the whole time limit.
  std::int64_t exited_at = 0;
  while (true) {
    if (!exited && ::waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      exited_at = monotonic_ns();
    }
    if (exited && (!output_open || monotonic_ns() - exited_at > 500'000'000)) break;
    if (interrupted != 0 || deadline.expired()) {
      outcome.interrupted = interrupted != 0;
      outcome.timed_out = !outcome.interrupted;
      ::kill(-pid, SIGKILL);
      if (!exited) ::waitpid(pid, &status, 0);
      exited = true;
      break;
    }
    if (!output_open) {
      // Output closed but not exited yet: look again in 10 ms (the exit is checked above),
      // sleeping in poll() rather than spinning.
      (void)::poll(nullptr, 0, 10);
      continue;
    }
    pollfd ready{reading.get(), POLLIN, 0};
    if (::poll(&ready, 1, 100) > 0) {
      char buffer[4096];
      const ssize_t got = ::read(reading.get(), buffer, sizeof buffer);
      if (got > 0) {
        pending.append(buffer, static_cast<std::size_t>(got));
        write_lines(pending, out, prefix);
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        output_open = false;
      }
    }
  }
  if (!pending.empty()) {
    pending += '\n';
    write_lines(pending, out, prefix);
  }
  outcome.seconds = static_cast<double>(monotonic_ns() - start) / 1e9;
  if (!outcome.timed_out && !outcome.interrupted) {
    if (WIFEXITED(status)) outcome.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) outcome.signal = WTERMSIG(status);
  }
  return outcome;
}

}  // namespace eda::tour
