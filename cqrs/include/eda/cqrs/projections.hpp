/// @file projections.hpp
/// @brief The shop's three read models. Each answers one question without a join or an
///        aggregate at query time: the work is done once, when the event arrives.
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

#include <memory>
#include <vector>

#include "eda/cqrs/projection.hpp"

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

}  // namespace eda::cqrs
