/// @file store_service.hpp
/// @brief The event store as a service over ZeroMQ, and a client that is an EventStore too,
///        so writers and readers can be processes on other machines.
///
/// Requests travel as the kit's RPC frames (method, MessagePack body; replies: status, body),
/// so the client is the kit's RpcClient with its timeouts and Lazy Pirate retries — safe for
/// appends, because appends are idempotent by event id.
///
/// | method | request body | reply body (`ok`) |
/// |---|---|---|
/// | `Append` | `AppendBody` | `AppendReply` |
/// | `ReadStream` | `ReadStreamBody` | `[WireRecord]` |
/// | `ReadAll` | `ReadAllBody` | `[WireRecord]` |
/// | `StreamVersion` | stream name | version |
/// | `LastPosition` | nil | position |
/// | `SaveSnapshot` | `WireSnapshot` (with its stream) | nil |
/// | `LoadSnapshot` | stream name | `[found, WireSnapshot]` |
///
/// A pipelining client (AppendPipeline, a DEALER) puts a **tag** of its choosing between the
/// empty delimiter and the method: `[tag, method, body]`; the reply carries the tag back in the
/// same place, `[tag, status, body]`, so the client can match replies to requests while many
/// are in flight. Appends are committed, and answered, in the order they came (reads are
/// answered at once, so a read may overtake the appends before it).
///
/// Error statuses: `conflict` (body: `ConflictBody`), `rejected` (invalid input; body: the
/// reason), `corrupt` (stored data cannot be read; body: CorruptEvent's message, naming the
/// stream and position), `error` (the store failed; body: the reason), `bad_request` (not
/// this protocol).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <msgpack.hpp>
#include <zmq.hpp>

#include "eda/rpc.hpp"
#include "eda/sourcing/event_store.hpp"

namespace eda::sourcing {

/// @brief One event on the wire (request side).
struct WireEvent {
  std::string event_id;  ///< Its id.
  std::string type;      ///< Its type.
  std::string envelope;  ///< Its envelope bytes.
  MSGPACK_DEFINE(event_id, type, envelope)
};

/// @brief Body of `Append`.
struct AppendBody {
  std::string stream;                  ///< The stream.
  std::uint8_t expected_kind = 0;      ///< ExpectedVersion::Kind.
  std::uint64_t expected_version = 0;  ///< For `exact`.
  std::vector<WireEvent> events;       ///< The events.
  MSGPACK_DEFINE(stream, expected_kind, expected_version, events)
};

/// @brief Reply to `Append`.
struct AppendReply {
  std::uint64_t first_version = 0;   ///< See AppendResult.
  std::uint64_t last_version = 0;    ///< See AppendResult.
  std::uint64_t first_position = 0;  ///< See AppendResult.
  std::uint64_t last_position = 0;   ///< See AppendResult.
  bool already_stored = false;       ///< See AppendResult.
  MSGPACK_DEFINE(first_version, last_version, first_position, last_position, already_stored)
};

/// @brief Body of a `conflict` reply.
struct ConflictBody {
  std::string stream;        ///< The stream.
  std::uint64_t actual = 0;  ///< Its version when the append was tried.
  std::string message;       ///< The conflict in words.
  MSGPACK_DEFINE(stream, actual, message)
};

/// @brief Body of `ReadStream`.
struct ReadStreamBody {
  std::string stream;           ///< The stream.
  std::uint64_t from = 0;       ///< See EventStore::read_stream.
  std::uint64_t max_count = 0;  ///< At most this many.
  bool backward = false;        ///< Direction::backward.
  MSGPACK_DEFINE(stream, from, max_count, backward)
};

/// @brief Body of `ReadAll`.
struct ReadAllBody {
  std::uint64_t from = 0;       ///< The first position.
  std::uint64_t max_count = 0;  ///< At most this many.
  MSGPACK_DEFINE(from, max_count)
};

/// @brief One stored event on the wire (reply side).
struct WireRecord {
  std::string stream;          ///< Its stream.
  std::uint64_t version = 0;   ///< Its version.
  std::uint64_t position = 0;  ///< Its position.
  std::string envelope;        ///< Its envelope bytes.
  MSGPACK_DEFINE(stream, version, position, envelope)
};

/// @brief A snapshot on the wire.
struct WireSnapshot {
  std::string stream;                ///< Its stream.
  std::uint64_t version = 0;         ///< See Snapshot.
  std::uint32_t schema_version = 0;  ///< See Snapshot.
  std::string state;                 ///< See Snapshot.
  MSGPACK_DEFINE(stream, version, schema_version, state)
};

/// @brief How a StoreService is set up.
struct StoreServiceOptions {
  std::vector<std::string> endpoints{};       ///< Where clients connect (ROUTER).
  std::size_t max_group = 256;                ///< Appends committed together at most.
  std::int64_t max_request_bytes = 64 << 20;  ///< Larger requests drop the connection.
  /// ZMTP heartbeats: a client that stops answering (frozen, its host gone) has its
  /// connection closed; it reconnects when it runs again (and retries, idempotently).
  Heartbeat heartbeat{};
  /// Plaintext (the default) or CURVE: the service binds, so it is the CURVE server
  /// (CurveSetup::server()).
  Security security{};
};

/// @brief Counters a StoreService keeps.
struct StoreServiceStats {
  std::uint64_t appends = 0;       ///< Append requests answered.
  std::uint64_t groups = 0;        ///< Commits (one per group of appends).
  std::uint64_t reads = 0;         ///< Other requests answered.
  std::uint64_t bad_requests = 0;  ///< Requests that were not this protocol.
};

/// @brief Serves an EventStore over ZeroMQ. Appends that arrive together are committed
///        together (group commit): every waiting writer's append goes into one
///        EventStore::append_all() call, and each writer is answered only after it returns,
///        so an acknowledged event is durable and one fsync serves the whole group.
///
/// @par Thread safety
/// One thread at a time (it owns its socket).
class StoreService {
 public:
  /// @brief Serves `store` (which must outlive it) on `options.endpoints`.
  StoreService(zmq::context_t& context, EventStore& store, StoreServiceOptions options);

  /// @brief Where it listens (connectable form).
  [[nodiscard]] const std::vector<std::string>& endpoints() const noexcept { return endpoints_; }

  /// @brief Waits up to `wait` for requests, then answers all that are waiting (up to
  ///        `max_group` appends in one commit); false when none came.
  bool serve_once(std::chrono::milliseconds wait);

  /// @brief Serves until `keep_going()` returns false (checked at least every `tick`).
  void serve_while(const std::function<bool()>& keep_going,
                   std::chrono::milliseconds tick = std::chrono::milliseconds(50));

  /// @brief Counters so far.
  [[nodiscard]] const StoreServiceStats& stats() const noexcept { return stats_; }

 private:
  struct Caller;
  struct PendingAppend;
  void reply(const Caller& caller, std::string_view status, std::string_view body);
  std::string answer_read(std::string_view method, std::string_view body);
  /// Answers the reads waiting on the socket and gathers its appends into `group` (up to
  /// `max_group`).
  void receive_requests(std::vector<PendingAppend>& group);
  /// Commits `group` in one append_all() (its requests are moved out); the outcomes, each a
  /// failure when append_all() threw.
  std::vector<AppendOutcome> commit(std::vector<PendingAppend>& group);
  /// Answers each writer of a committed group.
  void answer_group(const std::vector<PendingAppend>& group,
                    const std::vector<AppendOutcome>& outcomes);

  EventStore& store_;
  StoreServiceOptions options_;
  zmq::socket_t socket_;
  std::vector<std::string> endpoints_{};
  StoreServiceStats stats_;
};

/// @brief An EventStore that is a StoreService somewhere else.
///
/// @par Thread safety
/// All members may be called concurrently; calls go out one at a time (one connection).
/// Use one RemoteEventStore per thread for concurrent requests.
class RemoteEventStore final : public EventStore {
 public:
  /// @brief A client of the service at `options.endpoint`.
  RemoteEventStore(zmq::context_t& context, RpcClientOptions options);

  AppendResult append(std::string_view stream, const ExpectedVersion& expected,
                      std::span<const EventData> events) override;
  [[nodiscard]] std::vector<RecordedEvent> read_stream(std::string_view stream, std::uint64_t from,
                                                       std::size_t max_count,
                                                       Direction direction) const override;
  [[nodiscard]] std::vector<RecordedEvent> read_all(std::uint64_t from,
                                                    std::size_t max_count) const override;
  [[nodiscard]] std::uint64_t stream_version(std::string_view stream) const override;
  [[nodiscard]] std::uint64_t last_position() const override;
  void save_snapshot(std::string_view stream, const Snapshot& snapshot) override;
  [[nodiscard]] std::optional<Snapshot> load_snapshot(std::string_view stream) const override;

 private:
  /// Calls `method` with `body`, one call at a time; a `corrupt` reply becomes CorruptEvent.
  std::string call(std::string_view method, const std::string& body) const;
  mutable std::mutex mutex_;
  mutable RpcClient client_;
};

}  // namespace eda::sourcing
