/// @file shop_history.hpp
/// @brief One simulated shop history written into both designs, CQRS (an event store and the
///        read models projected from it) and the single model, checked to give the same
///        answers: what bench-cqrs and the tour's CQRS stop ask their questions of.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "eda/cqrs/queries.hpp"
#include "eda/cqrs/read_models.hpp"
#include "eda/cqrs/single_model.hpp"
#include "eda/sourcing/event_store.hpp"
#include "eda/sourcing/sqlite_store.hpp"

namespace eda::workloads {

/// @brief Where a ShopHistory keeps its three databases (files that must not exist yet, or be
///        empty; they are left behind for the caller to remove).
struct ShopHistoryFiles {
  std::string store;         ///< The event store (CQRS's write side).
  std::string read_models;   ///< The read models projected from it.
  std::string single_model;  ///< The single model (the baseline).
};

/// @brief How long the parts of writing a ShopHistory took, in nanoseconds.
struct ShopHistoryTimes {
  std::int64_t total_ns = 0;         ///< Everything (the two designs are written in parallel).
  std::int64_t event_store_ns = 0;   ///< The events into the store ...
  std::int64_t read_models_ns = 0;   ///< ... then the read models built from it.
  std::int64_t single_model_ns = 0;  ///< The commands into the single model, meanwhile.
};

/// @brief Called now and then while the single model is written (the slow part: a
///        transaction per command), with the events written so far.
using HistoryProgress = std::function<void(std::uint64_t events_written)>;

/// @brief Builds the read models from nothing: resets every projection of `read_models` and
///        applies the whole of `store` to them, a page of 10 000 events per transaction (the
///        next page read while one is applied). The **rebuild rate** bench-cqrs reports
///        (`BM_Cqrs_Rebuild`, events/s) and the tour prints is the events this returns over the
///        time this call takes, on a fresh read-model file.
/// @return The number of events read.
std::uint64_t rebuild_read_models(cqrs::ReadModels& read_models, const sourcing::EventStore& store);

/// @brief One simulated history (ShopSimulator) of a given number of events, in both designs.
///
/// The two designs are written at the same time, one per core, each from its own copy of the
/// deterministic simulator: the same orders, commands and timestamps. The event store gets
/// the events decide() made, a thousand orders per transaction (one append_all); the single
/// model executes each command in a transaction of its own (it has no other way); the read
/// models are then built from the store with rebuild_read_models(). Both stores run with
/// `synchronous=NORMAL`: making up a history is not what is measured.
///
/// Afterwards both designs are asked a few questions; mismatch() says the first on which they
/// differed (comparing their speed would then mean nothing).
class ShopHistory {
 public:
  /// @brief Writes a history of `events` events into `files`. Throws when a store fails.
  ShopHistory(const ShopHistoryFiles& files, std::uint64_t events,
              const HistoryProgress& progress = {});

  /// @brief The events in the history.
  [[nodiscard]] std::uint64_t events() const { return events_; }
  /// @brief The orders in it.
  [[nodiscard]] std::uint64_t orders() const { return orders_; }
  /// @brief The commands that made it.
  [[nodiscard]] std::uint64_t commands() const { return commands_; }
  /// @brief The customers who have placed orders.
  [[nodiscard]] const std::vector<std::string>& customers() const { return customers_; }
  /// @brief The event store.
  [[nodiscard]] const sourcing::SqliteEventStore& store() const { return store_; }
  /// @brief CQRS's answers: the read models.
  [[nodiscard]] const cqrs::ShopQueries& cqrs() const { return *read_; }
  /// @brief The baseline's answers: the single model.
  [[nodiscard]] const cqrs::ShopQueries& single_model() const { return single_; }
  /// @brief The single model itself (e.g. to ask for the whole shipping queue).
  [[nodiscard]] const cqrs::baseline::SingleModelShop& single_model_shop() const { return single_; }
  /// @brief What the two designs disagreed about (empty: nothing).
  [[nodiscard]] const std::string& mismatch() const { return mismatch_; }
  /// @brief How long writing it took.
  [[nodiscard]] const ShopHistoryTimes& times() const { return times_; }

 private:
  std::int64_t write_event_store();
  std::int64_t write_single_model(const HistoryProgress& progress);
  [[nodiscard]] std::string compare_answers() const;

  std::uint64_t events_;
  std::uint64_t orders_ = 0;
  std::uint64_t commands_ = 0;
  sourcing::SqliteEventStore store_;
  cqrs::baseline::SingleModelShop single_;
  std::optional<cqrs::ReadModels> read_;
  std::vector<std::string> customers_;
  std::string mismatch_;
  ShopHistoryTimes times_;
};

}  // namespace eda::workloads
