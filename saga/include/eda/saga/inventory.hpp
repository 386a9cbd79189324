/// @file inventory.hpp
/// @brief The shop's Inventory service written with a transactional outbox: each decision on
///        an order and the event announcing it commit in one local transaction.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "eda/codec.hpp"
#include "eda/saga/command_log.hpp"
#include "eda/saga/outbox.hpp"
#include "eda/saga/stock_ledger.hpp"
#include "eda/saga/stock_events.hpp"
#include "eda/sqlite/database.hpp"

namespace eda::saga {

/// @brief How an Inventory is set up.
struct InventoryOptions {
  std::string source = "inventory";                          ///< Source name its events carry.
  sqlite::Durability durability = sqlite::Durability::full;  ///< How commits are kept.
  /// Called after each fresh decision has committed, before reserve() returns: ring the
  /// relay's doorbell here (OutboxDoorbell::ring). Tests also stop the process here, between
  /// the commit and the publication, to show that the outbox loses nothing.
  std::function<void(const Reservation&)> committed{};
  /// Called after each command handled has committed its reply (ring the relay's doorbell).
  std::function<void()> replied{};
};

/// @brief Inventory, the participant that reserves stock for orders, with its events in an
///        outbox in its own SQLite database.
///
/// reserve() changes the stock, records the decision and adds a StockReserved or StockRejected
/// event to the outbox, all in one transaction: after a crash at any point either all three
/// are there or none is. An OutboxRelay publishes the event afterwards.
///
/// @par Thread safety
/// One thread at a time (it owns one SQLite connection).
class Inventory {
 public:
  /// @brief Opens (creating if needed) the database at `path` with the stock, reservation and
  ///        outbox tables. Throws eda::StorageError when the file cannot be used.
  explicit Inventory(const std::string& path, InventoryOptions options = {});

  /// @brief Decides on `order_id` (see StockLedger::decide) and adds the event announcing the
  ///        decision, in one transaction; an order decided before returns its first decision
  ///        and adds nothing.
  Reservation reserve(std::uint64_t order_id, std::string_view sku, std::uint64_t quantity);

  /// @brief Handles a command of the checkout saga (ReserveStock, or its compensation
  ///        ReleaseStock) once per command id, replying through the outbox with StockReserved,
  ///        StockRejected or StockReleased (caused by the command). Throws UnknownCommand for
  ///        another command and eda::MalformedMessage for a payload that does not decode;
  ///        either way nothing changes.
  CommandOutcome handle(const DecodedEvent& command);

  /// @brief Goods in: adds `quantity` units of `sku` (no event: not part of this story).
  void stock_up(std::string_view sku, std::uint64_t quantity);

  /// @brief The stock and decisions.
  [[nodiscard]] const StockLedger& ledger() const noexcept { return ledger_; }

  /// @brief The outbox.
  [[nodiscard]] const Outbox& outbox() const noexcept { return outbox_; }

  /// @brief The commands handled.
  [[nodiscard]] const CommandLog& commands() const noexcept { return commands_; }

  /// @brief The database file.
  [[nodiscard]] const std::string& path() const noexcept { return db_.path(); }

 private:
  // Adds the event announcing `decision` (fresh or not); returns its outbox position.
  std::uint64_t announce(sqlite::Transaction& open, const Reservation& decision,
                         const Cause& cause);

  InventoryOptions options_;
  sqlite::Database db_;
  StockLedger ledger_;
  Outbox outbox_;
  CommandLog commands_;
};

}  // namespace eda::saga
