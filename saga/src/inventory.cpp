// Inventory with a transactional outbox: the decision and its event in one transaction.
#include "eda/saga/inventory.hpp"

#include <utility>

#include "eda/saga/checkout_messages.hpp"

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
  const CommandOutcome outcome =
      commands_.handle(command, [&](sqlite::Transaction& tx, const Cause& cause) {
        if (command.is<ReserveStock>()) {
          const auto reserve = command.payload_as<ReserveStock>();
          // Announced even when decided before: a reservation fenced off by an earlier
          // release must still be answered (with its rejection).
          return announce(tx, ledger_.decide(tx, reserve.order_id, reserve.sku, reserve.quantity),
                          cause);
        }
        if (command.is<ReleaseStock>()) {
          const Release release = ledger_.release(tx, command.payload_as<ReleaseStock>().order_id);
          return outbox_.add(tx, make_metadata<StockReleased>(options_.source, cause),
                             StockReleased{.order_id = release.order_id,
                                           .quantity = release.quantity});
        }
        throw UnknownCommand(options_.source, command.type());
      });
  if (options_.replied) {
    options_.replied();
  }
  return outcome;
}

void Inventory::stock_up(std::string_view sku, std::uint64_t quantity) {
  sqlite::Transaction tx(db_);
  ledger_.stock_up(tx, sku, quantity);
  tx.commit();
}

}  // namespace eda::saga
