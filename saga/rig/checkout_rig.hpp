// A whole checkout in one process for tests: the orchestrator with its SQLite event store, the
// three participants with their own databases, and an in-memory bus between them that tests
// can make misbehave (hold a participant's commands, duplicate or reorder replies, lose what is
// in flight when the orchestrator "crashes"). Each participant's outbox is relayed in position
// order, as the OutboxRelay does; the network version is in test_checkout_network.cpp.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "eda/saga/checkout_audit.hpp"
#include "eda/saga/checkout_messages.hpp"
#include "eda/saga/checkout_orchestrator.hpp"
#include "eda/saga/inventory.hpp"
#include "eda/saga/payment.hpp"
#include "eda/saga/shipping.hpp"
#include "eda/sourcing/sqlite_store.hpp"

namespace eda::saga::test {

/// Where a rig keeps its four databases.
struct RigPaths {
  std::string store;
  std::string inventory;
  std::string payment;
  std::string shipping;

  /// Four files in `directory`.
  static RigPaths in(const std::string& directory) {
    return {directory + "/orders.db", directory + "/inventory.db", directory + "/payment.db",
            directory + "/shipping.db"};
  }
};

/// A fresh directory in the temp directory, removed with what it holds afterwards.
class TempDirectory {
 public:
  TempDirectory()
      : path_(std::filesystem::temp_directory_path() / ("eda-checkout-" + new_event_id())) {
    std::filesystem::create_directories(path_);
  }
  ~TempDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDirectory(const TempDirectory&) = delete;
  TempDirectory& operator=(const TempDirectory&) = delete;
  [[nodiscard]] std::string path() const { return path_.string(); }
  /// The rig's four databases in it.
  [[nodiscard]] RigPaths rig() const { return RigPaths::in(path()); }

 private:
  std::filesystem::path path_;
};

/// How a rig is set up.
struct RigOptions {
  OrchestratorOptions orchestrator{};
  PaymentOptions payment{};
  ShippingOptions shipping{};
  /// Tests crash processes, not machines: no fsync per commit.
  sqlite::Durability durability = sqlite::Durability::normal;
};

/// The whole checkout, in one process, over an in-memory bus.
class CheckoutRig {
  // First: the participants and the orchestrator below are built from them.
  RigPaths paths_;
  RigOptions options_;
  std::unique_ptr<sourcing::SqliteEventStore> store_;

 public:
  CheckoutRig(RigPaths paths, RigOptions options = {})
      : paths_(std::move(paths)),
        options_(std::move(options)),
        store_(std::make_unique<sourcing::SqliteEventStore>(
            sourcing::SqliteStoreOptions{.path = paths_.store, .durability = options_.durability})),
        inventory(paths_.inventory, {.durability = options_.durability}),
        payment(paths_.payment, with_durability(options_.payment)),
        shipping(paths_.shipping, with_durability(options_.shipping)) {
    if (!options_.orchestrator.clock) {
      options_.orchestrator.clock = [this] { return clock_ns; };
    }
    // Whatever the outboxes hold from an earlier life was published then.
    relayed_ = {inventory.outbox().last_position(), payment.outbox().last_position(),
                shipping.outbox().last_position()};
    open_orchestrator();
  }

  /// Stocks `sku` with `quantity` units.
  void stock_up(std::string_view sku, std::uint64_t quantity) { inventory.stock_up(sku, quantity); }

  /// The orchestrator is destroyed, with everything in flight (commands not yet delivered,
  /// replies not yet received), and a new one is built from the event store and resumed.
  void crash_orchestrator() {
    orchestrator.reset();
    commands.clear();
    replies.clear();
    open_orchestrator();
    (void)orchestrator->resume();
  }

  /// Delivers the commands in flight to their participants (held ones stay held); returns how
  /// many it delivered.
  std::size_t deliver_commands() {
    std::size_t delivered = 0;
    while (!commands.empty()) {
      const DecodedEvent command = commands.front();
      commands.pop_front();
      if (hold_command && hold_command(command)) {
        held.push_back(command);
        continue;
      }
      participant_for(command)(command);
      ++delivered;
    }
    return delivered;
  }

  /// Relays what the outboxes hold beyond what was relayed (in position order), through
  /// `on_reply` when set (it decides what the bus does with each reply: pass, drop, copy).
  std::size_t relay() {
    std::size_t relayed = 0;
    const std::array<const Outbox*, 3> outboxes{&inventory.outbox(), &payment.outbox(),
                                                &shipping.outbox()};
    for (std::size_t i = 0; i < outboxes.size(); ++i) {
      for (const OutboxRow& row : outboxes[i]->read(relayed_[i] + 1, 10'000)) {
        relayed_[i] = row.position;
        const DecodedEvent reply = DecodedEvent::decode(row.envelope);
        if (on_reply) {
          on_reply(reply, replies);
        } else {
          replies.push_back(reply);
        }
        ++relayed;
      }
    }
    return relayed;
  }

  /// Hands the replies in flight to the orchestrator.
  std::size_t deliver_replies() {
    std::size_t delivered = 0;
    while (!replies.empty()) {
      const DecodedEvent reply = replies.front();
      replies.pop_front();
      (void)orchestrator->handle(reply);
      ++delivered;
    }
    return delivered;
  }

  /// Moves messages until nothing moves (at most `rounds` rounds).
  void settle(int rounds = 100) {
    for (int round = 0; round < rounds; ++round) {
      const std::size_t moved = deliver_commands() + relay() + deliver_replies();
      if (moved == 0) return;
    }
  }

  /// Lets `elapsed` pass on the orchestrator's clock, and lets it act on time.
  std::size_t advance_clock(std::chrono::milliseconds elapsed) {
    clock_ns += std::chrono::nanoseconds(elapsed).count();
    return orchestrator->tick();
  }

  /// Runs every saga to its end: settle, then move the clock to the next deadline or retry, and
  /// again (at most `rounds` times). True when no saga is left running.
  bool run_to_end(int rounds = 1000) {
    for (int round = 0; round < rounds && orchestrator->running_count() > 0; ++round) {
      settle();
      if (orchestrator->running_count() == 0) break;
      if (const std::optional<std::int64_t> due = orchestrator->next_due_ns()) {
        clock_ns = std::max(clock_ns, *due);
        (void)orchestrator->tick();
      }
    }
    settle();
    return orchestrator->running_count() == 0;
  }

  /// Delivers the commands held back (the participant is back), and holds no more.
  void release_held() {
    release_held_keep_holding();
    hold_command = nullptr;
  }

  /// Delivers the commands held back so far; hold_command goes on holding new ones.
  void release_held_keep_holding() {
    for (const DecodedEvent& command : held) commands.push_back(command);
    held.clear();
  }

  /// The event store.
  [[nodiscard]] sourcing::EventStore& store() { return *store_; }

  std::int64_t clock_ns = 1'000'000'000'000;  ///< The orchestrator's wall clock, by hand.
  Inventory inventory;
  Payment payment;
  Shipping shipping;
  std::optional<CheckoutOrchestrator> orchestrator;
  std::deque<DecodedEvent> commands;  ///< Sent, not yet delivered.
  std::deque<DecodedEvent> replies;   ///< Relayed, not yet received.
  std::vector<DecodedEvent> held;     ///< Commands held back by hold_command.
  /// Commands it returns true for are held back (their participant is down or slow).
  std::function<bool(const DecodedEvent&)> hold_command;
  /// What the bus does with each relayed reply (default: queue it once).
  std::function<void(const DecodedEvent&, std::deque<DecodedEvent>&)> on_reply;

 private:
  template <class Options>
  Options with_durability(Options options) const {
    options.durability = options_.durability;
    return options;
  }

  void open_orchestrator() {
    orchestrator.emplace(
        *store_, [this](const DecodedEvent& command) { commands.push_back(command); },
        options_.orchestrator);
  }

  std::function<void(const DecodedEvent&)> participant_for(const DecodedEvent& command) {
    if (command.type().starts_with(inventory_commands)) {
      return [this](const DecodedEvent& c) { (void)inventory.handle(c); };
    }
    if (command.type().starts_with(payment_commands)) {
      return [this](const DecodedEvent& c) { (void)payment.handle(c); };
    }
    return [this](const DecodedEvent& c) { (void)shipping.handle(c); };
  }

  std::array<std::uint64_t, 3> relayed_{};
};

/// A checkout of `quantity` units of SKU-1 at 10.00 each, with a good card and an address.
inline CheckoutRequest checkout(std::uint64_t order_id, std::uint64_t quantity = 1) {
  return CheckoutRequest{.order_id = order_id,
                         .sku = "SKU-1",
                         .quantity = quantity,
                         .amount_cents = 1000 * quantity,
                         .card = "4242-4242-4242-4242",
                         .address = "1 High St"};
}

}  // namespace eda::saga::test

namespace eda::saga::test {

/// The same for a rig.
inline std::vector<std::string> invariant_violations(CheckoutRig& rig, std::uint64_t first,
                                                     std::uint64_t last) {
  return checkout_violations(*rig.orchestrator, rig.inventory, rig.payment, rig.shipping, first,
                             last);
}

/// The mix the crash tests and the fault matrix use: every 7th card is declined, every 11th
/// order has no address (the pivot fails), every 13th asks for more than is in stock.
inline CheckoutRequest mixed_checkout(std::uint64_t order_id) {
  CheckoutRequest request = checkout(order_id, order_id % 3 + 1);
  if (order_id % 7 == 0) request.card = std::string(declined_card);
  if (order_id % 11 == 0) request.address = "";
  if (order_id % 13 == 0) request.quantity = 1'000'000;
  return request;
}

}  // namespace eda::saga::test
