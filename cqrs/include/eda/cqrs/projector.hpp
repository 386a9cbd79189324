/// @file projector.hpp
/// @brief The projector: follows the event store with a catch-up subscription and feeds the
///        read models, one transaction per batch, then tells query services how far it got.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <msgpack.hpp>
#include <zmq.hpp>

#include "eda/cqrs/read_models.hpp"
#include "eda/pubsub.hpp"
#include "eda/sourcing/subscription.hpp"

namespace eda::cqrs {

/// @brief What a projector announces after each batch it commits: the read models now reflect
///        the store up to `position`. Query services waiting for a consistency token wake on it.
struct ProjectionAdvanced {
  static constexpr std::string_view event_type = "cqrs.projection.advanced";  ///< Topic.
  static constexpr std::uint32_t schema_version = 1;  ///< Payload shape version.
  std::uint64_t position = 0;  ///< Every projection has applied every event up to here.
  MSGPACK_DEFINE(position)
};

/// @brief How a Projector works.
struct ProjectorOptions {
  std::string store_notifications{};    ///< The store's append notifications (empty: poll it).
  std::vector<std::string> announce{};  ///< Where to publish ProjectionAdvanced (empty: nowhere).
  std::size_t batch = 1000;             ///< Events per transaction at most.
  std::chrono::milliseconds fallback_poll{1000};  ///< See sourcing::SubscriptionOptions.
  /// Plaintext (the default) or CURVE: the projector follows the store's notifications (a
  /// CURVE client) and announces its progress (a CURVE server), so a CURVE Security here
  /// holds both halves (CurveSetup::both()).
  Security security{};
};

/// @brief Counters a Projector keeps.
struct ProjectorStats {
  std::uint64_t batches = 0;  ///< Transactions committed.
  std::uint64_t events = 0;   ///< Events read from the store.
};

/// @brief Keeps read models up to date with an event store.
///
/// It starts after the read models' lowest checkpoint, so a projector that was killed simply
/// starts again: the events it had committed are not read again, the ones it had not are.
///
/// @par Example
/// @code
/// ReadModels read({.path = "read.db"});
/// Projector projector(store, read, context, {.store_notifications = notifier.endpoint()});
/// projector.run_while([&] { return !stopping; });
/// @endcode
///
/// @par Errors
/// When a batch cannot be applied, step() throws and nothing of it is applied; the next step()
/// tries the same batch again (so a passing failure, a busy database, heals by itself). An
/// event that cannot be read (sourcing::CorruptEvent) or that comes after a skipped one fails
/// every time: the projector stops there. Skipping it would make every answer silently wrong.
///
/// @par Thread safety
/// One thread at a time. (The read models it feeds may be queried from other threads.)
class Projector {
 public:
  /// @brief Follows `store` into `read_models` (both must outlive it).
  Projector(const sourcing::EventStore& store, ProjectionHost& read_models, zmq::context_t& context,
            ProjectorOptions options);

  /// @brief Waits until the store's notifications reach this projector (true at once without
  ///        them); see sourcing::CatchUpSubscription::await_notifications.
  bool await_notifications(std::chrono::milliseconds timeout);

  /// @brief Waits up to `timeout` for events, applies what came as one batch, announces the
  ///        new position. Returns the number of events read (0: none came in time).
  std::size_t step(std::chrono::milliseconds timeout);

  /// @brief Runs step() until `keep_going()` returns false (checked at least every `tick`).
  void run_while(const std::function<bool()>& keep_going,
                 std::chrono::milliseconds tick = std::chrono::milliseconds(50));

  /// @brief Where ProjectionAdvanced is published (connectable form), if anywhere.
  [[nodiscard]] std::optional<std::string> announce_endpoint() const;

  /// @brief Counters so far.
  [[nodiscard]] const ProjectorStats& stats() const noexcept { return stats_; }

 private:
  ProjectionHost& read_models_;
  std::size_t batch_;
  std::uint64_t next_read_;  // where the next batch starts: the store position after the last
  sourcing::CatchUpSubscription follow_;
  std::vector<sourcing::RecordedEvent> pending_;  // read, not applied yet (its apply() failed)
  std::optional<Publisher> announcer_;
  ProjectorStats stats_;
};

}  // namespace eda::cqrs
