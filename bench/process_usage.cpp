// CPU, memory and disk syncs of server processes, read from /proc and counted by strace.
#include "process_usage.hpp"

#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "eda/brokers/loopback.hpp"
#include "eda/child_process.hpp"
#include "eda/clock.hpp"

namespace eda::bench {

namespace {

using namespace std::chrono_literals;

/// User + system seconds of a whole process (every thread): fields 14 and 15 of /proc/PID/stat,
/// counted after the command name, which is in parentheses and may hold spaces.
double cpu_seconds_of(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return 0;
  const auto paren = line.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream fields(line.substr(paren + 1));
  std::string field;
  double ticks = 0;
  for (int index = 3; index <= 15 && fields >> field; ++index) {  // field 3 is the state
    if (index >= 14) ticks += std::stod(field);
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

/// VmRSS and VmHWM of a process, in MiB (the file gives kB).
std::pair<double, double> memory_of(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  double rss = 0;
  double peak = 0;
  while (std::getline(status, line)) {
    std::istringstream fields(line);
    std::string name;
    double kilobytes = 0;
    fields >> name >> kilobytes;
    if (name == "VmRSS:") rss = kilobytes / 1024;
    if (name == "VmHWM:") peak = kilobytes / 1024;
  }
  return {rss, peak};
}

/// Whether every thread of `pid` is traced by `tracer` (/proc/PID/task/TID/status TracerPid).
bool all_threads_traced(pid_t pid, pid_t tracer) {
  std::error_code error;
  bool any = false;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", error)) {
    std::ifstream status(task.path() / "status");
    std::string line;
    pid_t traced_by = 0;
    while (std::getline(status, line)) {
      if (line.rfind("TracerPid:", 0) == 0) traced_by = std::stoi(line.substr(10));
    }
    if (traced_by != tracer) return false;
    any = true;
  }
  return any;
}

constexpr const char* sync_calls = "fsync,fdatasync,sync_file_range,syncfs";

/// Reads the table `strace -c` writes: `% time seconds usecs/call calls [errors] syscall`.
SyncCount read_summary(const std::filesystem::path& file) {
  std::ifstream summary(file);
  std::string line;
  std::map<std::string, std::uint64_t> calls;
  while (std::getline(summary, line)) {
    std::istringstream fields(line);
    std::vector<std::string> words;
    for (std::string word; fields >> word;) words.push_back(word);
    if (words.size() < 5 || words.back() == "total" || words.back() == "syscall") continue;
    if (std::string(sync_calls).find(words.back()) == std::string::npos) continue;
    calls[words.back()] += std::stoull(words[3]);
  }
  SyncCount count;
  for (const auto& [name, number] : calls) {
    count.calls += number;
    count.detail += (count.detail.empty() ? "" : ", ") + name + " " + std::to_string(number);
  }
  if (count.detail.empty()) count.detail = "none";
  return count;
}

}  // namespace

ProcessUsage usage_of(const std::vector<pid_t>& pids) {
  ProcessUsage usage;
  for (const pid_t pid : pids) {
    usage.cpu_seconds += cpu_seconds_of(pid);
    const auto [rss, peak] = memory_of(pid);
    usage.rss_mb += rss;
    usage.peak_rss_mb += peak;
  }
  return usage;
}

std::optional<SyncCount> count_disk_syncs(const std::vector<pid_t>& pids,
                                          const std::function<void()>& body, std::string* why) {
  const auto strace = find_on_path("strace");
  if (!strace) {
    *why = "strace is not installed (Debian: strace)";
    return std::nullopt;
  }
  const brokers::TemporaryFolder folder("strace");
  const std::filesystem::path summary = folder.path() / "summary.txt";
  std::vector<std::string> argv{*strace, "-f", "-c", "-qq", "-e", std::string("trace=") + sync_calls,
                                "-o", summary.string()};
  for (const pid_t pid : pids) {
    argv.emplace_back("-p");
    argv.push_back(std::to_string(pid));
  }
  ChildProcess tracer({.argv = argv, .output = ChildOutput::capture, .end_with_owner = true});
  const Deadline attached(10s);
  for (;;) {
    bool all = true;
    for (const pid_t pid : pids) all = all && all_threads_traced(pid, tracer.pid());
    if (all) break;
    if (const auto ended = tracer.wait_for(10ms)) {
      *why = "strace could not attach: " + ended->describe();
      return std::nullopt;
    }
    if (attached.expired()) {
      *why = "strace did not attach to every thread within 10 s";
      return std::nullopt;
    }
  }
  body();
  tracer.signal(SIGINT);  // detaches and writes the summary
  const ChildResult ended = tracer.wait(10s);
  if (!std::filesystem::exists(summary)) {
    *why = "strace wrote no summary: " + ended.describe();
    return std::nullopt;
  }
  return read_summary(summary);
}

}  // namespace eda::bench
