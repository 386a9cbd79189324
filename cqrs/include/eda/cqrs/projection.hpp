/// @file projection.hpp
/// @brief A projection turns the store's events into one query-shaped read model: a few
///        tables shaped like the answer to one question, kept up to date event by event.
///
/// What a projection owns and what its host does (ProjectionHost, read_models.hpp):
///
/// | the projection (e.g. `customer_orders_projection.cpp`) | the host |
/// |---|---|
/// | its tables, created and dropped by open() and drop() | the database file and its connection |
/// | its statements, and the queries asked of its tables | the transaction per batch, read snapshots |
/// | what each event does to its rows: apply(), write() | which events a batch holds, once decoded |
/// | | a checkpoint per projection, rebuilds |
///
/// The events are the shop's order events, decoded once per batch for every projection
/// (projected_event_of()); the host knows nothing else of the shop.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "eda/sourcing/event_store.hpp"
#include "eda/sourcing/order.hpp"
#include "eda/sqlite/database.hpp"

namespace eda::cqrs {

/// @brief The SQLite layer a projection keeps its tables with (eda::sqlite), also by its short
///        name where `using namespace eda::cqrs` is in force: `sqlite::Database`.
namespace sqlite = eda::sqlite;

/// @brief One order event as projections see it: decoded, upcast, and placed in its stream.
struct ProjectedEvent {
  std::uint64_t order_id = 0;     ///< The order (from its stream, `order-<id>`).
  std::uint64_t version = 0;      ///< Its version in the order's stream (1, 2, 3, ...).
  std::uint64_t position = 0;     ///< Its position in the store.
  std::int64_t timestamp_ns = 0;  ///< When it happened (ns since the Unix epoch).
  sourcing::OrderEvent event;     ///< What happened.
};

/// @brief The order an event belongs to, from its stream name `order-<id>`; nothing for
///        other streams.
std::optional<std::uint64_t> order_of_stream(std::string_view stream);

/// @brief `recorded` as projections see it, when it is an order's event (its stream is
///        `order-<id>`): decoded and upcast. Nothing for the events of other streams, which
///        projections do not read. Throws sourcing::CorruptEvent, naming stream and position,
///        for an order's event that cannot be read.
std::optional<ProjectedEvent> projected_event_of(const sourcing::RecordedEvent& recorded);

/// @brief One read model and the handlers that keep it.
///
/// A projection owns its tables (including any working data it needs, such as the lines of
/// orders not yet paid), so it can be dropped and rebuilt on its own. A batch is applied in
/// memory (apply() for each event) and written once (write()), inside the caller's
/// transaction. Its handlers are **idempotent**: each row about an order remembers the last
/// version of the order applied to it, and an event that is not the next one changes nothing.
/// The projector's checkpoint already prevents redelivery; this is the second line of
/// defence, and what makes "at-least-once delivery" safe.
///
/// The questions asked of its tables are its own too (projections.hpp: CustomerOrdersQuery and
/// the others), so the host runs projections without knowing their SQL.
///
/// @par Thread safety
/// Called by its ProjectionHost only, under the host's lock.
class Projection {
 public:
  virtual ~Projection() = default;

  /// @brief The projection's name, also its checkpoint's key (e.g. `customer-orders`).
  [[nodiscard]] virtual std::string_view name() const noexcept = 0;

  /// @brief Creates its tables when absent, and prepares its statements on `db`.
  virtual void open(const sqlite::Database& db) = 0;

  /// @brief Drops its tables (a rebuild creates them again with open()).
  virtual void drop(const sqlite::Database& db) = 0;

  /// @brief Applies one event to the batch (reading rows it needs from the database).
  virtual void apply(const ProjectedEvent& event) = 0;

  /// @brief Writes what the batch changed, inside the caller's transaction, and starts a new
  ///        batch.
  virtual void write() = 0;

  /// @brief Forgets the batch unwritten (its transaction was rolled back).
  virtual void discard() noexcept = 0;
};

}  // namespace eda::cqrs
