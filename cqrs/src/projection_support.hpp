// Pieces every shop projection is made of (private to this module): the version guard that
// makes handlers idempotent, and the working table of an order's lines.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "eda/cqrs/projection.hpp"

namespace eda::cqrs::detail {

/// The version guard: a table with one row per order whose `version` column is the last
/// event of that order applied. An event is applied only when it is the next one, so a
/// redelivered event (or one replayed twice) changes nothing.
class VersionGuard {
 public:
  /// `table` has columns (order_id INTEGER PRIMARY KEY, version INTEGER NOT NULL, ...).
  VersionGuard(const sourcing::sqlite::Database& db, const std::string& table)
      : db_(db),
        claim_(db.handle(), ("UPDATE " + table +
                             " SET version = ?2 WHERE order_id = ?1 AND version = ?2 - 1")
                                .c_str()) {}

  /// Whether `event` is the next event of its order here; if so, records it as applied.
  /// (An order's first event, OrderPlaced, creates the row instead: see the projections.)
  bool claim(const ProjectedEvent& event) {
    claim_.bind(event.order_id, event.version).run();
    return db_.changes() == 1;
  }

 private:
  const sourcing::sqlite::Database& db_;
  sourcing::sqlite::Statement claim_;
};

/// A working table of order lines (order_id, sku, quantity, unit_price_cents), changed the
/// way the aggregate's evolve() changes them: adding a sku again adds to its quantity and
/// takes the newest price; removing drops the line.
class LinesTable {
 public:
  /// Creates `table` when absent and prepares its statements.
  LinesTable(const sourcing::sqlite::Database& db, const std::string& table)
      : create_(db, table),
        add_(db.handle(), ("INSERT INTO " + table +
                           " (order_id, sku, quantity, unit_price_cents) VALUES (?, ?, ?, ?)"
                           " ON CONFLICT (order_id, sku) DO UPDATE SET"
                           " quantity = quantity + excluded.quantity,"
                           " unit_price_cents = excluded.unit_price_cents")
                              .c_str()),
        remove_(db.handle(), ("DELETE FROM " + table + " WHERE order_id = ? AND sku = ?").c_str()),
        forget_(db.handle(), ("DELETE FROM " + table + " WHERE order_id = ?").c_str()) {}

  /// The line of `sku` gets `quantity` more at `unit_price_cents`.
  void add(std::uint64_t order_id, const sourcing::ItemAdded& item) {
    add_.bind(order_id, item.sku, static_cast<std::uint64_t>(item.quantity), item.unit_price_cents)
        .run();
  }
  /// The line of `sku` is gone.
  void remove(std::uint64_t order_id, const std::string& sku) { remove_.bind(order_id, sku).run(); }
  /// All lines of the order are gone (it can no longer change).
  void forget(std::uint64_t order_id) { forget_.bind(order_id).run(); }

 private:
  struct Create {
    Create(const sourcing::sqlite::Database& db, const std::string& table) {
      db.exec(("CREATE TABLE IF NOT EXISTS " + table +
               " (order_id INTEGER NOT NULL, sku TEXT NOT NULL, quantity INTEGER NOT NULL,"
               " unit_price_cents INTEGER NOT NULL, PRIMARY KEY (order_id, sku)) WITHOUT ROWID")
                  .c_str());
    }
  } create_;
  sourcing::sqlite::Statement add_, remove_, forget_;
};

}  // namespace eda::cqrs::detail
