/// @file replica_lag.hpp
/// @brief How stale a replica is: the Customer service publishing changes at a steady rate
///        while a replica follows. bench-state-transfer's `BM_StateTransfer_Lag` and the tour's
///        state-transfer stop measure it with this, with different numbers of changes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "eda/latency.hpp"

namespace eda::workloads {

/// @brief The load a ReplicaLagRun puts on the Customer service.
struct ReplicaLagOptions {
  std::size_t customers = 10'000;             ///< Records the Customer service owns.
  std::uint64_t changes = 20'000;             ///< Changes published per run ...
  std::uint64_t changes_per_second = 10'000;  ///< ... at this rate.
};

/// @brief A Customer service (on the caller's thread) publishing changes, customers moving
///        house drawn in advance, at a steady rate over tcp loopback, while a replica follows
///        on a thread of its own.
///
/// The publisher is paced by the clock, yielding between changes so that the replica and
/// ZeroMQ's I/O thread keep a core on a small machine.
///
/// **Replica lag** (lag(); `lag_p50_us`, `lag_p99_us`, `lag_max_us` in
/// bench-state-transfer): for each change, the wall-clock time at which the replica has
/// applied it minus the timestamp the publisher stamped on it (both from this machine's
/// clock): *published to readable in the replica*, how stale a label can be. Heartbeats are
/// not counted; a change that a snapshot repaired (after a lost update) has no sample, and
/// resyncs() counts those repairs.
///
/// @par Thread safety
/// One thread at a time.
class ReplicaLagRun {
 public:
  /// @brief Starts the Customer service and the replica and serves the replica's handshake
  ///        and first snapshot; throws std::runtime_error when it is not live within 30 s.
  explicit ReplicaLagRun(ReplicaLagOptions options);
  ~ReplicaLagRun();
  ReplicaLagRun(const ReplicaLagRun&) = delete;             ///< Owns a thread and sockets.
  ReplicaLagRun& operator=(const ReplicaLagRun&) = delete;  ///< Owns a thread and sockets.

  /// @brief Publishes the changes on schedule, then serves (in case the replica asks for a
  ///        snapshot) until the replica has applied the last one. Throws std::runtime_error
  ///        when it has not within 30 s.
  void publish();

  /// @brief Stops the replica; call before reading lag() or resyncs().
  void stop();

  /// @brief The replica lag of every change applied (see the class); valid after stop().
  [[nodiscard]] const LatencyRecorder& lag() const;
  /// @brief Changes per second the publisher achieved in the last publish().
  [[nodiscard]] double changes_per_second() const;
  /// @brief Times the replica re-synchronised from a snapshot (0 unless it lost updates).
  [[nodiscard]] std::uint64_t resyncs() const;

 private:
  struct Parts;
  std::unique_ptr<Parts> parts_;
};

}  // namespace eda::workloads
