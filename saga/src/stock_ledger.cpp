// The Inventory service's stock and its decisions, kept in the participant's own database.
#include "eda/saga/stock_ledger.hpp"

#include <stdexcept>

namespace eda::saga {
namespace {

Reservation read_reservation(const sqlite::Statement& row) {
  Reservation reservation;
  reservation.order_id = static_cast<std::uint64_t>(row.integer(0));
  reservation.sku = std::string(row.text(1));
  reservation.quantity = static_cast<std::uint64_t>(row.integer(2));
  reservation.reserved = row.integer(3) != 0;
  reservation.available = static_cast<std::uint64_t>(row.integer(4));
  reservation.fresh = false;
  return reservation;
}

void require_transaction(const sqlite::Database& db, const char* what) {
  if (sqlite3_get_autocommit(db.handle()) != 0) {
    throw std::logic_error(std::string(what) +
                           " outside a transaction: begin an eda::sqlite::Transaction first");
  }
}

}  // namespace

StockLedger::StockLedger(sqlite::Database& db) : db_(db) {
  db_.exec(
      "CREATE TABLE IF NOT EXISTS stock ("
      " sku TEXT PRIMARY KEY, available INTEGER NOT NULL CHECK (available >= 0));"
      "CREATE TABLE IF NOT EXISTS reservations ("
      " order_id INTEGER PRIMARY KEY, sku TEXT NOT NULL, quantity INTEGER NOT NULL,"
      " reserved INTEGER NOT NULL, available INTEGER NOT NULL);"
      "CREATE TABLE IF NOT EXISTS releases ("
      " order_id INTEGER PRIMARY KEY, quantity INTEGER NOT NULL);");
}

void StockLedger::stock_up(sqlite::Transaction& /*open*/, std::string_view sku,
                           std::uint64_t quantity) {
  require_transaction(db_, "StockLedger::stock_up");
  sqlite::Statement upsert(
      db_.handle(),
      "INSERT INTO stock (sku, available) VALUES (?, ?) "
      "ON CONFLICT (sku) DO UPDATE SET available = available + excluded.available");
  upsert.bind(sku, quantity);
  upsert.run();
}

Reservation StockLedger::decide(sqlite::Transaction& /*open*/, std::uint64_t order_id,
                                std::string_view sku, std::uint64_t quantity) {
  require_transaction(db_, "StockLedger::decide");
  if (quantity == 0) {
    throw std::invalid_argument("an order must ask for at least one unit of " + std::string(sku));
  }
  if (std::optional<Reservation> earlier = find(order_id)) {
    return *earlier;
  }
  Reservation decision{.order_id = order_id, .sku = std::string(sku), .quantity = quantity};
  const std::uint64_t before = available(sku);
  decision.reserved = before >= quantity;
  decision.available = decision.reserved ? before - quantity : before;
  if (decision.reserved) {
    sqlite::Statement take(db_.handle(), "UPDATE stock SET available = ? WHERE sku = ?");
    take.bind(decision.available, sku);
    take.run();
  }
  sqlite::Statement record(db_.handle(),
                           "INSERT INTO reservations (order_id, sku, quantity, reserved, "
                           "available) VALUES (?, ?, ?, ?, ?)");
  record.bind(order_id, sku, quantity, std::uint64_t{decision.reserved ? 1U : 0U},
              decision.available);
  record.run();
  return decision;
}

Release StockLedger::release(sqlite::Transaction& open, std::uint64_t order_id) {
  require_transaction(db_, "StockLedger::release");
  sqlite::Statement earlier(db_.handle(), "SELECT quantity FROM releases WHERE order_id = ?");
  earlier.bind(order_id);
  if (earlier.step()) {
    const auto quantity = static_cast<std::uint64_t>(earlier.integer(0));
    earlier.done();
    return Release{.order_id = order_id, .quantity = quantity, .fresh = false};
  }
  earlier.done();
  std::optional<Reservation> decision = find(order_id);
  if (!decision) {
    // Released before it was reserved: the reservation command is late or lost. Deciding
    // "rejected" now makes that late command reserve nothing.
    sqlite::Statement fence(db_.handle(),
                            "INSERT INTO reservations (order_id, sku, quantity, reserved, "
                            "available) VALUES (?, '', 0, 0, 0)");
    fence.bind(order_id);
    fence.run();
  }
  const std::uint64_t quantity = decision && decision->reserved ? decision->quantity : 0;
  if (quantity > 0) {
    stock_up(open, decision->sku, quantity);
  }
  sqlite::Statement record(db_.handle(), "INSERT INTO releases (order_id, quantity) VALUES (?, ?)");
  record.bind(order_id, quantity);
  record.run();
  return Release{.order_id = order_id, .quantity = quantity, .fresh = true};
}

std::uint64_t StockLedger::held() const {
  sqlite::Statement query(db_.handle(),
                          "SELECT SUM(quantity) FROM reservations WHERE reserved = 1 AND "
                          "order_id NOT IN (SELECT order_id FROM releases)");
  return static_cast<std::uint64_t>(query.single_integer());
}

bool StockLedger::holds(std::uint64_t order_id) const {
  sqlite::Statement query(db_.handle(),
                          "SELECT COUNT(*) FROM reservations WHERE order_id = ? AND reserved = 1 "
                          "AND order_id NOT IN (SELECT order_id FROM releases)");
  query.bind(order_id);
  return query.single_integer() != 0;
}

std::uint64_t StockLedger::available(std::string_view sku) const {
  sqlite::Statement query(db_.handle(), "SELECT available FROM stock WHERE sku = ?");
  query.bind(sku);
  return static_cast<std::uint64_t>(query.single_integer());
}

std::optional<Reservation> StockLedger::find(std::uint64_t order_id) const {
  sqlite::Statement query(db_.handle(),
                          "SELECT order_id, sku, quantity, reserved, available FROM reservations "
                          "WHERE order_id = ?");
  query.bind(order_id);
  std::optional<Reservation> found;
  if (query.step()) {
    found = read_reservation(query);
  }
  query.done();
  return found;
}

std::vector<Reservation> StockLedger::reservations() const {
  sqlite::Statement query(db_.handle(),
                          "SELECT order_id, sku, quantity, reserved, available FROM reservations "
                          "ORDER BY order_id");
  std::vector<Reservation> all;
  while (query.step()) {
    all.push_back(read_reservation(query));
  }
  query.done();
  return all;
}

std::uint64_t StockLedger::last_order_id() const {
  sqlite::Statement query(db_.handle(), "SELECT MAX(order_id) FROM reservations");
  return static_cast<std::uint64_t>(query.single_integer());
}

}  // namespace eda::saga
