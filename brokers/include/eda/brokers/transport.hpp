/// @file transport.hpp
/// @brief A durable event transport: what the notification scenario needs from whatever carries
///        its events, written once so the same contract tests run over ZeroMQ, NATS JetStream
///        and RabbitMQ.
///
/// The Order service publishes `OrderPlaced`; Inventory, Shipping and Billing each consume every
/// event, at their own pace, even after being down. Whatever carries the events must then:
///
/// | need | JetStream | RabbitMQ | ZeroMQ (built here) |
/// |---|---|---|---|
/// | publish, acknowledged once stored | js_PublishAsync + pub acks | publisher confirms | the log's reply |
/// | a durable subscription per service | durable pull consumer | a durable queue per service on a fanout exchange | a cursor per service in the log |
/// | explicit acknowledgement | `natsMsg_Ack` | `basic.ack` | an outcome sent with the next Fetch |
/// | a batch in flight (max_in_flight) | pull batch | `basic.qos` prefetch | Fetch of N, settled in one commit |
/// | redelivery of what was not acknowledged | Nak / AckWait | `basic.nack` requeue | the cursor stays |
/// | dead letters after bounded deliveries | MaxDeliver, then a dead-letter subject | quorum queue `x-delivery-limit` + dead-letter exchange | counted in the log |
/// | de-duplication of a publish sent twice | `Nats-Msg-Id` (MsgId) window | none: the consumer deduplicates | none: the consumer deduplicates |
///
/// Every transport carries the kit's envelope bytes (codec.hpp), so the events are the same on
/// all three, and consumers deduplicate by event id whatever the broker promises.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eda/codec.hpp"
#include "eda/errors.hpp"

namespace eda::brokers {

/// @brief A broker (or the ZeroMQ log) refused or failed an operation: not connected, a publish
///        not confirmed in time, a declaration refused. The message says which and why.
///        Category: ErrorCategory::transport.
class BrokerError : public Error {
 public:
  /// @brief A broker error with `message`.
  explicit BrokerError(const std::string& message) : Error(ErrorCategory::transport, message) {}
};

/// @brief Checks a scenario or service name: 1..64 letters, digits, '-' or '_', which every
///        transport accepts in its stream, consumer, exchange and queue names (a '.' would split
///        a NATS subject). Throws std::invalid_argument naming `what` otherwise.
void check_name(const std::string& name, const char* what);

/// @brief One event handed to a consuming service, to be acknowledged or rejected.
struct Delivery {
  DecodedEvent event;         ///< The event, decoded and validated.
  std::uint32_t attempt = 1;  ///< 1 for the first delivery, 2 for the first redelivery, ...
  std::uint64_t handle = 0;   ///< The transport's own reference (a delivery tag, a sequence).
};

/// @brief A service's durable subscription: what was published since it was created, kept for it
///        while it is away, handed out until acknowledged.
///
/// Destroying the object is the service going down: nothing is lost, and what it had taken but
/// not acknowledged is delivered again to the next subscription of the same service.
///
/// @par Thread safety
/// One thread at a time.
class Subscription {
 public:
  virtual ~Subscription() = default;

  /// @brief The next event, waiting at most `wait`; nothing when none came.
  ///
  /// Bytes that do not decode as an envelope are sent to the dead letters at once (counted in
  /// malformed()) and never returned.
  virtual std::optional<Delivery> next(std::chrono::milliseconds wait) = 0;
  /// @brief The service has processed it: never deliver it again.
  ///
  /// With TransportOptions::max_in_flight above 1 the acknowledgement may travel later, with
  /// the next fetch: a consumer killed before that gets the event again (at-least-once; the
  /// consumer deduplicates by event id).
  virtual void ack(const Delivery& delivery) = 0;
  /// @brief The service could not process it: deliver it again, up to the transport's bound of
  ///        deliveries, after which it goes to the service's dead letters. The events fetched
  ///        with it are not held back: they are delivered and acknowledged on their own.
  virtual void reject(const Delivery& delivery) = 0;
  /// @brief How many undecodable messages it sent to the dead letters.
  [[nodiscard]] virtual std::uint64_t malformed() const = 0;
};

/// @brief How a transport is set up for one scenario.
struct TransportOptions {
  std::string name = "shop";  ///< Names the stream, exchange or log (letters, digits, '-', '_').
  /// Deliveries of one event before it is dead-lettered (>= 1).
  std::uint32_t max_deliveries = 3;
  /// How long a publish waits for the broker's acknowledgement before it fails.
  std::chrono::milliseconds ack_timeout{10'000};
  /// How long an unacknowledged delivery waits before it is delivered again (a consumer that
  /// took it and died); rejected ones are delivered again at once.
  std::chrono::milliseconds redeliver_after{2'000};
  /// How many deliveries a subscription may hold unacknowledged (>= 1): it fetches up to this
  /// many at a time — JetStream's pull batch, RabbitMQ's `basic.qos` prefetch, the ZeroMQ log's
  /// Fetch, which also settles the previous batch's acks in the same commit.
  ///
  /// 1, the default, is the careful consumer: a service that goes down holds one event, and a
  /// consumer that keeps dying uses up the delivery attempts of that event only. A batch of N
  /// costs one round trip (and, for the ZeroMQ log, one fsync) instead of N, but a consumer that
  /// dies holding it has all N delivered again, each one attempt closer to the dead letters —
  /// so a crash loop can dead-letter healthy neighbours of a poison event.
  std::uint32_t max_in_flight = 1;
};

/// @brief `options` once checked: a valid name (check_name()) and at least one delivery;
///        throws std::invalid_argument otherwise. Every transport's constructor starts with it.
TransportOptions checked_options(TransportOptions options);

/// @brief Carries events from one producer to every consuming service, durably.
///
/// @par Thread safety
/// One thread at a time; subscriptions are separate objects, usable from other threads.
class EventTransport {
 public:
  virtual ~EventTransport() = default;

  /// @brief The transport's name for people: `zeromq`, `jetstream`, `rabbitmq`.
  [[nodiscard]] virtual std::string_view kind() const = 0;

  /// @brief Creates the durable subscription of `service` (idempotent): from then on every
  ///        event published is kept for it, whether it is connected or not.
  virtual void add_service(const std::string& service) = 0;

  /// @brief Sends one envelope (encoded with the kit's codec) without waiting for the broker.
  ///        `event_id` is the envelope's id, for de-duplication where the broker offers it.
  virtual void publish(std::string_view event_id, std::string_view envelope) = 0;

  /// @brief Waits until the broker has acknowledged everything published so far; throws
  ///        BrokerError when it refused one or did not answer within TransportOptions::ack_timeout.
  virtual void wait_for_acks() = 0;

  /// @brief The durable subscription of `service` (add_service() first), connected now.
  virtual std::unique_ptr<Subscription> subscribe(const std::string& service) = 0;

  /// @brief Takes up to `max` of `service`'s dead letters (raw bytes, as published), waiting at
  ///        most `wait` for the first.
  virtual std::vector<std::string> take_dead_letters(const std::string& service, std::size_t max,
                                                     std::chrono::milliseconds wait) = 0;

  /// @brief Whether the broker drops a second publish of the same event id by itself.
  [[nodiscard]] virtual bool deduplicates_publishes() const = 0;

  /// @brief Publishes a typed event (encoded with the kit's codec).
  template <EventPayload P>
  void publish(const Event<P>& event) {
    const std::string envelope = encode_event(event);
    publish(event.meta.event_id, envelope);
  }
};

}  // namespace eda::brokers
