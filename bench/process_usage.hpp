/// @file process_usage.hpp
/// @brief What a server costs, read from /proc: CPU seconds and resident memory of a set of
///        processes, and how many fsync-family calls they make while something runs (strace).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace eda::bench {

/// @brief CPU time and memory of some processes, summed.
struct ProcessUsage {
  double cpu_seconds = 0;  ///< User + system time of every thread, from /proc/PID/stat.
  double rss_mb = 0;       ///< Resident memory now (VmRSS), MiB.
  double peak_rss_mb = 0;  ///< The most ever resident (VmHWM), MiB.
};

/// @brief The usage of `pids` summed (a process that has gone counts nothing).
[[nodiscard]] ProcessUsage usage_of(const std::vector<pid_t>& pids);

/// @brief What strace counted: calls that push written data to the disk.
struct SyncCount {
  std::uint64_t calls = 0;  ///< fsync, fdatasync, sync_file_range and syncfs calls together.
  std::string detail;       ///< Per call, e.g. `fsync 200, fdatasync 3`, or why nothing was counted.
};

/// @brief Runs `body` while `strace -f -c` watches every thread of `pids` for the calls that
///        flush data to the disk, and returns what it counted; nothing (with the reason in
///        `*why`) when strace is not installed or cannot attach.
///
/// The tracer attaches before `body` starts (checked in each thread's TracerPid) and detaches
/// when `body` returns, so only `body`'s work is counted. Tracing slows every system call of
/// the traced processes: measure nothing else while it runs.
[[nodiscard]] std::optional<SyncCount> count_disk_syncs(const std::vector<pid_t>& pids,
                                                        const std::function<void()>& body,
                                                        std::string* why);

}  // namespace eda::bench
