/// @file shop.hpp
/// @brief The shop's vocabulary for event notification: orders, the thin `OrderPlaced` event,
///        the follow-up events, and the Order service's request types.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <msgpack.hpp>

namespace eda::notification {

/// @brief What a customer sends to place an order.
struct OrderRequest {
  std::string customer;          ///< Who orders, e.g. `alice`.
  std::string item;              ///< What, e.g. `widget`.
  std::uint32_t quantity = 1;    ///< How many.
  std::int64_t price_cents = 0;  ///< Total price in cents.
  std::string address;           ///< Where to ship it.
  MSGPACK_DEFINE(customer, item, quantity, price_cents, address)
  /// @brief Field-by-field equality.
  friend bool operator==(const OrderRequest&, const OrderRequest&) = default;
};

/// @brief An order as the Order service keeps it: the details consumers fetch back.
struct Order {
  std::uint64_t order_id = 0;  ///< Assigned by the Order service, from 1.
  OrderRequest details;        ///< What was ordered.
  MSGPACK_DEFINE(order_id, details)
  /// @brief Field-by-field equality.
  friend bool operator==(const Order&, const Order&) = default;
};

/// @brief The thin event: "order 42 was placed". Just the id, so consumers that need more call
///        the Order service back (the fetch-back this pattern implies).
struct OrderPlaced {
  static constexpr std::string_view event_type = "shop.order.placed";  ///< Topic.
  static constexpr std::uint32_t schema_version = 1;                   ///< Payload shape version.
  std::uint64_t order_id = 0;  ///< The order that was placed.
  MSGPACK_DEFINE(order_id)
};

/// @brief Inventory's reaction: stock was set aside for the order.
struct StockReserved {
  static constexpr std::string_view event_type = "shop.stock.reserved";  ///< Topic.
  static constexpr std::uint32_t schema_version = 1;                     ///< Payload shape version.
  std::uint64_t order_id = 0;                                            ///< The order.
  std::string item;                                                      ///< What was reserved.
  std::uint32_t quantity = 0;                                            ///< How many.
  MSGPACK_DEFINE(order_id, item, quantity)
};

/// @brief Shipping's reaction: a parcel was scheduled.
struct ShipmentScheduled {
  static constexpr std::string_view event_type = "shop.shipment.scheduled";  ///< Topic.
  static constexpr std::uint32_t schema_version = 1;  ///< Payload shape version.
  std::uint64_t order_id = 0;                         ///< The order.
  std::string address;                                ///< Where the parcel goes.
  MSGPACK_DEFINE(order_id, address)
};

/// @brief Billing's reaction: the customer was charged.
struct PaymentCharged {
  static constexpr std::string_view event_type = "shop.payment.charged";  ///< Topic.
  static constexpr std::uint32_t schema_version = 1;  ///< Payload shape version.
  std::uint64_t order_id = 0;                         ///< The order.
  std::string customer;                               ///< Who paid.
  std::int64_t amount_cents = 0;                      ///< How much.
  MSGPACK_DEFINE(order_id, customer, amount_cents)
};

/// @brief A consumer's request for the events it missed: everything after `after_sequence`.
struct ReplayRequest {
  std::uint64_t after_sequence = 0;  ///< The last sequence the consumer processed.
  std::uint32_t max_events = 1000;   ///< Page size.
  MSGPACK_DEFINE(after_sequence, max_events)
};

/// @brief The Order service's answer to a ReplayRequest.
///
/// When `first_available` is greater than `after_sequence + 1`, the outbox no longer reaches
/// back far enough: the events in between are lost to this consumer, and it is told so.
struct ReplayReply {
  std::uint64_t first_available = 0;      ///< Oldest sequence still in the outbox (0: empty).
  std::uint64_t last_sequence = 0;        ///< Newest sequence published so far.
  std::vector<std::vector<char>> events;  ///< Envelopes, oldest first (MessagePack binary).
  MSGPACK_DEFINE(first_available, last_sequence, events)
};

/// @brief Method names of the Order service's API.
namespace method {
inline constexpr std::string_view place_order = "PlaceOrder";  ///< OrderRequest -> order id.
inline constexpr std::string_view get_order = "GetOrder";      ///< order id -> Order.
inline constexpr std::string_view replay = "Replay";           ///< ReplayRequest -> ReplayReply.
}  // namespace method

/// @brief The three downstream services of the shop, in the order the baseline calls them.
inline constexpr std::string_view downstream_roles[] = {"inventory", "shipping", "billing"};

/// @brief A sample order for demos, tests and benchmarks; the same `n` gives the same order.
OrderRequest sample_order(std::uint64_t n);

}  // namespace eda::notification
