// Sample payloads for the kit's tests.
#pragma once

#include <cstdint>
#include <string>

#include "eda/pubsub.hpp"
#include "eda_test_support.hpp"

namespace eda::test {

/// A six-field payload, the size the codec's performance notes talk about.
struct OrderPlaced {
  static constexpr std::string_view event_type = "shop.order.placed";
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t order_id = 0;
  std::string customer;
  std::string item;
  std::uint32_t quantity = 0;
  std::int64_t price_cents = 0;
  bool express = false;
  MSGPACK_DEFINE(order_id, customer, item, quantity, price_cents, express)
  friend bool operator==(const OrderPlaced&, const OrderPlaced&) = default;
};

/// A follow-up event, to check correlation and causation.
struct StockReserved {
  static constexpr std::string_view event_type = "shop.stock.reserved";
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t order_id = 0;
  MSGPACK_DEFINE(order_id)
};

/// A sample order with every field set to something distinctive.
OrderPlaced sample_order(std::uint64_t id);

}  // namespace eda::test
