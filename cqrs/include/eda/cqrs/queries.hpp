/// @file queries.hpp
/// @brief The questions the shop asks about its orders, and the shape of each answer. Both
///        sides of the comparison answer exactly these: CQRS from its read models, the single
///        model from its normalized tables at query time.
///
/// | query | answer, in this order |
/// |---|---|
/// | customer_orders(customer) | every order of the customer, by order id |
/// | sales_by_day(first_day, last_day) | per day and product: paid quantity and revenue, by day then sku |
/// | awaiting_shipment(limit) | paid orders not yet shipped, oldest payment first |
///
/// A sale counts on the UTC day its order was paid, with the lines the order had then; an
/// order cancelled after payment no longer counts.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <msgpack.hpp>

namespace eda::cqrs {

/// @brief One of a customer's orders, as the order summary shows it.
struct OrderSummary {
  std::uint64_t order_id = 0;    ///< The order.
  std::string customer;          ///< Who ordered.
  std::string status;            ///< `open`, `paid`, `shipped` or `cancelled`.
  std::uint64_t item_count = 0;  ///< Sum of the lines' quantities.
  std::int64_t total_cents = 0;  ///< Sum of quantity x unit price over the lines.
  MSGPACK_DEFINE(order_id, customer, status, item_count, total_cents)
  /// @brief Field-by-field equality.
  friend bool operator==(const OrderSummary&, const OrderSummary&) = default;
};

/// @brief What one product sold on one day.
struct ProductDaySales {
  std::string day;                 ///< UTC day of payment, `YYYY-MM-DD`.
  std::string sku;                 ///< The product.
  std::uint64_t quantity = 0;      ///< Units sold.
  std::int64_t revenue_cents = 0;  ///< Quantity x unit price, summed.
  MSGPACK_DEFINE(day, sku, quantity, revenue_cents)
  /// @brief Field-by-field equality.
  friend bool operator==(const ProductDaySales&, const ProductDaySales&) = default;
};

/// @brief A paid order waiting to be shipped.
struct AwaitingShipment {
  std::uint64_t order_id = 0;    ///< The order.
  std::string customer;          ///< Who ordered.
  std::int64_t total_cents = 0;  ///< What was paid.
  std::int64_t paid_at_ns = 0;   ///< When (ns since the Unix epoch).
  MSGPACK_DEFINE(order_id, customer, total_cents, paid_at_ns)
  /// @brief Field-by-field equality.
  friend bool operator==(const AwaitingShipment&, const AwaitingShipment&) = default;
};

/// @brief The shop's queries. CQRS answers them from read models (ReadModels), the single
///        model from its write tables (baseline::SingleModelShop).
class ShopQueries {
 public:
  virtual ~ShopQueries() = default;
  /// @brief Every order of `customer`, by order id.
  [[nodiscard]] virtual std::vector<OrderSummary> customer_orders(
      const std::string& customer) const = 0;
  /// @brief Sales per product per day from `first_day` to `last_day` (`YYYY-MM-DD`, both
  ///        included), by day then sku.
  [[nodiscard]] virtual std::vector<ProductDaySales> sales_by_day(
      const std::string& first_day, const std::string& last_day) const = 0;
  /// @brief Up to `limit` paid, unshipped orders, oldest payment first (ties by order id).
  [[nodiscard]] virtual std::vector<AwaitingShipment> awaiting_shipment(
      std::size_t limit) const = 0;
};

/// @brief The UTC day (`YYYY-MM-DD`) of `timestamp_ns` (ns since the Unix epoch).
std::string utc_day(std::int64_t timestamp_ns);

/// @brief `text` as a calendar day, if it is one written `YYYY-MM-DD`; otherwise throws
///        std::invalid_argument quoting it and naming the argument (`which`).
std::chrono::sys_days parse_day(const std::string& text, std::string_view which = "day");

}  // namespace eda::cqrs
