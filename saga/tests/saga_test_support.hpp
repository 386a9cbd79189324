// The saga tests' common parts: a consumer of Inventory's events that records what it applied
// (through the IdempotentConsumer), and helpers to prepare a participant's database.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "eda/clock.hpp"
#include "eda/pubsub.hpp"
#include "eda/saga/idempotent_consumer.hpp"
#include "eda/saga/stock_events.hpp"
#include "eda/saga/stock_ledger.hpp"
#include "eda/sqlite/database.hpp"

namespace eda::saga::test {

/// One event the consumer applied, in the order it applied them.
struct Applied {
  std::uint64_t order_id = 0;
  std::string event_type{};
  std::uint64_t sequence = 0;
  friend bool operator==(const Applied&, const Applied&) = default;
};

/// A downstream service (say, Shipping) that keeps each Inventory event it applied in its own
/// database, once, through an IdempotentConsumer.
class ReservationLog {
 public:
  // NORMAL durability: the tests crash processes, not machines, and a consumer that fsyncs every
  // event would lag far behind a writer killed twenty times.
  explicit ReservationLog(const std::string& path)
      : consumer_(path, "shipping", sqlite::Durability::normal) {
    consumer_.database().exec(
        "CREATE TABLE IF NOT EXISTS seen (arrival INTEGER PRIMARY KEY AUTOINCREMENT,"
        " order_id INTEGER NOT NULL, event_type TEXT NOT NULL, sequence INTEGER NOT NULL)");
  }

  /// Applies one event (once, however often it comes).
  Handled take(const DecodedEvent& event) {
    ++deliveries;
    const std::uint64_t order_id = event.is<StockReserved>()
                                       ? event.payload_as<StockReserved>().order_id
                                       : event.payload_as<StockRejected>().order_id;
    return consumer_.handle(event, [&](sqlite::Database& db) {
      sqlite::Statement insert(
          db.handle(), "INSERT INTO seen (order_id, event_type, sequence) VALUES (?, ?, ?)");
      insert.bind(order_id, event.type(), event.sequence());
      insert.run();
    });
  }

  /// Receives one event (waiting at most `wait`) and applies it; false when none came.
  bool pump(Subscriber& inbox, std::chrono::milliseconds wait) {
    auto delivery = inbox.receive(wait);
    if (!delivery) return false;
    (void)take(delivery->event);
    return true;
  }

  /// Receives until `count` events have been applied in all, at most `timeout`.
  bool pump_until_applied(Subscriber& inbox, std::uint64_t count,
                          std::chrono::milliseconds timeout) {
    const Deadline deadline(timeout);
    while (consumer_.processed_count() < count) {
      if (deadline.expired()) return false;
      (void)pump(inbox, std::chrono::milliseconds(50));
    }
    return true;
  }

  /// The order id of the last event applied (0 for none).
  [[nodiscard]] std::uint64_t last_applied_order() const {
    sqlite::Statement query(consumer_.database().handle(),
                            "SELECT order_id FROM seen ORDER BY arrival DESC LIMIT 1");
    return static_cast<std::uint64_t>(query.single_integer());
  }

  /// Receives until `order_id` is the last order applied: at most `limit`, and at most
  /// `idle` without anything arriving.
  bool pump_until_last_applied(Subscriber& inbox, std::uint64_t order_id,
                               std::chrono::milliseconds limit, std::chrono::milliseconds idle) {
    const Deadline deadline(limit);
    std::int64_t last_arrival = monotonic_ns();
    while (last_applied_order() != order_id) {
      if (deadline.expired() ||
          monotonic_ns() - last_arrival > std::chrono::nanoseconds(idle).count()) {
        return false;
      }
      // Take what is queued before looking again (a look reads the database).
      for (int taken = 0;
           taken < 1000 && pump(inbox, std::chrono::milliseconds(taken == 0 ? 50 : 0)); ++taken) {
        last_arrival = monotonic_ns();
      }
    }
    return true;
  }

  /// What was applied, in the order it was.
  [[nodiscard]] std::vector<Applied> applied() const {
    sqlite::Statement query(consumer_.database().handle(),
                            "SELECT order_id, event_type, sequence FROM seen ORDER BY arrival");
    std::vector<Applied> all;
    while (query.step()) {
      all.push_back(Applied{static_cast<std::uint64_t>(query.integer(0)),
                            std::string(query.text(1)),
                            static_cast<std::uint64_t>(query.integer(2))});
    }
    query.done();
    return all;
  }

  /// The order ids applied, in the order they were.
  [[nodiscard]] std::vector<std::uint64_t> applied_orders() const {
    std::vector<std::uint64_t> ids;
    for (const Applied& one : applied()) ids.push_back(one.order_id);
    return ids;
  }

  [[nodiscard]] IdempotentConsumer& consumer() noexcept { return consumer_; }

  std::uint64_t deliveries = 0;  ///< Every event received, duplicates included.

 private:
  mutable IdempotentConsumer consumer_;
};

/// Stocks `sku` in a participant's database (before any process of the test opens it).
inline void stock_up(const std::string& path, std::string_view sku, std::uint64_t quantity) {
  sqlite::Database db(path, sqlite::Durability::full, "test inventory");
  StockLedger ledger(db);
  sqlite::Transaction tx(db);
  ledger.stock_up(tx, sku, quantity);
  tx.commit();
}

/// The decisions committed in a participant's database, by order id.
inline std::vector<Reservation> committed(const std::string& path) {
  sqlite::Database db(path, sqlite::Durability::full, "test inventory");
  return StockLedger(db).reservations();
}

/// An ipc:// endpoint in the temp directory, fresh for each test; its socket file is removed
/// afterwards. Every incarnation of a participant binds the same one, so a subscriber connected
/// to it reconnects by itself after a crash.
class IpcEndpoint {
 public:
  IpcEndpoint()
      : path_(std::filesystem::temp_directory_path() / ("eda-saga-" + new_event_id() + ".ipc")) {}
  ~IpcEndpoint() {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
  IpcEndpoint(const IpcEndpoint&) = delete;
  IpcEndpoint& operator=(const IpcEndpoint&) = delete;
  [[nodiscard]] std::string address() const { return "ipc://" + path_.string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace eda::saga::test
