/// @file single_model.hpp
/// @brief The baseline of CQRS: one model for commands and queries. The same Order commands,
///        judged by the same decide(), update normalized tables in place; the shop's queries
///        are answered from those same tables, with joins and aggregates at query time.
///
/// ```sql
/// CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, status INTEGER NOT NULL,
///                      placed_at_ns INTEGER NOT NULL,
///                      paid_at_ns INTEGER,                       -- NULL until paid
///                      paid_cents INTEGER NOT NULL DEFAULT 0,
///                      carrier TEXT NOT NULL DEFAULT '');        -- '' until shipped
/// CREATE TABLE order_lines (order_id INTEGER NOT NULL, sku TEXT NOT NULL,
///                           quantity INTEGER NOT NULL, unit_price_cents INTEGER NOT NULL,
///                           PRIMARY KEY (order_id, sku)) WITHOUT ROWID;
/// CREATE INDEX orders_by_customer ON orders (customer);                  -- customer_orders
/// CREATE INDEX orders_by_status_and_payment ON orders (status, paid_at_ns);
///                                           -- sales_by_day, awaiting_shipment
/// ```
///
/// `status` holds sourcing::OrderStatus as its number (1 open, 2 paid, 3 shipped, 4 cancelled).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "eda/cqrs/queries.hpp"
#include "eda/sourcing/order.hpp"
#include "eda/sqlite/database.hpp"

/// @brief The synchronous baseline of CQRS (see single_model.hpp).
namespace eda::cqrs::baseline {

/// @brief How a SingleModelShop database is opened.
struct SingleModelOptions {
  std::string path{};  ///< The database file (created when absent).
  sqlite::Durability durability = sqlite::Durability::full;  ///< fsync per commit or not.
};

/// @brief The shop with one model: orders and their lines as rows updated in place, and every
///        query a join over them, computed when it is asked.
///
/// What it costs: each query re-reads and re-aggregates the write tables, and readers share
/// the writers' database, indexes and lock. What it saves: there is nothing to project, so an
/// answer is never stale.
///
/// @par Example
/// ```cpp
/// SingleModelShop shop({.path = "shop.db"});
/// shop.execute(42, sourcing::PlaceOrder{"alice"}, now_ns);
/// shop.execute(42, sourcing::AddItem{"widget", 2, 1250}, now_ns);
/// shop.execute(42, sourcing::Pay{2500}, now_ns);
/// for (const AwaitingShipment& order : shop.awaiting_shipment(10)) { ... }
/// ```
///
/// @par Thread safety
/// All members may be called concurrently: one connection, guarded by a mutex, serves one call
/// at a time.
///
/// @par Errors
/// Commands the order's state does not allow throw sourcing::CommandRejected and write
/// nothing; SQLite failures throw std::runtime_error; malformed query arguments throw
/// std::invalid_argument.
class SingleModelShop final : public ShopQueries {
 public:
  /// @brief Opens (creating if needed, with its schema) the database. A file that is not such a
  ///        database throws std::runtime_error naming it.
  explicit SingleModelShop(SingleModelOptions options);
  ~SingleModelShop() override;                                  ///< Closes the database.
  SingleModelShop(const SingleModelShop&) = delete;             ///< Owns a connection.
  SingleModelShop& operator=(const SingleModelShop&) = delete;  ///< Owns a connection.

  /// @brief Loads order `order_id` from the tables, decides `command` with the aggregate's own
  ///        rules, and applies the resulting events to the rows, all in one transaction.
  ///        `timestamp_ns` (ns since the Unix epoch) is when it happens: it is stored as the
  ///        order's placing time on PlaceOrder and as its payment time on Pay.
  /// @return The order's new state.
  /// @throws sourcing::CommandRejected when the state does not allow the command (nothing is
  ///         written).
  sourcing::OrderState execute(std::uint64_t order_id, const sourcing::OrderCommand& command,
                               std::int64_t timestamp_ns);

  /// @brief The order's current state, read from its rows (a `none` state when there is no
  ///        such order).
  [[nodiscard]] sourcing::OrderState load(std::uint64_t order_id) const;

  /// @brief Every order of `customer`, by order id: orders LEFT JOIN their lines, summed per
  ///        order.
  [[nodiscard]] std::vector<OrderSummary> customer_orders(
      const std::string& customer) const override;

  /// @brief Quantity and revenue per UTC day of payment and sku, over orders that are paid or
  ///        shipped, from `first_day` to `last_day` (both included), by day then sku.
  /// @throws std::invalid_argument when a day is not a calendar day written `YYYY-MM-DD`.
  [[nodiscard]] std::vector<ProductDaySales> sales_by_day(
      const std::string& first_day, const std::string& last_day) const override;

  /// @brief Up to `limit` paid, unshipped orders with what was paid, oldest payment first
  ///        (ties by order id); none for a `limit` of 0.
  [[nodiscard]] std::vector<AwaitingShipment> awaiting_shipment(std::size_t limit) const override;

 private:
  struct Connection;
  [[nodiscard]] sourcing::OrderState load_locked(std::uint64_t order_id) const;
  void apply_locked(std::uint64_t order_id, const sourcing::OrderEvent& event,
                    std::int64_t timestamp_ns);
  mutable std::mutex mutex_;
  std::unique_ptr<Connection> db_;
};

}  // namespace eda::cqrs::baseline
