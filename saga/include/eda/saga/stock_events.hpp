/// @file stock_events.hpp
/// @brief The events the shop's Inventory service announces when it decides on a reservation.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <msgpack.hpp>

/// @brief Consistency across services: the transactional outbox, its relay, idempotent
///        consumers, and the checkout saga (orchestrated and choreographed).
namespace eda::saga {

/// @brief Stock was set aside for an order: `quantity` of `sku`, `remaining` left afterwards.
struct StockReserved {
  /// @brief The event type, also the topic.
  static constexpr std::string_view event_type = "shop.inventory.stock-reserved";
  /// @brief The payload's shape version.
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t order_id = 0;   ///< The order the stock is held for.
  std::string sku{};            ///< The stock-keeping unit reserved.
  std::uint64_t quantity = 0;   ///< How many units were reserved.
  std::uint64_t remaining = 0;  ///< Units of `sku` still available after this reservation.
  MSGPACK_DEFINE(order_id, sku, quantity, remaining)
};

/// @brief An order asked for more of `sku` than was available: nothing was reserved.
struct StockRejected {
  /// @brief The event type, also the topic.
  static constexpr std::string_view event_type = "shop.inventory.stock-rejected";
  /// @brief The payload's shape version.
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t order_id = 0;   ///< The order that asked.
  std::string sku{};            ///< The stock-keeping unit asked for.
  std::uint64_t quantity = 0;   ///< How many units were asked for.
  std::uint64_t available = 0;  ///< How many were available (fewer than asked).
  MSGPACK_DEFINE(order_id, sku, quantity, available)
};

/// @brief Topic prefix of every Inventory event, for subscribers.
inline constexpr std::string_view inventory_topic = "shop.inventory.";

}  // namespace eda::saga
