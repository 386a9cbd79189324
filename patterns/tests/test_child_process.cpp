// eda::ChildProcess: results as values, the whole process group stopped on overrun and on
// destruction, always reaped, spawn failures and misuse as exceptions. Every wait is bounded;
// no test asserts how long anything took.

#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "eda/child_process.hpp"
#include "eda/clock.hpp"

namespace {

using namespace std::chrono_literals;
using eda::ChildOutput;
using eda::ChildProcess;
using eda::ChildResult;

/// A shell that starts `sleep 60` in the background, prints its pid and waits for it: a
/// program with a child of its own in its process group.
const std::vector<std::string> shell_with_sleeping_child = {"sh", "-c", "sleep 60 & echo $!; wait"};

/// A pidfd of another process: readable once that process has ended (not only our children).
class ProcessWatch {
 public:
  explicit ProcessWatch(pid_t pid) : fd_(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0))) {
    REQUIRE(fd_ >= 0);
  }
  ~ProcessWatch() { ::close(fd_); }
  ProcessWatch(const ProcessWatch&) = delete;
  ProcessWatch& operator=(const ProcessWatch&) = delete;

  /// Whether the process ends within `timeout`.
  [[nodiscard]] bool ends_within(std::chrono::milliseconds timeout) const {
    pollfd ended{fd_, POLLIN, 0};
    return ::poll(&ended, 1, static_cast<int>(timeout.count())) == 1;
  }

 private:
  int fd_;
};

/// The first line `child` writes (within 10 s, else the test fails).
std::string first_line(ChildProcess& child) {
  std::optional<std::string> line;
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (!line && std::chrono::steady_clock::now() < until) {
    const auto ended = child.wait_for(100ms, [&](std::string_view text) {
      if (!line) line = std::string(text);
    });
    if (ended) break;
  }
  REQUIRE(line.has_value());
  return *line;
}

/// Whether `pid` is no longer a child of this process waiting to be reaped (no zombie).
bool reaped(pid_t pid) {
  errno = 0;
  return ::waitpid(pid, nullptr, WNOHANG) == -1 && errno == ECHILD;
}

}  // namespace

TEST_CASE("child process: exit statuses are results, 0 alone is success") {
  const ChildResult ok = ChildProcess({.argv = {"true"}}).wait(10s);
  CHECK(ok.succeeded());
  CHECK(ok.exit_code == 0);
  CHECK(ok.signal == 0);
  CHECK(ok.ending() == "exit 0");

  const ChildResult three = ChildProcess({.argv = {"sh", "-c", "exit 3"}}).wait(10s);
  CHECK_FALSE(three.succeeded());
  CHECK(three.exit_code == 3);
  CHECK_FALSE(three.timed_out);
  CHECK(three.describe() == "sh -c exit 3: exit 3");
}

TEST_CASE("child process: a program ended by a signal says which") {
  const ChildResult result = ChildProcess({.argv = {"sh", "-c", "kill -USR1 $$"}}).wait(10s);
  CHECK_FALSE(result.succeeded());
  CHECK(result.signal == SIGUSR1);
  CHECK(result.exit_code == -1);
  CHECK(result.ending() == "killed by signal " + std::to_string(SIGUSR1) + " (SIGUSR1)");
}

TEST_CASE("child process: captured output, standard output and error merged in order") {
  const std::vector<std::string> argv = {"sh", "-c", "echo one; echo two >&2; printf three"};
  SECTION("handed over line by line, the last line without its newline too") {
    ChildProcess child({.argv = argv, .output = ChildOutput::capture});
    std::vector<std::string> lines;
    const ChildResult result =
        child.wait(10s, [&](std::string_view line) { lines.emplace_back(line); });
    CHECK(result.succeeded());
    CHECK(lines == std::vector<std::string>{"one", "two", "three"});
    CHECK(result.output.empty());
  }
  SECTION("kept in the result without a line handler") {
    ChildProcess child({.argv = argv, .output = ChildOutput::capture});
    const ChildResult result = child.wait(10s);
    CHECK(result.output == "one\ntwo\nthree");
    SECTION("and every later wait gives the same result") {
      CHECK(child.wait(0ms).output == "one\ntwo\nthree");
      CHECK(child.wait_for(0ms)->exit_code == 0);
      CHECK(child.pid() == -1);
    }
  }
}

TEST_CASE("child process: standard input is /dev/null, output discarded or inherited") {
  // The shell checks where its own descriptors point, and exits 1 when they do not.
  const auto points_to = [](const std::string& out, const std::string& err) {
    return std::vector<std::string>{"sh",
                                    "-c",
                                    "test \"$(readlink /proc/$$/fd/0)\" = /dev/null && "
                                    "test \"$(readlink /proc/$$/fd/1)\" = \"$1\" && test "
                                    "\"$(readlink /proc/$$/fd/2)\" = \"$2\"",
                                    "sh",
                                    out,
                                    err};
  };
  CHECK(ChildProcess({.argv = points_to("/dev/null", "/dev/null"), .output = ChildOutput::discard})
            .wait(10s)
            .succeeded());
  const std::string out = std::filesystem::read_symlink("/proc/self/fd/1").string();
  const std::string err = std::filesystem::read_symlink("/proc/self/fd/2").string();
  CHECK(ChildProcess({.argv = points_to(out, err), .output = ChildOutput::inherit})
            .wait(10s)
            .succeeded());
  if (out != "/dev/null") {  // (and inherited output is not /dev/null unless ours is)
    CHECK_FALSE(ChildProcess({.argv = points_to("/dev/null", "/dev/null")}).wait(10s).succeeded());
  }
}

TEST_CASE("child process: an owner whose standard input is closed still redirects the child's") {
  // /dev/null and the capture pipe would otherwise be opened as descriptors 0 and 3.
  const int saved = ::dup(STDIN_FILENO);
  REQUIRE(saved >= 0);
  ::close(STDIN_FILENO);
  std::optional<ChildResult> result;
  try {
    result = ChildProcess({.argv = {"sh", "-c", "readlink /proc/$$/fd/0; readlink /proc/$$/fd/1"},
                           .output = ChildOutput::capture})
                 .wait(10s);
  } catch (...) {
    ::dup2(saved, STDIN_FILENO);
    throw;
  }
  ::dup2(saved, STDIN_FILENO);
  ::close(saved);
  CHECK(result->succeeded());
  CHECK_THAT(result->output, Catch::StartsWith("/dev/null\npipe:"));
}

TEST_CASE("child process: a deadline overrun stops the whole group and names what overran") {
  ChildProcess child({.argv = shell_with_sleeping_child, .output = ChildOutput::capture});
  const pid_t shell = child.pid();
  const ProcessWatch sleeper(std::stoi(first_line(child)));

  const ChildResult result = child.wait(200ms);
  CHECK(result.timed_out);
  CHECK_FALSE(result.succeeded());
  CHECK(result.signal == SIGTERM);  // the shell does not ignore it: no SIGKILL was needed
  CHECK(result.deadline == 200ms);
  CHECK(result.describe() ==
        "sh -c sleep 60 & echo $!; wait: ran past its deadline of 200 ms: its process group was "
        "stopped (killed by signal " +
            std::to_string(SIGTERM) + " (SIGTERM))");
  CHECK(reaped(shell));
  CHECK(sleeper.ends_within(10s));  // the shell's own child went with it
}

TEST_CASE("child process: a group that ignores SIGTERM is killed after the grace period") {
  ChildProcess child({.argv = {"sh", "-c", "trap '' TERM; sleep 60 & echo $!; wait"},
                      .output = ChildOutput::capture,
                      .grace = 100ms});
  const ProcessWatch sleeper(std::stoi(first_line(child)));  // it ignores SIGTERM too
  const ChildResult result = child.wait(100ms);
  CHECK(result.timed_out);
  CHECK(result.signal == SIGKILL);
  CHECK(sleeper.ends_within(10s));
}

TEST_CASE("child process: destruction, also by an exception unwinding, stops and reaps the group") {
  pid_t shell = -1;
  std::optional<ProcessWatch> sleeper;
  CHECK_THROWS_WITH(
      [&] {
        ChildProcess child({.argv = shell_with_sleeping_child, .output = ChildOutput::capture});
        shell = child.pid();
        sleeper.emplace(std::stoi(first_line(child)));
        throw std::runtime_error("the owner failed");
      }(),
      "the owner failed");
  CHECK(reaped(shell));  // no zombie
  REQUIRE(sleeper.has_value());
  CHECK(sleeper->ends_within(10s));  // no orphan left of its group
}

TEST_CASE("child process: the owner can stop it, or stop waiting for it") {
  SECTION("stop(): SIGTERM to the group, then reaped") {
    ChildProcess child({.argv = {"sleep", "60"}});
    const ChildResult result = child.stop();
    CHECK(result.stopped);
    CHECK_FALSE(result.timed_out);
    CHECK(result.signal == SIGTERM);
    CHECK(result.ending() == "stopped with its process group by its owner (killed by signal " +
                                 std::to_string(SIGTERM) + " (SIGTERM))");
  }
  SECTION("a wait told to stop waiting stops the group") {
    ChildProcess child({.argv = {"sleep", "60"}});
    int asked = 0;
    const ChildResult result = child.wait(60s, {}, [&] { return ++asked < 3; });
    CHECK(result.stopped);
    CHECK(asked == 3);
    CHECK(result.signal == SIGTERM);
  }
}

TEST_CASE("child process: a wait without a stop says nothing while it runs, a signal ends it") {
  ChildProcess child({.argv = {"sleep", "60"}});
  CHECK_FALSE(child.wait_for(10ms).has_value());
  CHECK(child.pid() > 0);
  child.signal(SIGKILL);
  const ChildResult result = child.wait(10s);
  CHECK(result.signal == SIGKILL);
  CHECK_FALSE(result.stopped);
  CHECK_FALSE(result.timed_out);
}

TEST_CASE("child process: one that ends with its owner gets SIGTERM when its thread ends") {
  std::optional<ChildProcess> child;
  std::thread([&] {
    child.emplace(eda::ChildSpec{.argv = {"sleep", "60"}, .end_with_owner = true});
  }).join();
  const ChildResult result = child->wait(10s);
  CHECK(result.signal == SIGTERM);
  CHECK_FALSE(result.timed_out);
}

TEST_CASE("child process: a program that cannot be started is a SpawnError that says why") {
  CHECK_THROWS_WITH(ChildProcess({.argv = {"eda-no-such-program", "--flag"}}),
                    "cannot start `eda-no-such-program --flag`: eda-no-such-program was not found "
                    "on PATH");
  CHECK_THROWS_AS(ChildProcess({.argv = {"/nonexistent/program"}}), eda::SpawnError);
  try {
    ChildProcess missing({.argv = {"/nonexistent/program"}});
    FAIL("started a program that does not exist");
  } catch (const eda::Error& e) {  // one root for every typed error, with its category
    CHECK(e.category() == eda::ErrorCategory::process);
  }
  CHECK_THROWS_WITH(ChildProcess({.argv = {"/nonexistent/program"}}),
                    Catch::Contains("/nonexistent/program does not exist or is not executable"));

  // Executable, but not a program: the exec itself fails, in the child, and is reported.
  const std::filesystem::path junk =
      std::filesystem::temp_directory_path() / ("eda-not-a-program-" + std::to_string(::getpid()));
  std::ofstream(junk) << '\x01' << '\x02' << '\x03' << '\x04';
  std::filesystem::permissions(junk, std::filesystem::perms::owner_all);
  CHECK_THROWS_WITH(ChildProcess({.argv = {junk.string()}}),
                    "cannot start `" + junk.string() + "`: cannot execute " + junk.string() +
                        ": Exec format error");
  std::filesystem::remove(junk);
}

TEST_CASE("child process: misuse is an exception") {
  CHECK_THROWS_AS(ChildProcess({.argv = {}}), std::invalid_argument);
  CHECK_THROWS_AS(ChildProcess({.argv = {"echo", std::string("a\0b", 3)}}), std::invalid_argument);
  CHECK_THROWS_AS(ChildProcess({.argv = {"true"}, .grace = -1ms}), std::invalid_argument);
  ChildProcess done({.argv = {"true"}});
  (void)done.wait(10s);
  CHECK_THROWS_AS(done.signal(SIGTERM), std::logic_error);
}

TEST_CASE("child process: find_on_path finds installed programs only") {
  const std::optional<std::string> shell = eda::find_on_path("sh");
  REQUIRE(shell.has_value());
  CHECK(shell->ends_with("/sh"));
  CHECK_FALSE(eda::find_on_path("eda-no-such-program").has_value());
  CHECK_FALSE(eda::find_on_path("").has_value());
  CHECK(eda::find_on_path(*shell) == shell);  // a path is taken as it is, when executable
}

TEST_CASE("child process: this_program_path names the program that is running") {
  const std::string self = eda::this_program_path();
  CHECK(std::filesystem::path(self).is_absolute());
  // Run it again and ask it for its test names: only this program knows this test's name.
  ChildProcess again({.argv = {self, "--list-test-names-only"}, .output = ChildOutput::capture});
  const ChildResult listed = again.wait(60s);
  REQUIRE(listed.signal == 0);  // Catch2 v2 exits with the number of tests it listed
  REQUIRE_FALSE(listed.timed_out);
  CHECK(listed.output.find("this_program_path names the program that is running") !=
        std::string::npos);
}

TEST_CASE("child process: a wait of no time hands over the lines already written") {
  ChildProcess child({.argv = {"sh", "-c", "echo ready; exec sleep 60"},
                      .output = ChildOutput::capture});
  std::vector<std::string> lines;
  const eda::Deadline deadline(10s);
  while (lines.empty() && !deadline.expired()) {
    CHECK_FALSE(child.wait_for(0ms, [&](std::string_view line) { lines.emplace_back(line); }));
    std::this_thread::sleep_for(1ms);  // the child's echo, not a measured wait
  }
  CHECK(lines == std::vector<std::string>{"ready"});
  CHECK(child.stop().stopped);
}
