/// @file coordinator_service.hpp
/// @brief The group coordinator on the network: a ROUTER socket and a thread that owns a
///        GroupCoordinator and the durable CheckpointStore.
///
/// Each member's DEALER sends join, heartbeat, revoked and leave messages (group_protocol.hpp);
/// the service answers each with the member's assignment, or a refusal. On its own initiative
/// it tells members what changed: after a rebalance every member gets its new assignment (so
/// the partitions to revoke are revoked at once, not at the next heartbeat), and a member that
/// is granted a partition (its old owner confirmed, left or died) is told at once. Before a
/// member hears of a grant, the service has fenced the checkpoint store for it, so the old
/// owner can commit no more.
///
/// @par Restarts
/// Committed checkpoints live in the store's file, so a restarted coordinator has lost none.
/// It has lost who the members are: it starts above the highest generation the store has
/// recorded (its fences then win, and its member ids never repeat), and answers every member it
/// does not know with `unknown_member`, which makes the member finish its partitions, commit
/// them and join again. While the coordinator is away, members keep processing what they own
/// (they cannot be told otherwise, and nobody else is granted it). A restarted coordinator
/// holds the joins it receives for one session timeout before admitting them: by then every
/// member that was still working has heard `unknown_member` at its next heartbeat and
/// stopped, so no partition is granted while its old owner still processes it. (A member
/// stalled for longer is stopped by the fence and the gateway's idempotency, as a zombie is.)
///
/// @par Bad input
/// A message that does not decode is answered `malformed_message` and counted; a member the
/// coordinator does not know, or a generation it cannot carry, is answered with the refusal
/// and counted; a revocation's checkpoint that the store refuses is counted. Nothing a peer
/// sends stops the service.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "eda/scaling/checkpoint_store.hpp"
#include "eda/scaling/coordinator.hpp"

namespace eda::scaling {

/// @brief How a coordinator service runs.
struct CoordinatorServiceOptions {
  std::string endpoint = "tcp://127.0.0.1:*";  ///< Where its ROUTER binds.
  std::string checkpoint_path;                 ///< The CheckpointStore's file.
  std::string group = "billing";               ///< The group's name in the store.
  CoordinatorOptions group_options;            ///< Partitions, session timeout, member limit
                                               ///< (its generation_floor is set from the store).
  /// @brief Durability of the checkpoint store (full: a committed checkpoint survives a power
  ///        cut; tests use normal).
  sqlite::Durability durability = sqlite::Durability::full;
};

/// @brief What a coordinator service has seen, as a copy taken between two messages.
struct CoordinatorServiceStatus {
  CoordinatorCounters group;      ///< The state machine's counters.
  std::uint64_t generation = 0;   ///< The group's generation.
  std::vector<MemberId> members;  ///< The live members.
  Ownership owners;               ///< Who may process each partition now.
  std::uint64_t messages = 0;     ///< Messages received.
  std::uint64_t malformed = 0;    ///< Messages that did not decode (answered malformed_message).
  std::uint64_t refused = 0;      ///< Messages the state machine refused (answered so).
  std::uint64_t checkpoints_refused = 0;  ///< Revocations or leaves whose checkpoints the store
                                          ///< refused (fenced: not the sender's any more) or
                                          ///< could not write.
  std::uint64_t fences_failed = 0;        ///< Grants the store would not fence or could not write
                                          ///< (should stay 0).
  std::uint64_t joins_held = 0;           ///< Joins held until a restart's grace period ended.
  bool restarted = false;                 ///< The store held an earlier coordinator's generations.
};

/// @brief The coordinator service (see the file's description). Starts serving in its
///        constructor, stops in stop() or its destructor.
///
/// @par Thread safety
/// status(), endpoint() and stop() may be called from any thread.
class CoordinatorService {
 public:
  /// @brief Opens the store (registering the group), binds, and starts serving. Throws
  ///        eda::StorageError or CheckpointRejected for the store, TransportError for the
  ///        endpoint, std::invalid_argument for bad options.
  CoordinatorService(zmq::context_t& context, CoordinatorServiceOptions options);
  /// @brief Stops serving.
  ~CoordinatorService();
  CoordinatorService(const CoordinatorService&) = delete;
  CoordinatorService& operator=(const CoordinatorService&) = delete;

  /// @brief The endpoint bound (with the real port), for members to connect to.
  [[nodiscard]] const std::string& endpoint() const noexcept { return endpoint_; }
  /// @brief A copy of what it has seen so far.
  [[nodiscard]] CoordinatorServiceStatus status() const;
  /// @brief Stops serving and closes the socket (the endpoint is free again). Idempotent.
  void stop();

 private:
  class Loop;  // the serving loop's state, owned by its thread

  std::string endpoint_;
  mutable std::mutex mutex_;
  CoordinatorServiceStatus status_;
  std::unique_ptr<Loop> loop_;
  std::jthread thread_;
};

}  // namespace eda::scaling
