/// @file read_models.hpp
/// @brief The read side's database: the projections' tables and their checkpoints, in one
///        SQLite file separate from the event store (ProjectionHost), and the shop's read
///        models on it, which answer the shop's queries (ReadModels).
///
/// ```sql
/// CREATE TABLE checkpoints (projection TEXT PRIMARY KEY,   -- one per projection
///                           position INTEGER NOT NULL);    -- the last store position applied
/// CREATE TABLE head (id INTEGER PRIMARY KEY CHECK (id = 1),
///                    position INTEGER NOT NULL);         -- the furthest position a batch brought
/// ```
/// A batch of events and the checkpoints it moves are written in **one transaction**: after a
/// crash the read models and their checkpoints agree, so the projector resumes exactly after
/// the last event it applied — never applying one twice, never skipping one.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <msgpack.hpp>

#include "eda/cqrs/projection.hpp"
#include "eda/cqrs/projections.hpp"
#include "eda/cqrs/queries.hpp"
#include "eda/sourcing/event_store.hpp"
#include "eda/sqlite/database.hpp"

namespace eda::cqrs {

/// @brief How a read-model database is opened.
struct ReadModelOptions {
  std::string path{};  ///< The read-model database file (created when absent).
  /// Read models can always be rebuilt from the store, and the checkpoint commits with them,
  /// so a process crash loses nothing: `normal` (no fsync per batch) is the sensible default.
  sqlite::Durability durability = sqlite::Durability::normal;
};

/// @brief An answer and the store position it reflects: every event up to `position` (and
///        none after it) is in `rows`.
template <class Rows>
struct Reflecting {
  Rows rows;                   ///< The answer.
  std::uint64_t position = 0;  ///< The projection's checkpoint when it was read.
  MSGPACK_DEFINE(rows, position)
};

/// @brief Where one batch left the projections.
struct BatchApplied {
  std::size_t events = 0;      ///< Events in the batch.
  std::size_t applied = 0;     ///< Event applications (an event counts once per projection
                               ///< that had not seen it).
  std::uint64_t position = 0;  ///< The lowest checkpoint now (every projection is there).
};

/// @brief The projection host: a SQLite database of read models, each kept by its projection,
///        with a checkpoint per projection. It runs any projections: their tables, statements
///        and queries are theirs (projection.hpp), and it knows none of them.
///
/// @par Example
/// @code
/// ProjectionHost host({.path = "read.db"}, shop_projections());
/// host.apply(store.read_all(host.position() + 1, 1000));   // what a Projector does
/// @endcode
///
/// @par Thread safety
/// All members may be called concurrently (one connection, one call at a time). Several
/// processes may open the same file: one projector writes, any number of query services read.
class ProjectionHost {
 public:
  /// @brief Opens (creating if needed) the database with `projections` (names must be unique),
  ///        each creating its tables when absent.
  ProjectionHost(ReadModelOptions options, std::vector<std::unique_ptr<Projection>> projections);
  virtual ~ProjectionHost();
  ProjectionHost(const ProjectionHost&) = delete;             ///< Owns a connection.
  ProjectionHost& operator=(const ProjectionHost&) = delete;  ///< Owns a connection.

  /// @brief Applies `events` (in position order) to every projection that has not seen them,
  ///        and moves each checkpoint to the batch's last position — all in one transaction.
  ///
  /// `read_from` is the position the events were read from: they are everything the store
  /// holds from there up to the last one. A projection whose checkpoint is further back (it
  /// was reset for a rebuild while this projector runs) would miss the events in between: it
  /// is left alone, and its rebuild catches it up. 0 means the events follow directly on
  /// every checkpoint. Events projections do not read (projected_event_of(): other streams
  /// than orders) only move the checkpoints. Throws sourcing::CorruptEvent (nothing applied)
  /// when an event cannot be read: a projection never skips an event it cannot understand.
  BatchApplied apply(std::span<const sourcing::RecordedEvent> events, std::uint64_t read_from = 0);

  /// @brief The checkpoint of `projection` (0: nothing applied yet); throws
  ///        std::invalid_argument for an unknown name.
  [[nodiscard]] std::uint64_t checkpoint(std::string_view projection) const;

  /// @brief The furthest store position any batch has brought so far, whether every
  ///        projection applied it or (being rebuilt) let it pass; 0 again once every
  ///        projection is reset. A rebuild is complete when it has caught up with this.
  [[nodiscard]] std::uint64_t head() const;

  /// @brief The lowest checkpoint: every projection has applied every event up to here.
  [[nodiscard]] std::uint64_t position() const;

  /// @brief The projections' names, in the order they are applied.
  [[nodiscard]] std::vector<std::string> projections() const;

  /// @brief Drops `projection`'s tables and checkpoint and creates them empty: the next
  ///        batches rebuild it from the beginning of the store (see rebuild()). One
  ///        transaction: when it fails, nothing changed (and the projection keeps working).
  void reset(std::string_view projection);

  /// @brief Asks `query` (a callable without arguments, which reads `projection`'s tables)
  ///        inside one read snapshot, with the checkpoint of `projection` read in the same
  ///        snapshot: the answer reflects the store exactly up to that position.
  template <class Query>
  [[nodiscard]] Reflecting<std::invoke_result_t<Query&>> read(std::string_view projection,
                                                              Query&& query) const {
    const std::lock_guard lock(mutex_);
    const ReadSnapshot snapshot(*this);
    const std::uint64_t position = checkpoint_locked(projection);
    return {query(), position};
  }

  /// @brief Every row of every projection's table (their working tables too), as text,
  ///        sorted: two databases with the same dump hold the same read models. For tests,
  ///        rebuild checks and the demo.
  [[nodiscard]] std::string dump() const;

 protected:
  /// @brief The database, for the queries of a class built on this one (asked through read()).
  [[nodiscard]] const sqlite::Database& database() const noexcept;

 private:
  struct Connection;
  /// One read transaction (a WAL snapshot): every SELECT inside it sees the same state.
  class ReadSnapshot {
   public:
    explicit ReadSnapshot(const ProjectionHost& host);
    ~ReadSnapshot();
    ReadSnapshot(const ReadSnapshot&) = delete;
    ReadSnapshot& operator=(const ReadSnapshot&) = delete;

   private:
    const ProjectionHost& host_;
  };
  Projection& find(std::string_view projection) const;
  std::uint64_t checkpoint_locked(std::string_view projection) const;

  ReadModelOptions options_;
  mutable std::mutex mutex_;
  std::unique_ptr<Connection> db_;
  std::vector<std::unique_ptr<Projection>> projections_;
  std::string unusable_;  // why apply() and reset() refuse (a projection lost its statements)
};

/// @brief The read models of the shop: the projection host with the shop's three
///        projections, answering the shop's queries from their tables, each answer with the
///        store position it reflects.
///
/// @par Example
/// @code
/// ReadModels read({.path = "read.db"});
/// read.apply(store.read_all(read.position() + 1, 1000));   // what a Projector does
/// auto orders = read.read_customer_orders("alice");     // rows + the position they reflect
/// @endcode
///
/// @par Thread safety
/// As ProjectionHost: all members may be called concurrently.
class ReadModels final : public ProjectionHost, public ShopQueries {
 public:
  /// @brief Opens (creating if needed) the database with the shop's three projections.
  explicit ReadModels(ReadModelOptions options);
  /// @brief Opens the database with the given `projections` (names must be unique): the
  ///        shop's, wrapped or joined by others (a test's, a benchmark's probe).
  ReadModels(ReadModelOptions options, std::vector<std::unique_ptr<Projection>> projections);

  /// @brief customer_orders(), with the position it reflects.
  [[nodiscard]] Reflecting<std::vector<OrderSummary>> read_customer_orders(
      const std::string& customer) const;
  /// @brief sales_by_day(), with the position it reflects.
  [[nodiscard]] Reflecting<std::vector<ProductDaySales>> read_sales_by_day(
      const std::string& first_day, const std::string& last_day) const;
  /// @brief awaiting_shipment(), with the position it reflects.
  [[nodiscard]] Reflecting<std::vector<AwaitingShipment>> read_awaiting_shipment(
      std::size_t limit) const;

  [[nodiscard]] std::vector<OrderSummary> customer_orders(
      const std::string& customer) const override;
  [[nodiscard]] std::vector<ProductDaySales> sales_by_day(
      const std::string& first_day, const std::string& last_day) const override;
  [[nodiscard]] std::vector<AwaitingShipment> awaiting_shipment(std::size_t limit) const override;

 private:
  // Asked through read(), under the host's lock: one call at a time. Members, so that their
  // statements are finalized before the host closes the database.
  mutable CustomerOrdersQuery customer_orders_;
  mutable SalesByDayQuery sales_by_day_;
  mutable AwaitingShipmentQuery awaiting_shipment_;
};

/// @brief Progress of a rebuild: events applied so far, and the store's last position.
using RebuildProgress = std::function<void(std::uint64_t position, std::uint64_t last_position)>;

/// @brief Drops `projection` and rebuilds it from the first event of `store`, reading
///        `batch` events per query and transaction; calls `progress` after each batch.
///        Returns the number of events read. The other projections keep their tables (one
///        that lags behind the pages read is fed by them too, as any batch would), and a
///        projector may keep feeding them meanwhile (in this process or another): the rebuild
///        goes on until the rebuilt projection has caught up with them, so nothing the live
///        projector passed it by is missed. While one page is applied, the next is read on
///        another thread.
std::uint64_t rebuild(ProjectionHost& read_models, const sourcing::EventStore& store,
                      std::string_view projection, const RebuildProgress& progress = {},
                      std::size_t batch = 10'000);

/// @brief Drops every projection and rebuilds them all from the first event of `store`, in one
///        pass over it (see rebuild()). Returns the number of events read.
std::uint64_t rebuild_all(ProjectionHost& read_models, const sourcing::EventStore& store,
                          const RebuildProgress& progress = {}, std::size_t batch = 10'000);

}  // namespace eda::cqrs
