/// @file projection_lag.hpp
/// @brief The CQRS shop running under a steady load of commands, and how far its read models
///        lag behind: bench-cqrs's `BM_Cqrs_ProjectionLag` and the tour's CQRS stop measure it
///        with this, at different rates and lengths.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "eda/latency.hpp"
#include "eda/sourcing/sqlite_store.hpp"

namespace eda::workloads {

/// @brief The projection lag in one sentence, for the tour's notes (ProjectionLagRun says the
///        rest).
inline constexpr std::string_view projection_lag_definition =
    "from the moment the command side stamps a command's events (decided, just before their "
    "append to the store) until the projector's transaction holding them has committed";

/// @brief The load a ProjectionLagRun puts on the shop.
struct ProjectionLagOptions {
  std::string store_path;                    ///< The event store's file (new).
  std::string read_models_path;              ///< The read models' file (new).
  std::uint64_t commands_per_second = 2000;  ///< All clients together, on a fixed schedule ...
  std::chrono::milliseconds run_time{2000};  ///< ... for this long.
  /// `full` (an fsync per commit, as deployed) or `normal` (takes the disk's flush out).
  sourcing::Durability durability = sourcing::Durability::full;
};

/// @brief The CQRS shop running, measured: a CommandService over tcp loopback on a SQLite
///        event store that announces its appends, a Projector on the caller's thread reading
///        the store through a connection of its own (as a projector process would), and four
///        clients sending commands on a fixed schedule.
///
/// The clients send orders that are placed, get two items, are paid and shipped; each client
/// works on orders of its own. A command late on the schedule is sent at once (the schedule
/// does not slip); a run gives up sending at twice its time.
///
/// **Projection lag** (lag(); `lag_p50_us`, `lag_p99_us`, `lag_max_us` in bench-cqrs): for
/// each event, the wall-clock time at which the projector's batch holding it committed minus
/// the event's timestamp, which the command side stamps when it has decided the command, just
/// before appending its events: *write to readable*. It includes the append (and its fsync
/// under `full`), the store's notification, the projector's read and its transaction; it does
/// not include the command's trip to the service or its answer.
///
/// **Command latency** (command_latency(); `cmd_p50_us`, `cmd_p99_us`): a command as a client
/// sees it, from sending it until the service's answer.
///
/// @par Thread safety
/// One thread at a time; it runs its own service and client threads.
class ProjectionLagRun {
 public:
  /// @brief Sets the shop up and waits (up to 10 s) until the projector receives the store's
  ///        notifications; throws std::runtime_error when it does not.
  explicit ProjectionLagRun(ProjectionLagOptions options);
  ~ProjectionLagRun();
  ProjectionLagRun(const ProjectionLagRun&) = delete;             ///< Owns threads and files.
  ProjectionLagRun& operator=(const ProjectionLagRun&) = delete;  ///< Owns threads and files.

  /// @brief Sends the commands (on new orders each time) and projects until every client is
  ///        done and the read models hold all they wrote; the samples add up over runs. Throws std::runtime_error when a client or the projector
  ///        failed, or when the read models did not catch up in time (twice the run time plus
  ///        30 s).
  void run();

  /// @brief The projection lag of every event projected so far (see the class).
  [[nodiscard]] const LatencyRecorder& lag() const;
  /// @brief The command latency of every command answered so far (see the class).
  [[nodiscard]] const LatencyRecorder& command_latency() const;
  /// @brief Commands the service accepted.
  [[nodiscard]] std::uint64_t commands_accepted() const;
  /// @brief Commands per second the clients achieved, from the first command sent to the last
  ///        answer of all runs so far (below the schedule's rate when the service could not
  ///        keep up).
  [[nodiscard]] double commands_per_second() const;
  /// @brief Events the projector read per transaction, on average.
  [[nodiscard]] double events_per_batch() const;

 private:
  struct Shop;
  std::unique_ptr<Shop> shop_;
};

}  // namespace eda::workloads
