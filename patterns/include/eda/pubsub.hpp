/// @file pubsub.hpp
/// @brief Publisher and Subscriber: events over PUB/SUB with sequence numbers, gap and
///        duplicate detection, dead letters, explicit high-water marks and a subscription
///        handshake that ends the "slow joiner" problem without sleeping.
///
/// @par The handshake
/// ZeroMQ subscriptions travel from subscriber to publisher asynchronously, so events published
/// right after a subscriber connects are silently lost until its subscription arrives (the
/// Guide's "slow joiner"). Here the publisher is an XPUB socket that reads subscriptions. A
/// subscriber subscribes to its topics and to a private hello topic; when the publisher sees the
/// hello it answers on that topic. Subscriptions travel in order on one connection, so the
/// answer proves the topics before it have arrived too. It runs in two rounds, because libzmq
/// may re-send subscriptions in a different order when a connection is first established:
/// round 0 proves the connection is up, round 1 (subscribed only after round 0 is answered)
/// proves the topics are in place. From then on the subscriber loses nothing it subscribed for,
/// unless a high-water mark overflows, and then its sequence check reports the gap.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <msgpack.hpp>
#include <zmq.hpp>

#include "eda/codec.hpp"
#include "eda/dead_letter.hpp"
#include "eda/envelope.hpp"
#include "eda/heartbeat.hpp"
#include "eda/peer_watch.hpp"
#include "eda/security.hpp"
#include "eda/sequence.hpp"

namespace eda {

/// @brief Topic prefix of the kit's own control messages. The 0xFF byte can never start an
///        event type, and sorts after every event type in libzmq's subscription tree.
inline constexpr std::string_view control_topic_prefix =
    "\xff"
    "eda.";

/// @brief Topic prefix of the subscription handshake ("hello") messages.
inline constexpr std::string_view hello_topic_prefix =
    "\xff"
    "eda.hello.";

/// @brief How a Publisher is set up.
struct PublisherOptions {
  std::string source{};                  ///< Name stamped on every event, e.g. `order-service`.
  std::vector<std::string> endpoints{};  ///< Where to bind; at least one (`tcp://127.0.0.1:*` ok).
  int send_high_water_mark = 100'000;    ///< Events queued per subscriber before new ones drop.
  int linger_ms = 1000;  ///< How long closing may wait to flush queued events to subscribers.
  /// What a publisher receives are subscriptions (a topic prefix, or the kit's hello): a
  /// larger message drops the subscriber's connection (ZMQ_MAXMSGSIZE), so a stranger cannot
  /// make it allocate what a frame header claims.
  std::int64_t max_subscription_bytes = std::int64_t{64} * 1024;
  /// ZMTP heartbeats: a subscriber that stops answering (frozen, its host gone) has its
  /// connection closed and its queue freed; see peers().
  Heartbeat heartbeat{};
  /// Plaintext (the default) or CURVE: the publisher binds, so it is the CURVE server
  /// (Security::server, CurveSetup::server()).
  Security security{};
};

/// @brief Publishes typed events on PUB/SUB (an XPUB socket), stamping each with the next
///        sequence number of its source.
///
/// Publishing never blocks and never waits for subscribers: a subscriber that falls more than
/// `send_high_water_mark` events behind loses the newest ones, and its Subscriber reports the
/// gap. Call serve() (or wait_for_subscribers()) while idle so that joining subscribers
/// complete their handshake; publish() also answers pending handshakes, at most once a
/// millisecond so that a busy publisher does not pay a system call per event.
///
/// @par Thread safety
/// One thread at a time, like the ZeroMQ socket it owns.
class Publisher {
 public:
  /// @brief Binds to every endpoint in `options`; throws std::invalid_argument for bad options,
  ///        TransportError when an endpoint cannot be bound, and SecurityError for a CURVE
  ///        Security whose ZapHandler does not run in `context`.
  Publisher(zmq::context_t& context, PublisherOptions options);

  /// @brief The endpoints actually bound, in connectable form (real ports, no wildcards).
  [[nodiscard]] const std::vector<std::string>& endpoints() const noexcept { return endpoints_; }

  /// @brief The source name stamped on every event.
  [[nodiscard]] const std::string& source() const noexcept { return options_.source; }

  /// @brief Publishes `payload` as a new event; returns the metadata it was sent with.
  ///
  /// Pass `Cause::of(event)` to publish a follow-up of `event` (same correlation id, causation
  /// id = its event id); the default starts a new chain.
  template <EventPayload P>
  EventMetadata publish(const P& payload, const Cause& cause = {}) {
    EventMetadata meta = make_metadata<P>(options_.source, cause);
    meta.sequence = ++sequence_;
    buffer_.clear();
    encode_event(meta, payload, buffer_);
    send_encoded(std::string_view(buffer_.data(), buffer_.size()), meta.timestamp_ns);
    return meta;
  }

  /// @brief The record of the last event published (type, zero byte, envelope), exactly as
  ///        sent (valid until the next publish), e.g. for an outbox or an event store to keep.
  [[nodiscard]] std::string_view last_envelope() const noexcept {
    return {buffer_.data(), buffer_.size()};
  }

  /// @brief Sends an already encoded event unchanged (same id and sequence), e.g. to replay a
  ///        stored event; one stored in format 1 is sent as a record of the same metadata and
  ///        payload.
  void republish(const DecodedEvent& event);

  /// @brief Answers subscription handshakes for up to `wait` (returns as soon as at least one
  ///        message was handled); returns how many subscription messages were handled.
  std::size_t serve(std::chrono::milliseconds wait);

  /// @brief Serves handshakes until at least `count` subscribers completed theirs; false if
  ///        `timeout` passed first.
  bool wait_for_subscribers(std::size_t count, std::chrono::milliseconds timeout);

  /// @brief Subscribers whose handshake is complete and who are still connected.
  [[nodiscard]] std::size_t subscriber_count() const noexcept { return subscribers_.size(); }

  /// @brief The sequence number of the last event published (0 before the first).
  [[nodiscard]] std::uint64_t last_sequence() const noexcept { return sequence_; }

  /// @brief The subscribers' connections: open now, closed so far (a subscriber that stopped
  ///        answering heartbeats is one of them), refused handshakes.
  const PeerStatus& peers() { return peers_.poll(); }

  /// @brief The underlying socket, e.g. to poll it together with others (readable = a
  ///        subscription message is waiting; call serve(0ms)).
  [[nodiscard]] zmq::socket_t& socket() noexcept { return socket_; }

 private:
  // `now_ns`: the wall-clock time of sending, read once by the caller (an event's timestamp).
  void send_encoded(std::string_view record, std::int64_t now_ns);
  std::size_t handle_subscriptions();

  PublisherOptions options_;
  zmq::socket_t socket_;
  PeerWatch peers_;  // after socket_: destroyed before it
  std::vector<std::string> endpoints_{};
  std::string instance_id_;  // answers handshakes, so a subscriber can tell publishers apart
  std::uint64_t sequence_ = 0;
  msgpack::sbuffer buffer_{4096};
  std::set<std::string> subscribers_;  // ids of subscribers whose handshake completed
  std::int64_t last_subscription_check_ns_ = 0;
};

/// @brief How a Subscriber is set up.
struct SubscriberOptions {
  std::vector<std::string> endpoints{};       ///< Publishers to connect to; at least one.
  /// @brief Event-type prefixes to receive (`shop.order`), or a type and a zero byte for that
  ///        type exactly; empty means all.
  std::vector<std::string> topics{};
  int receive_high_water_mark = 100'000;      ///< Events queued before new ones drop (see gaps).
  std::int64_t max_message_bytes = 16 << 20;  ///< Larger messages drop the connection (0 = off).
  DecodeLimits limits{};                      ///< Bounds on each envelope.
  /// ZMTP heartbeats: a publisher that stops answering (frozen, its host gone) has its
  /// connection closed, and it is reconnected when it answers again; see peers().
  Heartbeat heartbeat{};
  std::string name = "subscriber";  ///< Names this consumer in dead letters.
  /// Whether a jump in a source's sequence counts as a gap. Default: only when subscribed to
  /// all topics, because a topic-filtered subscriber cannot tell the events it filtered out
  /// from lost ones (sequences are per source, across all its event types).
  std::optional<bool> detect_gaps{};
  /// Whether events at or below a source's last sequence are dropped (and counted) instead of
  /// delivered. Patterns that judge sequences themselves turn it off: a state-transfer replica
  /// sees a restarted source's numbering start again at 1 and must not lose those events.
  bool drop_duplicates = true;
  DeadLetterSink* dead_letters = nullptr;  ///< Where malformed messages go (default: own box).
  /// Plaintext (the default) or CURVE: the subscriber connects, so it is a CURVE client
  /// (Security::client, CurveSetup::client()).
  Security security{};
};

/// @brief Counters a Subscriber keeps about what it received.
struct SubscriberStats {
  std::uint64_t delivered = 0;   ///< Valid events returned by receive().
  std::uint64_t duplicates = 0;  ///< Events whose sequence was already seen (dropped by default).
  std::uint64_t gaps = 0;        ///< Times a sequence number was skipped.
  std::uint64_t missed = 0;      ///< Sequence numbers skipped in total (events lost).
  std::uint64_t malformed = 0;   ///< Messages dead-lettered.
};

/// @brief One event handed to a consumer, with what the sequence check found.
struct Delivery {
  DecodedEvent event;   ///< The decoded event.
  SequenceCheck check;  ///< `gap` with `missed` > 0 when events from its source were lost.
};

/// @brief Receives events over PUB/SUB, checks their sequence per source, and dead-letters
///        malformed messages instead of throwing them at the consumer.
///
/// @par Example
/// @code
/// eda::Subscriber inbox(context, {.endpoints = {endpoint}, .topics = {"shop.order"}});
/// inbox.await_handshake(std::chrono::seconds(5));
/// while (auto delivery = inbox.receive(std::chrono::milliseconds(100))) {
///   if (delivery->event.is<OrderPlaced>()) { ... }
/// }
/// @endcode
///
/// @par Errors
/// receive() never throws for bad input: malformed messages are counted in stats(), handed to
/// the dead-letter sink, and skipped. Duplicates are counted and skipped (or delivered with a
/// `duplicate` verdict when `drop_duplicates` is off); gaps are counted and reported on the
/// delivery that follows them.
///
/// @par Thread safety
/// One thread at a time, like the ZeroMQ socket it owns.
class Subscriber {
 public:
  /// @brief Connects to every endpoint and subscribes; throws std::invalid_argument for bad
  ///        options (SecurityError for unusable keys). Connecting does not wait: see
  ///        await_handshake(), which also times out when the publisher refuses this
  ///        subscriber's CURVE keys.
  Subscriber(zmq::context_t& context, SubscriberOptions options);

  /// @brief Waits until every publisher connected to has confirmed this subscriber's
  ///        subscriptions; false if `timeout` passed first. Events arriving meanwhile are kept
  ///        for receive().
  bool await_handshake(std::chrono::milliseconds timeout);

  /// @brief Whether every publisher has confirmed the subscriptions.
  [[nodiscard]] bool handshake_complete() const noexcept;

  /// @brief The next valid event, waiting up to `timeout`; empty when none arrived in time.
  std::optional<Delivery> receive(std::chrono::milliseconds timeout);

  /// @brief Counters so far.
  [[nodiscard]] const SubscriberStats& stats() const noexcept { return stats_; }

  /// @brief The connections to the publishers: open now, closed so far (a publisher that
  ///        stopped answering heartbeats is one of them; it is reconnected by itself).
  const PeerStatus& peers() { return peers_.poll(); }

  /// @brief Hands an event the consumer could not process (e.g. an unknown type or a payload
  ///        that does not decode) to the dead-letter sink, and counts it as malformed.
  void dead_letter(const DecodedEvent& event, WireFault fault, std::string reason);

  /// @brief The dead-letter sink in use (the subscriber's own box unless one was given).
  [[nodiscard]] DeadLetterSink& dead_letters() noexcept { return *sink_; }

  /// @brief The per-source sequence tracker (for patterns that repair gaps themselves).
  [[nodiscard]] SequenceTracker& sequence() noexcept { return tracker_; }

  /// @brief The underlying socket, e.g. to poll it together with others.
  [[nodiscard]] zmq::socket_t& socket() noexcept { return socket_; }

 private:
  enum class Step { nothing, event, control, malformed };
  Step read_one(std::chrono::milliseconds wait, std::optional<DecodedEvent>& event);
  Step read_one_waiting(std::optional<DecodedEvent>& event);
  Step handle_message(std::size_t frame_count, std::optional<DecodedEvent>& event);
  std::optional<Delivery> take_waiting();
  void handle_control(std::string_view topic, std::string_view publisher);
  std::optional<Delivery> accept(DecodedEvent event);

  SubscriberOptions options_;
  zmq::socket_t socket_;
  PeerWatch peers_;  // after socket_: destroyed before it
  std::unique_ptr<DeadLetterBox> own_box_{};
  DeadLetterSink* sink_;
  SequenceTracker tracker_;
  SubscriberStats stats_;
  std::vector<zmq::message_t> frames_{};
  std::deque<DecodedEvent> pending_;  // read during a handshake, not yet returned (bounded)
  bool detect_gaps_ = true;
  int receive_timeout_ms_ = -1;  // the socket's ZMQ_RCVTIMEO, set only when it changes
  std::string hello_id_{};
  bool round_one_subscribed_ = false;
  std::set<std::string> round_zero_;  // publisher instances that answered round 0
  std::set<std::string> round_one_;   // ... and round 1
};

}  // namespace eda
