/// @file subscription.hpp
/// @brief Following the store: a catch-up subscription reads history from a position, then
///        goes on live, woken by a ZeroMQ notification after each append instead of polling.
///
/// The store is the only source of events: notifications carry no events, only "something
/// was appended, up to position P". A subscriber therefore reads everything by position, from
/// the store, in one way for history and live alike, so there is no seam between the two
/// where an event could be missed or seen twice.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <zmq.hpp>

#include "eda/pubsub.hpp"
#include "eda/sourcing/event_store.hpp"

namespace eda::sourcing {

/// @brief The notification an append sends: the store now reaches `last_position`.
struct EventsAppended {
  static constexpr std::string_view event_type = "store.appended";  ///< Topic.
  static constexpr std::uint32_t schema_version = 1;                ///< Payload shape version.
  std::uint64_t last_position = 0;  ///< Position of the newest event stored.
  MSGPACK_DEFINE(last_position)
};

/// @brief An EventStore that, after each successful append to the store it wraps, publishes
///        EventsAppended on a PUB socket (the kit's Publisher).
///
/// @par Thread safety
/// As the wrapped store; publishing is serialised by a mutex.
class NotifyingEventStore final : public ForwardingEventStore {
 public:
  /// @brief Wraps `inner` (which must outlive it) and binds the notification `endpoint`.
  NotifyingEventStore(EventStore& inner, zmq::context_t& context, std::string endpoint,
                      Security security = {});

  /// @brief Where notifications are published (connectable, real port).
  [[nodiscard]] const std::string& endpoint() const noexcept { return endpoint_; }

  /// @brief Answers joining subscribers' handshakes for up to `wait` (call while idle).
  void serve(std::chrono::milliseconds wait);

  /// @brief How many notifications were published so far (one per append that stored events).
  [[nodiscard]] std::uint64_t announcements();

  /// @brief Appends through the wrapped store, then announces the new last position.
  AppendResult append(std::string_view stream, const ExpectedVersion& expected,
                      std::span<const EventData> events) override;

  /// @brief Appends the group through the wrapped store, then announces once.
  std::vector<AppendOutcome> append_all(std::span<const AppendRequest> requests) override;

 private:
  void announce(std::uint64_t last_position);

  std::mutex mutex_;  // one thread at a time on the publisher
  Publisher publisher_;
  std::string endpoint_;
};

/// @brief How a CatchUpSubscription reads.
struct SubscriptionOptions {
  std::uint64_t from_position = 1;  ///< The first position to deliver.
  std::string notifications{};      ///< A NotifyingEventStore's endpoint (empty: poll only).
  std::size_t batch = 1000;         ///< Events read per query.
  /// Without a notification, the store is still looked at this often: a lost notification
  /// costs at most this much delay, never an event. Without notifications at all, this is
  /// the polling period.
  std::chrono::milliseconds fallback_poll{1000};
  /// Plaintext (the default) or CURVE for the notifications (the subscription connects: a
  /// CURVE client, CurveSetup::client()).
  Security security{};
};

/// @brief Delivers every event of the store in position order, from a position on: the
///        history first, then new events as they are appended.
///
/// @par Example
/// @code
/// CatchUpSubscription follow(store, context, {.from_position = checkpoint + 1,
///                                             .notifications = notifier.endpoint()});
/// while (auto event = follow.next(std::chrono::milliseconds(100))) project(*event);
/// @endcode
///
/// @par Thread safety
/// One thread at a time.
class CatchUpSubscription {
 public:
  /// @brief Follows `store` (which must outlive it), subscribing to the notifications. A
  ///        notification that is lost (sent before the subscription reached the publisher,
  ///        or dropped at a high-water mark) delays delivery by at most `fallback_poll`; it
  ///        never loses an event, because events are always read from the store.
  CatchUpSubscription(const EventStore& store, zmq::context_t& context,
                      SubscriptionOptions options);

  /// @brief Waits until the notification publisher has confirmed the subscription (the
  ///        kit's handshake; the publisher must be serving); true at once without
  ///        notifications. From then on every append wakes this subscription.
  bool await_notifications(std::chrono::milliseconds timeout);

  /// @brief The next event, waiting up to `timeout` for one to be appended; nothing when
  ///        none came in time.
  std::optional<RecordedEvent> next(std::chrono::milliseconds timeout);

  /// @brief The next events: waits up to `timeout` for one, then adds those already read
  ///        with it (up to `max_count`, without another query). Consumers that commit per
  ///        batch (a projector) get large batches while behind and single events when live.
  std::vector<RecordedEvent> next_batch(std::size_t max_count, std::chrono::milliseconds timeout);

  /// @brief The position the next delivered event will have at the least.
  [[nodiscard]] std::uint64_t next_position() const noexcept { return next_position_; }

  /// @brief Whether the history is behind: the last read found the store's end.
  [[nodiscard]] bool live() const noexcept { return live_; }

  /// @brief The cause to give a follow-up of the events up to `position` (a projector's
  ///        ProjectionAdvanced): the store's notification that announced `position`, i.e. the
  ///        first one received that reaches it. Notifications already queued are read first;
  ///        when none reaches `position` yet, it waits up to `wait` for one (a writer commits
  ///        first and announces just after, so a reader can be a moment ahead of the news). A
  ///        default Cause (a new chain) when none came: no notifications configured, events
  ///        read from the history, or an announcement lost.
  ///
  /// With it, a tracer sees "the store announced position p, the projector reached p" as one
  /// causal chain, and the hop between them is the projection lag.
  [[nodiscard]] Cause cause_of(std::uint64_t position,
                               std::chrono::milliseconds wait = std::chrono::milliseconds(0));

 private:
  bool fill();
  /// Sleeps until an append is announced or `wait` passes; remembers every announcement.
  void await_append(std::chrono::milliseconds wait);
  void remember(const Delivery& wakeup);

  /// Notifications received and not yet used as a cause, oldest first: (position, metadata).
  /// Bounded: a consumer that never asks for causes keeps only the latest.
  static constexpr std::size_t max_remembered = 64;

  const EventStore& store_;
  SubscriptionOptions options_;
  std::unique_ptr<Subscriber> wakeups_;
  std::deque<RecordedEvent> buffer_;
  std::deque<std::pair<std::uint64_t, EventMetadata>> announcements_;
  std::uint64_t next_position_;
  bool live_ = false;
};

}  // namespace eda::sourcing
