/// @file stock_ledger.hpp
/// @brief The Inventory service's own state — stock per SKU and its decision on each order —
///        shared by the outbox version (inventory.hpp) and the dual-write baseline.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eda/sqlite/database.hpp"

namespace eda::saga {

/// @brief Inventory's decision on one order: stock reserved, or rejected for lack of it.
struct Reservation {
  std::uint64_t order_id = 0;  ///< The order.
  std::string sku{};           ///< What it asked for.
  std::uint64_t quantity = 0;  ///< How many.
  bool reserved = false;       ///< True: reserved; false: rejected.
  /// Units of `sku` available after the decision (after reserving, or as found when rejecting).
  std::uint64_t available = 0;
  /// True when this call made the decision; false when the order had been decided before (a
  /// retried command: nothing changed, no new event).
  bool fresh = true;

  /// @brief Field-by-field equality.
  friend bool operator==(const Reservation&, const Reservation&) = default;
};

/// @brief What giving back an order's stock did.
struct Release {
  std::uint64_t order_id = 0;  ///< The order.
  std::uint64_t quantity = 0;  ///< Units put back (0: the order held none).
  bool fresh = true;           ///< False when the order had been released before.
};

/// @brief The stock and reservation tables in a participant's database, changed only inside
///        the caller's transaction.
///
/// Tables (created if missing): `stock(sku, available)`, `reservations(order_id, sku,
/// quantity, reserved, available)` and `releases(order_id, quantity)`. An order is decided once: asking again returns the first
/// decision, so a retried command changes nothing.
class StockLedger {
 public:
  /// @brief Uses `db` (which must outlive this), creating the tables if missing.
  explicit StockLedger(sqlite::Database& db);

  /// @brief Adds `quantity` units of `sku` (goods in), inside the caller's transaction.
  void stock_up(sqlite::Transaction& open, std::string_view sku, std::uint64_t quantity);

  /// @brief Decides on `order_id` inside the caller's transaction: reserves `quantity` of `sku`
  ///        when that many are available, rejects the order otherwise; an order decided
  ///        before gets its first decision back (with `fresh` false) and changes nothing.
  Reservation decide(sqlite::Transaction& open, std::uint64_t order_id, std::string_view sku,
                     std::uint64_t quantity);

  /// @brief Gives back what `order_id` holds, inside the caller's transaction, once: the units
  ///        return to the shelf and the order is marked released. An order never decided is
  ///        recorded as rejected, so that a reservation for it arriving later (a command
  ///        overtaken by its compensation) reserves nothing.
  Release release(sqlite::Transaction& open, std::uint64_t order_id);

  /// @brief Units held for orders now: reserved and not released.
  [[nodiscard]] std::uint64_t held() const;

  /// @brief Whether `order_id` holds stock now (reserved and not released).
  [[nodiscard]] bool holds(std::uint64_t order_id) const;

  /// @brief Units of `sku` available now (0 for an unknown SKU).
  [[nodiscard]] std::uint64_t available(std::string_view sku) const;

  /// @brief The decision on `order_id`, if there is one.
  [[nodiscard]] std::optional<Reservation> find(std::uint64_t order_id) const;

  /// @brief Every decision, by order id.
  [[nodiscard]] std::vector<Reservation> reservations() const;

  /// @brief The highest order id decided (0 for none).
  [[nodiscard]] std::uint64_t last_order_id() const;

 private:
  sqlite::Database& db_;
};

}  // namespace eda::saga
