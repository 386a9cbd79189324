// Inventory with a transactional outbox: the decision and its event in one transaction.
#include "eda/saga/inventory.hpp"

#include <utility>

namespace eda::saga {

Inventory::Inventory(const std::string& path, InventoryOptions options)
    : options_(std::move(options)),
      db_(path, options_.durability, "inventory database"),
      ledger_(db_),
      outbox_(db_) {}

Reservation Inventory::reserve(std::uint64_t order_id, std::string_view sku,
                               std::uint64_t quantity) {
  sqlite::Transaction tx(db_);
  Reservation decision = ledger_.decide(tx, order_id, sku, quantity);
  if (!decision.fresh) {
    return decision;  // decided before: its event is in the outbox already
  }
  if (decision.reserved) {
    outbox_.add(tx, make_metadata<StockReserved>(options_.source),
                StockReserved{.order_id = order_id,
                              .sku = decision.sku,
                              .quantity = quantity,
                              .remaining = decision.available});
  } else {
    outbox_.add(tx, make_metadata<StockRejected>(options_.source),
                StockRejected{.order_id = order_id,
                              .sku = decision.sku,
                              .quantity = quantity,
                              .available = decision.available});
  }
  tx.commit();
  if (options_.committed) {
    options_.committed(decision);
  }
  return decision;
}

void Inventory::stock_up(std::string_view sku, std::uint64_t quantity) {
  sqlite::Transaction tx(db_);
  ledger_.stock_up(tx, sku, quantity);
  tx.commit();
}

}  // namespace eda::saga
