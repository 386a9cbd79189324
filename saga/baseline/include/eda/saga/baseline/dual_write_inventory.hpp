/// @file dual_write_inventory.hpp
/// @brief The dual write, the bug the outbox fixes: the same Inventory, committing its decision
///        and then publishing the event directly.
///
/// Two writes to two systems (the database, the messaging) with nothing tying them together:
/// a crash after the commit and before the publication keeps the reservation and loses its
/// event forever, since nothing records that an event was still owed. The tests kill the process
/// exactly there.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "eda/pubsub.hpp"
#include "eda/saga/stock_events.hpp"
#include "eda/saga/stock_ledger.hpp"
#include "eda/sqlite/database.hpp"

/// @brief The synchronous, dual-write versions the saga module is measured against.
namespace eda::saga::baseline {

/// @brief How a DualWriteInventory is set up.
struct DualWriteOptions {
  sqlite::Durability durability = sqlite::Durability::full;  ///< How commits are kept.
  /// Called after each fresh decision has committed and before its event is published (tests
  /// stop the process here: the window the dual write leaves open).
  std::function<void(const Reservation&)> committed{};
};

/// @brief Inventory written as a dual write: commit the decision, then publish its event.
///
/// @par Thread safety
/// One thread at a time, which is also the only user of its Publisher.
class DualWriteInventory {
 public:
  /// @brief Opens (creating if needed) the database at `path`; publishes on `publisher` (which
  ///        must outlive this, and names the source). Throws eda::StorageError when the file
  ///        cannot be used.
  DualWriteInventory(const std::string& path, Publisher& publisher, DualWriteOptions options = {});

  /// @brief Decides on `order_id` and commits (StockLedger::decide), then publishes
  ///        StockReserved or StockRejected; an order decided before publishes nothing.
  Reservation reserve(std::uint64_t order_id, std::string_view sku, std::uint64_t quantity);

  /// @brief Goods in: adds `quantity` units of `sku`.
  void stock_up(std::string_view sku, std::uint64_t quantity);

  /// @brief The stock and decisions.
  [[nodiscard]] const StockLedger& ledger() const noexcept { return ledger_; }

 private:
  DualWriteOptions options_;
  Publisher& publisher_;
  sqlite::Database db_;
  StockLedger ledger_;
};

}  // namespace eda::saga::baseline
