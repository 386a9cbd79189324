/// @file event_store.hpp
/// @brief The event store: an append-only log of events, grouped in streams (one per
///        aggregate, e.g. `order-42`), with optimistic concurrency and idempotent appends.
///
/// Every event gets two numbers: its **version** in its stream (1, 2, 3, ... with no hole) and
/// its **position** in the whole store (increasing in commit order, so a reader that has seen
/// position P has seen everything committed before it). Events are stored as the kit's
/// MessagePack envelopes, exactly as they travel on the wire.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "eda/codec.hpp"
#include "eda/envelope.hpp"
#include "eda/errors.hpp"

namespace eda::sourcing {

/// @brief What an append expects of the stream's current version: the heart of optimistic
///        concurrency. A writer that loaded version 7 appends "expecting 7"; if someone else
///        appended meanwhile, the append fails instead of overwriting their decision.
class ExpectedVersion {
 public:
  /// @brief What is expected.
  enum class Kind : std::uint8_t {
    any = 0,        ///< Anything.
    no_stream = 1,  ///< No stream.
    exact = 2,      ///< Exactly version().
  };

  /// @brief Append whatever the stream's version (no concurrency check).
  static ExpectedVersion any() noexcept { return ExpectedVersion(Kind::any, 0); }
  /// @brief The stream must not exist yet (creating an aggregate).
  static ExpectedVersion no_stream() noexcept { return ExpectedVersion(Kind::no_stream, 0); }
  /// @brief The stream must be exactly at `version` (>= 1).
  static ExpectedVersion exactly(std::uint64_t version);

  /// @brief Whether a stream currently at `current` (0: it does not exist) satisfies this.
  [[nodiscard]] bool allows(std::uint64_t current) const noexcept;

  /// @brief `any`, `no stream` or `version N`, for messages.
  [[nodiscard]] std::string describe() const;

  /// @brief What is expected.
  [[nodiscard]] Kind kind() const noexcept { return kind_; }
  /// @brief The exact version expected (0 unless kind() is `exact`).
  [[nodiscard]] std::uint64_t version() const noexcept { return version_; }
  /// @brief From its parts (e.g. off the wire); throws std::invalid_argument when they do
  ///        not make an expectation.
  static ExpectedVersion from(std::uint8_t kind, std::uint64_t version);

 private:
  ExpectedVersion(Kind kind, std::uint64_t version) noexcept : kind_(kind), version_(version) {}
  Kind kind_;
  std::uint64_t version_;
};

/// @brief An event to append: its encoded envelope and the fields the store indexes.
struct EventData {
  std::string event_id;  ///< Unique id: appending the same id again is a retry, not a new event.
  std::string type;      ///< Event type, e.g. `shop.order.placed`.
  std::string envelope;  ///< The kit's MessagePack envelope (metadata and payload).

  /// @brief The event `payload` with `meta` (as made by eda::make_metadata), encoded.
  template <EventPayload P>
  static EventData of(const EventMetadata& meta, const P& payload) {
    msgpack::sbuffer buffer;
    encode_event(meta, payload, buffer);
    return EventData{meta.event_id, meta.type, std::string(buffer.data(), buffer.size())};
  }
};

/// @brief An event as stored: where it is, and the event itself.
struct RecordedEvent {
  std::string stream;          ///< Its stream.
  std::uint64_t version = 0;   ///< Its version in the stream, from 1.
  std::uint64_t position = 0;  ///< Its position in the whole store, from 1.
  DecodedEvent event;          ///< The decoded envelope.
};

/// @brief What an append did.
struct AppendResult {
  std::uint64_t first_version = 0;   ///< Version of the first event appended.
  std::uint64_t last_version = 0;    ///< Version of the last (the stream's version now).
  std::uint64_t first_position = 0;  ///< Position of the first event appended.
  std::uint64_t last_position = 0;   ///< Position of the last.
  bool already_stored = false;       ///< A retry: these events were stored before, nothing new.
};

/// @brief The stream was not at the expected version: someone else appended first. Category:
///        ErrorCategory::conflict.
class ConcurrencyConflict : public Error {
 public:
  /// @brief A conflict on `stream`, expected `expected`, found at `actual` (0: no stream).
  ConcurrencyConflict(std::string stream, const ExpectedVersion& expected, std::uint64_t actual);
  /// @brief The stream.
  [[nodiscard]] const std::string& stream() const noexcept { return stream_; }
  /// @brief Its version when the append was tried (0: it did not exist).
  [[nodiscard]] std::uint64_t actual_version() const noexcept { return actual_; }

 private:
  std::string stream_;
  std::uint64_t actual_;
};

/// @brief Stored data that cannot be read back (a corrupt envelope): names where it is.
///        Category: ErrorCategory::wire (the stored bytes are malformed).
class CorruptEvent : public Error {
 public:
  /// @brief A corrupt-event error with `message` naming where it is.
  explicit CorruptEvent(const std::string& message) : Error(ErrorCategory::wire, message) {}
};

/// @brief The store's database failed: it cannot be opened or reached, or it refused a
///        statement. Category: ErrorCategory::storage. `sqlstate()` is PostgreSQL's error code
///        (e.g. `23505`, a unique violation; empty for SQLite and for lost connections).
class StoreError : public StorageError {
 public:
  /// @brief A store failure with `message`, and PostgreSQL's SQLSTATE and constraint if any.
  explicit StoreError(const std::string& message, std::string sqlstate = {},
                      std::string constraint = {})
      : StorageError(message), sqlstate_(std::move(sqlstate)), constraint_(std::move(constraint)) {}
  /// @brief PostgreSQL's SQLSTATE of the refused statement (empty when there is none).
  [[nodiscard]] const std::string& sqlstate() const noexcept { return sqlstate_; }
  /// @brief The constraint that refused it (empty when there is none).
  [[nodiscard]] const std::string& constraint() const noexcept { return constraint_; }

 private:
  std::string sqlstate_;
  std::string constraint_;
};

/// @brief A saved state of one stream's aggregate, so that loading it need not replay from 1.
struct Snapshot {
  std::uint64_t version = 0;         ///< The stream version the state reflects.
  std::uint32_t schema_version = 1;  ///< The shape of the state (a new shape ignores old ones).
  std::string state;                 ///< The state, MessagePack.
};

/// @brief One append of a group (see EventStore::append_all()).
struct AppendRequest {
  std::string stream;                                 ///< The stream.
  ExpectedVersion expected = ExpectedVersion::any();  ///< Its expected version.
  std::vector<EventData> events;                      ///< What to append.
};

/// @brief Why one append of a group stored nothing: the failures a caller is expected to
///        meet, as a value to switch on rather than an exception to unwrap.
struct AppendFailure {
  /// @brief What kind of failure.
  enum class Kind {
    conflict,  ///< The stream was not at the expected version (ConcurrencyConflict).
    rejected,  ///< The request itself was refused: an empty stream name or batch, an event id
               ///< twice, ids already stored elsewhere, an envelope that does not decode.
    failed,    ///< The store failed (its database, its connection, its data): see category.
    unknown,   ///< No answer came from a remote store (its connection was lost, or the wait
               ///< for the answer ran out): it may hold the append or not. Appending the same
               ///< events again (the same ids) finds out: `already_stored`, or stored now.
  };

  Kind kind = Kind::failed;  ///< What kind of failure.
  /// The category of the error behind it: ErrorCategory::conflict for a conflict,
  /// ErrorCategory::application for a rejected request, and for a failure the category of
  /// what failed (storage, usually; wire for a corrupt event; transport or timeout for a
  /// remote store).
  ErrorCategory category = ErrorCategory::storage;
  std::string message;  ///< What went wrong, in words (what the exception would have said).
  std::string stream;   ///< The stream of the append.
  ExpectedVersion expected = ExpectedVersion::any();  ///< What the append expected.
  std::uint64_t actual_version = 0;  ///< For a conflict: the stream's version then (0: absent).

  /// @brief Throws what append() would have thrown: ConcurrencyConflict, std::invalid_argument,
  ///        StoreError (storage), CorruptEvent (wire), or eda::Error of the category.
  [[noreturn]] void raise() const;
};

/// @brief The outcome of one append of a group: its result, or why it stored nothing.
struct AppendOutcome {
  std::optional<AppendResult> result;    ///< Set when the append succeeded (or was a retry).
  std::optional<AppendFailure> failure;  ///< Set when it did not.

  /// @brief Whether the append succeeded (or was a retry).
  [[nodiscard]] bool ok() const noexcept { return result.has_value(); }
  /// @brief The result; throws what append() would have thrown (AppendFailure::raise()) when
  ///        the append failed.
  [[nodiscard]] const AppendResult& value() const;
};

/// @brief Which way to read a stream.
enum class Direction {
  forward,   ///< Oldest first, from a version upwards.
  backward,  ///< Newest first, from a version downwards.
};

/// @brief An append-only store of events in streams. One interface, several stores: in
///        memory (tests, teaching) and SQLite (one file, durable).
///
/// @par Thread safety
/// Every implementation may be used from several threads at once.
class EventStore {
 public:
  virtual ~EventStore() = default;

  /// @brief Appends `events` to `stream`, all or nothing, if the stream is at `expected`.
  ///
  /// Throws ConcurrencyConflict when it is not, std::invalid_argument for an empty stream
  /// name, an empty batch, events with the same id twice or an envelope that does not
  /// decode. Appending events whose ids are already stored, in this stream, in this order, is
  /// a retry: nothing is stored and the original numbers are returned (`already_stored`).
  /// Ids stored elsewhere (or only some of them) are an error (std::invalid_argument).
  virtual AppendResult append(std::string_view stream, const ExpectedVersion& expected,
                              std::span<const EventData> events) = 0;

  /// @brief Appends several independent batches, each with its own expectation, as if one
  ///        after the other; one failing does not stop the others. A store may commit them
  ///        together (SQLite: one transaction and one fsync for the group, each append in a
  ///        savepoint), which is what lets a store service acknowledge many concurrent
  ///        writers per disk flush. The default calls append() for each.
  virtual std::vector<AppendOutcome> append_all(std::span<const AppendRequest> requests);

  /// @brief Up to `max_count` events of `stream`, starting at version `from` (forward: the
  ///        first version >= from; backward: the first <= from, 0 meaning the newest).
  [[nodiscard]] virtual std::vector<RecordedEvent> read_stream(
      std::string_view stream, std::uint64_t from, std::size_t max_count,
      Direction direction = Direction::forward) const = 0;

  /// @brief Up to `max_count` events of every stream, from position `from` (inclusive).
  [[nodiscard]] virtual std::vector<RecordedEvent> read_all(std::uint64_t from,
                                                            std::size_t max_count) const = 0;

  /// @brief The stream's current version (0: it does not exist).
  [[nodiscard]] virtual std::uint64_t stream_version(std::string_view stream) const = 0;

  /// @brief The position of the last event stored (0: the store is empty).
  [[nodiscard]] virtual std::uint64_t last_position() const = 0;

  /// @brief Keeps `snapshot` as the latest of `stream` (replacing an older one; an older
  ///        version than the one kept is ignored). Snapshots are a cache: losing one only
  ///        costs a longer replay.
  virtual void save_snapshot(std::string_view stream, const Snapshot& snapshot) = 0;

  /// @brief The latest snapshot of `stream`, if any.
  [[nodiscard]] virtual std::optional<Snapshot> load_snapshot(std::string_view stream) const = 0;
};

/// @brief An EventStore that passes every call on to another one: derive from it to change
///        one call and keep the rest (a decorator — notifications, fault injection).
///
/// append_all() is passed on whole, not as calls to append(): a decorator that changes
/// append() and must also see grouped appends overrides append_all() as well.
class ForwardingEventStore : public EventStore {
 public:
  /// @brief Forwards to `inner`, which must outlive it.
  explicit ForwardingEventStore(EventStore& inner) noexcept : inner_(inner) {}

  AppendResult append(std::string_view stream, const ExpectedVersion& expected,
                      std::span<const EventData> events) override {
    return inner_.append(stream, expected, events);
  }
  std::vector<AppendOutcome> append_all(std::span<const AppendRequest> requests) override {
    return inner_.append_all(requests);
  }
  [[nodiscard]] std::vector<RecordedEvent> read_stream(std::string_view stream, std::uint64_t from,
                                                       std::size_t max_count,
                                                       Direction direction) const override {
    return inner_.read_stream(stream, from, max_count, direction);
  }
  [[nodiscard]] std::vector<RecordedEvent> read_all(std::uint64_t from,
                                                    std::size_t max_count) const override {
    return inner_.read_all(from, max_count);
  }
  [[nodiscard]] std::uint64_t stream_version(std::string_view stream) const override {
    return inner_.stream_version(stream);
  }
  [[nodiscard]] std::uint64_t last_position() const override { return inner_.last_position(); }
  void save_snapshot(std::string_view stream, const Snapshot& snapshot) override {
    inner_.save_snapshot(stream, snapshot);
  }
  [[nodiscard]] std::optional<Snapshot> load_snapshot(std::string_view stream) const override {
    return inner_.load_snapshot(stream);
  }

 protected:
  /// @brief The store calls go to.
  [[nodiscard]] EventStore& inner() noexcept { return inner_; }

 private:
  EventStore& inner_;
};

}  // namespace eda::sourcing
