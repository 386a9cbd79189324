/// @file envelope.hpp
/// @brief The event envelope: the metadata every event carries, and the typed event itself.
#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>

namespace eda {

/// @brief What every event carries besides its payload.
///
/// The metadata answers the questions a consumer (or a person debugging one) asks about any
/// event: which event is this (`event_id`, for idempotency), what happened (`type`), who said
/// so and in what order (`source`, `sequence`), when (`timestamp_ns`), in which shape
/// (`schema_version`), and why (`correlation_id` names the command that started a chain of
/// reactions, `causation_id` the event that directly caused this one).
struct EventMetadata {
  std::string event_id{};            ///< Unique id (32 hex digits); consumers deduplicate by it.
  std::string type{};                ///< What happened, e.g. `shop.order.placed`; also the topic.
  std::string source{};              ///< The service that published it, e.g. `order-service`.
  std::uint64_t sequence = 0;        ///< Per-source sequence number, 1, 2, 3, ... (0 = unstamped).
  std::int64_t timestamp_ns = 0;     ///< Wall-clock time of publication, ns since the Unix epoch.
  std::uint32_t schema_version = 1;  ///< Version of the payload's shape, starts at 1.
  std::string correlation_id{};      ///< Id shared by every event of one business transaction.
  std::string causation_id{};        ///< Event id of the direct cause; empty for a first event.

  /// @brief Field-by-field equality.
  friend bool operator==(const EventMetadata&, const EventMetadata&) = default;
};

/// @brief A payload type that can travel as an event.
///
/// A payload is a plain struct that names its event type and schema version and lists its
/// fields for MessagePack with `MSGPACK_DEFINE` (positional fields: see the kit's page for why):
/// @code
/// struct OrderPlaced {
///   static constexpr std::string_view event_type = "shop.order.placed";
///   static constexpr std::uint32_t schema_version = 1;
///   std::uint64_t order_id = 0;
///   std::string customer;
///   MSGPACK_DEFINE(order_id, customer)
/// };
/// @endcode
template <class P>
concept EventPayload = requires {
  { P::event_type } -> std::convertible_to<std::string_view>;
  { P::schema_version } -> std::convertible_to<std::uint32_t>;
};

/// @brief A typed event: metadata plus a payload struct.
template <class P>
struct Event {
  EventMetadata meta{};  ///< Envelope metadata.
  P payload{};           ///< The typed payload.
};

/// @brief A fresh 128-bit event id as 32 lowercase hex digits: the time in milliseconds since
///        the Unix epoch (12 digits), then 80 random bits (20 digits).
///
/// The time comes first so that ids made later sort later (as UUID version 7 does): an index
/// on event ids, like the event store's, then grows at its end instead of being written at a
/// random place for every event, which costs a page write each. Uniqueness rests on the 80
/// random bits; the order is a help to storage, not a promise (clocks step back).
std::string new_event_id();

/// @brief Like new_event_id(), with the time already read (ns since the Unix epoch): an event
///        stamped with `now_ns` as its timestamp gets an id of the same millisecond without a
///        second read of the clock.
std::string new_event_id(std::int64_t now_ns);

/// @brief Wall-clock time now, in nanoseconds since the Unix epoch (for event timestamps).
std::int64_t wall_clock_ns();

/// @brief Where an event comes from in a chain of reactions.
///
/// Pass `Cause::of(event.meta)` when publishing an event in reaction to another: the new event
/// inherits the correlation id and records the cause's id as its causation id. An empty
/// `Cause{}` starts a new chain (the event becomes its own correlation root).
struct Cause {
  std::string correlation_id{};  ///< Correlation id to inherit (empty: start a new chain).
  std::string causation_id{};    ///< Event id of the direct cause (empty for a first event).

  /// @brief The cause of a follow-up to `event`.
  static Cause of(const EventMetadata& event) {
    return Cause{event.correlation_id.empty() ? event.event_id : event.correlation_id,
                 event.event_id};
  }
};

/// @brief Metadata for a new event of type `P` from `source`, stamped with a new id and the
///        current time, linked to `cause` (sequence stays 0: publishers stamp it).
template <EventPayload P>
EventMetadata make_metadata(std::string_view source, const Cause& cause = {}) {
  EventMetadata meta{};
  meta.timestamp_ns = wall_clock_ns();
  meta.event_id = new_event_id(meta.timestamp_ns);
  meta.type = std::string(P::event_type);
  meta.source = std::string(source);
  meta.schema_version = P::schema_version;
  meta.correlation_id = cause.correlation_id.empty() ? meta.event_id : cause.correlation_id;
  meta.causation_id = cause.causation_id;
  return meta;
}

/// @brief A new event of type `P` that starts a chain (its own correlation root).
template <EventPayload P>
Event<P> make_event(std::string_view source, P payload) {
  return Event<P>{make_metadata<P>(source), std::move(payload)};
}

/// @brief A follow-up event of type `P` caused by `cause`: it inherits the cause's correlation
///        id and records the cause's event id as its causation id.
template <EventPayload P>
Event<P> follow_up(const EventMetadata& cause, std::string_view source, P payload) {
  return Event<P>{make_metadata<P>(source, Cause::of(cause)), std::move(payload)};
}

/// @brief Whether `type` is a valid event type: 1..200 characters from `[A-Za-z0-9._-]`.
///
/// Types double as ZeroMQ topics, and subscriptions match by prefix, so `shop.order` matches
/// `shop.order.placed` and `shop.order.paid`.
bool is_valid_event_type(std::string_view type) noexcept;

}  // namespace eda
