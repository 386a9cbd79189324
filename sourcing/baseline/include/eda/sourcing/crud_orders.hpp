/// @file crud_orders.hpp
/// @brief The baseline of event sourcing: CRUD. The same Order commands, judged by the same
///        decide(), but the result overwrites a row in place: the current state is all there is.
///
/// ```sql
/// CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, status INTEGER NOT NULL,
///                      paid_cents INTEGER NOT NULL, carrier TEXT NOT NULL,
///                      version INTEGER NOT NULL);   -- changes so far; BEGIN IMMEDIATE,
///                                                   -- not this column, keeps writers apart
/// CREATE TABLE order_lines (order_id INTEGER NOT NULL, sku TEXT NOT NULL,
///                           quantity INTEGER NOT NULL, unit_price_cents INTEGER NOT NULL,
///                           PRIMARY KEY (order_id, sku));
/// ```
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "eda/sourcing/order.hpp"
#include "eda/sourcing/sqlite_store.hpp"

namespace eda::sourcing::baseline {

/// @brief How a CrudOrders database is opened.
struct CrudOptions {
  std::string path{};                        ///< The database file (created when absent).
  Durability durability = Durability::full;  ///< The same setting as the event store's.
};

/// @brief Orders as rows updated in place. What it cannot answer: what the order looked like
///        before, who changed what when, or anything about an order that was deleted.
///
/// @par Thread safety
/// All members may be called concurrently (one connection, one call at a time).
class CrudOrders {
 public:
  /// @brief Opens (creating if needed) the database; throws std::runtime_error naming it.
  explicit CrudOrders(CrudOptions options);
  ~CrudOrders();
  CrudOrders(const CrudOrders&) = delete;             ///< Owns a connection.
  CrudOrders& operator=(const CrudOrders&) = delete;  ///< Owns a connection.

  /// @brief Loads the row, decides `command` with the same rules as the aggregate, and writes
  ///        the new state over the old one in one transaction. Throws CommandRejected.
  OrderState execute(std::uint64_t order_id, const OrderCommand& command);

  /// @brief The order's current row (a `none` state when there is no such order).
  [[nodiscard]] OrderState load(std::uint64_t order_id) const;

 private:
  struct Connection;
  OrderState load_locked(std::uint64_t order_id) const;
  mutable std::mutex mutex_;
  std::unique_ptr<Connection> db_;
};

}  // namespace eda::sourcing::baseline
