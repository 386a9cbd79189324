/// @file projections.hpp
/// @brief The shop's three read models. Each answers one question without a join or an
///        aggregate at query time: the work is done once, when the event arrives. Each
///        projection's file holds its tables, its statements and its query.
///
/// ```sql
/// -- customer-orders: one row per order, found by customer through a covering index
/// CREATE TABLE customer_orders (order_id INTEGER PRIMARY KEY, customer TEXT NOT NULL,
///   status TEXT NOT NULL, item_count INTEGER NOT NULL, total_cents INTEGER NOT NULL,
///   version INTEGER NOT NULL, lines BLOB);  -- working: an open order's lines (MessagePack)
/// CREATE INDEX customer_orders_by_customer
///   ON customer_orders (customer, order_id, status, item_count, total_cents);
///
/// -- sales-by-day: the totals themselves, one row per day and product
/// CREATE TABLE product_day_sales (day TEXT, sku TEXT, quantity INTEGER, revenue_cents INTEGER,
///   PRIMARY KEY (day, sku)) WITHOUT ROWID;
/// CREATE TABLE sales_orders (order_id INTEGER PRIMARY KEY, version INTEGER NOT NULL,
///   paid_day TEXT, lines BLOB);             -- working: what each order sold, and when
///
/// -- awaiting-shipment: exactly the paid, unshipped orders, stored in payment order
/// CREATE TABLE awaiting_shipment (paid_at_ns INTEGER NOT NULL, order_id INTEGER NOT NULL,
///   customer TEXT NOT NULL, total_cents INTEGER NOT NULL,
///   PRIMARY KEY (paid_at_ns, order_id)) WITHOUT ROWID;
/// CREATE TABLE shipment_orders (...);        -- working: each order's customer and payment
/// ```
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "eda/cqrs/projection.hpp"
#include "eda/cqrs/queries.hpp"

namespace eda::cqrs {

/// @brief Name of the order-summary-per-customer projection.
inline constexpr std::string_view customer_orders_projection = "customer-orders";
/// @brief Name of the sales-per-product-per-day projection.
inline constexpr std::string_view sales_projection = "sales-by-day";
/// @brief Name of the orders-waiting-for-shipment projection.
inline constexpr std::string_view shipment_projection = "awaiting-shipment";

/// @brief The order summary per customer (answers ShopQueries::customer_orders).
std::unique_ptr<Projection> make_customer_orders_projection();
/// @brief Sales totals per product per day (answers ShopQueries::sales_by_day).
std::unique_ptr<Projection> make_sales_projection();
/// @brief The orders waiting for shipment (answers ShopQueries::awaiting_shipment).
std::unique_ptr<Projection> make_shipment_projection();

/// @brief All three, in the order ReadModels applies them.
std::vector<std::unique_ptr<Projection>> shop_projections();

/// @brief The question the customer-orders read model answers (ShopQueries::customer_orders),
///        asked of its tables: one range of their covering index.
///
/// Asked inside a read snapshot (ProjectionHost::read()), one call at a time; the statement
/// is prepared on the first call, once the projection has created its tables.
class CustomerOrdersQuery {
 public:
  /// @brief Asks of the read models in `db` (which must outlive this).
  explicit CustomerOrdersQuery(const sqlite::Database& db) : db_(db) {}
  /// @brief Every order of `customer`, by order id.
  [[nodiscard]] std::vector<OrderSummary> operator()(const std::string& customer);

 private:
  const sqlite::Database& db_;
  std::optional<sqlite::Statement> statement_;
};

/// @brief The question the sales-by-day read model answers (ShopQueries::sales_by_day): its
///        totals read as they are stored. As CustomerOrdersQuery, asked in a read snapshot.
class SalesByDayQuery {
 public:
  /// @brief Asks of the read models in `db` (which must outlive this).
  explicit SalesByDayQuery(const sqlite::Database& db) : db_(db) {}
  /// @brief Per day and product from `first_day` to `last_day` (`YYYY-MM-DD`, both included),
  ///        by day then sku; throws std::invalid_argument when a day is not one.
  [[nodiscard]] std::vector<ProductDaySales> operator()(const std::string& first_day,
                                                        const std::string& last_day);

 private:
  const sqlite::Database& db_;
  std::optional<sqlite::Statement> statement_;
};

/// @brief The question the awaiting-shipment read model answers
///        (ShopQueries::awaiting_shipment): the first rows of its table, which is kept in
///        payment order. As CustomerOrdersQuery, asked in a read snapshot.
class AwaitingShipmentQuery {
 public:
  /// @brief Asks of the read models in `db` (which must outlive this).
  explicit AwaitingShipmentQuery(const sqlite::Database& db) : db_(db) {}
  /// @brief Up to `limit` paid, unshipped orders, oldest payment first (ties by order id).
  [[nodiscard]] std::vector<AwaitingShipment> operator()(std::size_t limit);

 private:
  const sqlite::Database& db_;
  std::optional<sqlite::Statement> statement_;
};

}  // namespace eda::cqrs
