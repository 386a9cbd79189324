/// @file order_repository.hpp
/// @brief Loading and saving Order aggregates through an EventStore: load = read the stream
///        and fold it; save = append the new events expecting the version that was loaded.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "eda/sourcing/event_store.hpp"
#include "eda/sourcing/order.hpp"
#include "eda/sourcing/upcasting.hpp"

namespace eda::sourcing {

/// @brief The stream of order `order_id`: `order-<id>`.
std::string order_stream(std::uint64_t order_id);

/// @brief An order event as stored data, from `source`, linked to `cause`, stamped now (or at
///        `timestamp_ns`, ns since the Unix epoch, when given).
EventData to_event_data(const OrderEvent& event, std::string_view source, const Cause& cause = {},
                        std::optional<std::int64_t> timestamp_ns = std::nullopt);

/// @brief The upcasters of the order events: ItemAdded version 1 (euros) to 2 (cents).
const Upcasters& order_upcasters();

/// @brief The order event in a stored record, in its current shape (old versions upcast by
///        order_upcasters()); throws CorruptEvent naming the stream and version when its type
///        is not an order event or its payload does not fit.
OrderEvent order_event_from(const RecordedEvent& recorded);

/// @brief An order as loaded: its state and the version it reflects (0: no such order).
struct LoadedOrder {
  OrderState state;                    ///< The fold of its events.
  std::uint64_t version = 0;           ///< Its stream's version when loaded.
  std::uint64_t snapshot_version = 0;  ///< The snapshot it started from (0: from nothing).
  std::uint64_t events_replayed = 0;   ///< Events read and folded on top of it.
};

/// @brief What executing a command did.
struct CommandOutcome {
  std::vector<OrderEvent> events;  ///< The events decided and stored.
  AppendResult appended;           ///< Where they went.
  OrderState state;                ///< The state after them.
  int attempts = 1;                ///< 1, or more when concurrency conflicts forced retries.
};

/// @brief How an OrderRepository works.
struct RepositoryOptions {
  std::string source = "order-service";  ///< Source name stamped on new events.
  int max_attempts = 3;     ///< Load-decide-append rounds before a conflict is given up (>= 1).
  std::size_t page = 1000;  ///< Events read per query while loading.
  /// Save a snapshot of the state each time an order's version passes a multiple of this
  /// (0: never). Loading then reads the latest snapshot and only the events after it.
  std::uint64_t snapshot_every = 0;
  /// Where new events' timestamps come from (ns since the Unix epoch). Empty: the wall clock.
  /// Simulations and tests that compare with another model pass their own.
  std::function<std::int64_t()> clock{};
};

/// @brief Loads and saves orders through an EventStore.
///
/// @par Example
/// @code
/// OrderRepository orders(store);
/// orders.execute(42, PlaceOrder{"alice"});
/// orders.execute(42, AddItem{"widget", 2, 1250});
/// const LoadedOrder order = orders.load(42);  // status open, total 2500, version 2
/// @endcode
///
/// @par Thread safety
/// As thread-safe as its store; several repositories (threads, processes) may write the
/// same order: optimistic concurrency keeps them honest.
class OrderRepository {
 public:
  /// @brief A repository over `store` (which must outlive it).
  explicit OrderRepository(EventStore& store, RepositoryOptions options = {});

  /// @brief The order now: its latest snapshot (if any) and the events after it, folded.
  [[nodiscard]] LoadedOrder load(std::uint64_t order_id) const;

  /// @brief The order as it was at `version` (a temporal query): its first `version` events.
  [[nodiscard]] LoadedOrder load_as_of_version(std::uint64_t order_id, std::uint64_t version) const;

  /// @brief The order as it was at wall-clock time `timestamp_ns` (ns since the Unix epoch):
  ///        the events published up to then.
  [[nodiscard]] LoadedOrder load_as_of_time(std::uint64_t order_id,
                                            std::int64_t timestamp_ns) const;

  /// @brief Loads the order, decides `command`, appends the events expecting the loaded
  ///        version; on a conflict (someone else changed the order meanwhile) does it all
  ///        again, up to `max_attempts` times. Throws CommandRejected (nothing stored) or
  ///        ConcurrencyConflict after the last attempt.
  CommandOutcome execute(std::uint64_t order_id, const OrderCommand& command,
                         const Cause& cause = {});

  /// @brief The full history of the order, oldest first.
  [[nodiscard]] std::vector<RecordedEvent> history(std::uint64_t order_id) const;

 private:
  LoadedOrder fold(std::uint64_t order_id, std::uint64_t up_to_version) const;
  template <class Keep>
  void fold_events(std::uint64_t order_id, LoadedOrder& loaded, std::uint64_t last,
                   Keep keep) const;
  template <class Visit>
  void for_each_event(std::uint64_t order_id, std::uint64_t from, std::uint64_t last,
                      Visit visit) const;
  void snapshot_if_due(std::uint64_t order_id, const OrderState& state,
                       const AppendResult& appended);

  EventStore& store_;
  RepositoryOptions options_;
};

}  // namespace eda::sourcing
