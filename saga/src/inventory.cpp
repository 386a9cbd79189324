// Inventory with a transactional outbox: the decision and its event in one transaction.
#include "eda/saga/inventory.hpp"

#include <utility>

#include "eda/saga/checkout_messages.hpp"
#include "eda/saga/participant_database.hpp"

namespace eda::saga {

Inventory::Inventory(const std::string& path, InventoryOptions options)
    : options_(std::move(options)),
      db_(path, options_.durability, "inventory database"),
      ledger_(db_),
      outbox_(db_),
      commands_(db_, outbox_) {}

Reservation Inventory::reserve(std::uint64_t order_id, std::string_view sku,
                               std::uint64_t quantity) {
  sqlite::Transaction tx(db_);
  Reservation decision = ledger_.decide(tx, order_id, sku, quantity);
  if (!decision.fresh) {
    return decision;  // decided before: its event is in the outbox already
  }
  (void)announce(tx, decision, Cause{});
  tx.commit();
  if (options_.committed) {
    options_.committed(decision);
  }
  return decision;
}

std::uint64_t Inventory::announce(sqlite::Transaction& open, const Reservation& decision,
                                  const Cause& cause) {
  if (decision.reserved) {
    return outbox_.add(open, make_metadata<StockReserved>(options_.source, cause),
                       StockReserved{.order_id = decision.order_id,
                                     .sku = decision.sku,
                                     .quantity = decision.quantity,
                                     .remaining = decision.available});
  }
  return outbox_.add(open, make_metadata<StockRejected>(options_.source, cause),
                     StockRejected{.order_id = decision.order_id,
                                   .sku = decision.sku,
                                   .quantity = decision.quantity,
                                   .available = decision.available});
}

CommandOutcome Inventory::handle(const DecodedEvent& command) {
  return handle_command<ReserveStock, ReleaseStock>(
      commands_, command, options_.source,
      [this](sqlite::Transaction& tx, const ReserveStock& asked, const Cause& cause) {
        // Announced even when decided before: a reservation fenced off by an earlier release
        // must still be answered (with its rejection).
        return announce(tx, ledger_.decide(tx, asked.order_id, asked.sku, asked.quantity), cause);
      },
      [this](sqlite::Transaction& tx, const ReleaseStock& asked, const Cause& cause) {
        const Release release = ledger_.release(tx, asked.order_id);
        return outbox_.add(
            tx, make_metadata<StockReleased>(options_.source, cause),
            StockReleased{.order_id = release.order_id, .quantity = release.quantity});
      },
      options_.replied);
}

void Inventory::stock_up(std::string_view sku, std::uint64_t quantity) {
  sqlite::Transaction tx(db_);
  ledger_.stock_up(tx, sku, quantity);
  tx.commit();
}

}  // namespace eda::saga
