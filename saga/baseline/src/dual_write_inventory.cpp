// The dual write: commit, then publish — with a window between the two.
#include "eda/saga/baseline/dual_write_inventory.hpp"

#include <utility>

namespace eda::saga::baseline {

DualWriteInventory::DualWriteInventory(const std::string& path, Publisher& publisher,
                                       DualWriteOptions options)
    : options_(std::move(options)),
      publisher_(publisher),
      db_(path, options_.durability, "inventory database"),
      ledger_(db_) {}

Reservation DualWriteInventory::reserve(std::uint64_t order_id, std::string_view sku,
                                        std::uint64_t quantity) {
  sqlite::Transaction tx(db_);
  Reservation decision = ledger_.decide(tx, order_id, sku, quantity);
  tx.commit();
  if (!decision.fresh) {
    return decision;
  }
  // The window: the decision is durable, its event exists only in this process's memory.
  if (options_.committed) {
    options_.committed(decision);
  }
  if (decision.reserved) {
    (void)publisher_.publish(StockReserved{.order_id = order_id,
                                           .sku = decision.sku,
                                           .quantity = quantity,
                                           .remaining = decision.available});
  } else {
    (void)publisher_.publish(StockRejected{.order_id = order_id,
                                           .sku = decision.sku,
                                           .quantity = quantity,
                                           .available = decision.available});
  }
  return decision;
}

void DualWriteInventory::stock_up(std::string_view sku, std::uint64_t quantity) {
  sqlite::Transaction tx(db_);
  ledger_.stock_up(tx, sku, quantity);
  tx.commit();
}

}  // namespace eda::saga::baseline
