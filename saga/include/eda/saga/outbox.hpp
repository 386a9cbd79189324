/// @file outbox.hpp
/// @brief The transactional outbox: events written into the participant's own database, in the
///        same local transaction as the state change they announce.
///
/// The dual write ("commit the row, then publish") has a window between the two in which a
/// crash keeps the change and loses its event forever. The outbox closes it: the event is one
/// more row of the same transaction, so the change and its event are both committed or neither
/// is; a relay (outbox_relay.hpp) publishes the rows afterwards, in order, at least once.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <msgpack.hpp>

#include "eda/codec.hpp"
#include "eda/envelope.hpp"
#include "eda/sqlite/database.hpp"

namespace eda::saga {

/// @brief One row of the outbox table, as a relay or a test reads it.
struct OutboxRow {
  std::uint64_t position = 0;   ///< Order of writing, 1, 2, 3, ...; also the envelope's sequence.
  std::string event_id{};       ///< The event's id (consumers deduplicate by it).
  std::string event_type{};     ///< Its type, also its topic.
  std::string envelope{};       ///< The encoded envelope, exactly as it will be sent.
  std::int64_t created_ns = 0;  ///< Wall-clock time it was written, ns since the Unix epoch.
};

/// @brief The outbox table of one participant's database, written inside the caller's
///        transactions.
///
/// Table `outbox` (created if missing): `position` (INTEGER PRIMARY KEY, the order of
/// writing), `event_id` (unique), `event_type`, `envelope` (the MessagePack envelope, BLOB),
/// `created_ns`. Which rows were published is the relay's own record, kept apart
/// (relay_progress.hpp), so that the relay only reads this database. Positions are never reused, and each envelope carries its position as its sequence number, so a
/// consumer's sequence check sees the outbox's order even across relay restarts.
///
/// @par Example
/// @code
/// eda::sqlite::Transaction tx(db);
/// db.exec("UPDATE stock ...");                       // the state change
/// outbox.add(tx, make_metadata<StockReserved>("inventory"), reserved);  // its event
/// tx.commit();                                       // both, or neither
/// @endcode
///
/// @par Thread safety
/// Like the Database it writes to: one thread at a time.
class Outbox {
 public:
  /// @brief Uses `db` (which must outlive this), creating the outbox table if missing.
  explicit Outbox(sqlite::Database& db);

  /// @brief Adds an event to the transaction `open` (begun on this outbox's database); returns
  ///        the row's position. Nothing is visible to a relay until the caller commits.
  ///
  /// `meta.sequence` is replaced by the position. Throws std::logic_error when no
  /// transaction is open (the event would commit on its own: exactly the bug the outbox
  /// prevents), std::invalid_argument for metadata without an id or of another type than
  /// `P`'s, and
  /// eda::StorageError when SQLite fails (the caller's transaction then rolls back).
  template <EventPayload P>
  std::uint64_t add(sqlite::Transaction& open, EventMetadata meta, const P& payload) {
    if (meta.type != P::event_type) {
      throw std::invalid_argument("Outbox::add: metadata of a '" + meta.type +
                                  "' event given with a '" + std::string(P::event_type) +
                                  "' payload");
    }
    const std::uint64_t position = begin_add(open, meta);
    meta.sequence = position;
    msgpack::sbuffer buffer;
    encode_event(meta, payload, buffer);
    insert(position, meta, std::string_view(buffer.data(), buffer.size()));
    return position;
  }

  /// @brief Adds the event at `position` again, inside `open`, as a new event: a new id and
  ///        time, the same type, payload, correlation and causation. Returns the new position.
  ///
  /// For a participant answering a command it has answered before (the first reply may never
  /// have reached the sender): the answer is repeated word for word, and the new id keeps
  /// event ids unique. Throws std::invalid_argument when there is no row at `position`, and
  /// what add() throws.
  std::uint64_t repeat(sqlite::Transaction& open, std::uint64_t position);

  /// @brief The rows from `first_position` on, in position order, at most `limit` of them.
  [[nodiscard]] std::vector<OutboxRow> read(std::uint64_t first_position, std::size_t limit) const;

  /// @brief The last position written (0 for an empty outbox).
  [[nodiscard]] std::uint64_t last_position() const;

 private:
  std::uint64_t begin_add(sqlite::Transaction& open, const EventMetadata& meta);
  void insert(std::uint64_t position, const EventMetadata& meta, std::string_view envelope);

  sqlite::Database& db_;
};

/// @brief Creates the outbox table in `db` if it is missing (Outbox's constructor does it).
void create_outbox_table(const sqlite::Database& db);

/// @brief Makes `db` wait for SQLite's write lock in steps of 100 us (up to 10 s) instead of
///        SQLite's default backoff, which sleeps up to 100 ms a time.
///
/// Writers of one outbox (threads, processes) take turns at one write lock, each holding it
/// briefly, so a short step is enough. With the default, each stalled the other for
/// milliseconds at a time: when the relay still recorded its progress in this database, at
/// 2 000 fsync'd writes a second it fell behind for good (the lag grew past a second) while
/// the writer slowed to 1 200 writes/s (bench-saga, BM_Outbox_RelayLag). Every connection that
/// writes an outbox waits this way.
void wait_briefly_for_write_lock(const sqlite::Database& db);

}  // namespace eda::saga
