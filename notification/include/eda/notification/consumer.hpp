/// @file consumer.hpp
/// @brief A durable, idempotent consumer of `OrderPlaced`: it reacts to each order exactly once,
///        fetches the details back when it needs them, and catches up after being away.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include <zmq.hpp>

#include "eda/notification/shop.hpp"
#include "eda/pubsub.hpp"
#include "eda/rpc.hpp"

namespace eda::notification {

/// @brief Where a consumer remembers the last event it processed, so it resumes after it.
class Checkpoint {
 public:
  virtual ~Checkpoint() = default;
  /// @brief The last sequence processed, or nothing for a consumer that never ran.
  [[nodiscard]] virtual std::optional<std::uint64_t> load() const = 0;
  /// @brief Remembers that everything up to `sequence` was processed.
  virtual void save(std::uint64_t sequence) = 0;
};

/// @brief A checkpoint kept in memory: survives a consumer being stopped and started again in
///        the same process (tests, the all-in-one demo).
class MemoryCheckpoint : public Checkpoint {
 public:
  /// @brief The remembered sequence, if any.
  [[nodiscard]] std::optional<std::uint64_t> load() const override { return value_; }
  /// @brief Remembers `sequence`.
  void save(std::uint64_t sequence) override { value_ = sequence; }

 private:
  std::optional<std::uint64_t> value_;
};

/// @brief A checkpoint kept in a small text file, replaced atomically (write, then rename), so a
///        consumer process that is killed resumes where it was.
class FileCheckpoint : public Checkpoint {
 public:
  /// @brief A checkpoint in `path` (created on the first save).
  explicit FileCheckpoint(std::string path);
  /// @brief Reads the file; throws eda::StorageError naming it when its content is not a number.
  [[nodiscard]] std::optional<std::uint64_t> load() const override;
  /// @brief Writes the file; throws eda::StorageError naming it when it cannot.
  void save(std::uint64_t sequence) override;

 private:
  std::string path_;
};

/// @brief What a consumer does with an order: its domain reaction. It may publish follow-up
///        events on `follow_ups`, with `Cause::of(cause)` so they link back to the order.
///        `details` is null for a consumer that does not fetch details.
using Reaction = std::function<void(Publisher& follow_ups, const OrderPlaced& placed,
                                    const Order* details, const EventMetadata& cause)>;

/// @brief How a Consumer is set up.
struct ConsumerOptions {
  std::string name;             ///< The consumer's name and event source, e.g. `inventory`.
  std::string events_endpoint;  ///< The Order service's events.
  std::string api_endpoint;     ///< The Order service's API (fetch-back and replay).
  std::string follow_ups_endpoint = "tcp://127.0.0.1:*";  ///< Where follow-ups are published.
  bool needs_details = true;                    ///< Whether each order's details are fetched back.
  std::chrono::microseconds work_time{0};       ///< Simulated work per order (a slow consumer).
  std::chrono::milliseconds rpc_timeout{2000};  ///< Per attempt, for fetch-backs and replays.
  int rpc_attempts = 3;                    ///< Attempts per call before giving up (Lazy Pirate).
  std::uint32_t replay_page = 1000;        ///< Events per Replay call.
  std::size_t remembered_ids = 100'000;    ///< Event ids kept for idempotency.
  int receive_high_water_mark = 100'000;   ///< Live events queued before new ones drop (a gap).
  Checkpoint* checkpoint = nullptr;        ///< Where progress is kept (default: in memory).
  DeadLetterSink* dead_letters = nullptr;  ///< Where bad events go (default: own box).
  /// Plaintext (the default) or CURVE: the consumer subscribes and calls back (a CURVE client)
  /// and publishes its follow-ups (a CURVE server), so a CURVE Security here holds both halves
  /// (CurveSetup::both()).
  Security security{};
};

/// @brief Events the outbox could no longer provide: the consumer was away too long.
struct LossReport {
  std::uint64_t first_lost = 0;  ///< First sequence lost.
  std::uint64_t last_lost = 0;   ///< Last sequence lost.
};

/// @brief Counters a Consumer keeps.
struct ConsumerStats {
  std::uint64_t handled = 0;        ///< Orders reacted to (each exactly once).
  std::uint64_t duplicates = 0;     ///< Deliveries skipped because already handled.
  std::uint64_t fetch_backs = 0;    ///< GetOrder calls made.
  std::uint64_t replayed = 0;       ///< Events received through Replay (catch-up).
  std::uint64_t catch_ups = 0;      ///< Times the consumer caught up from the outbox.
  std::uint64_t reconnections = 0;  ///< Connections to the producer opened again after one closed.
  std::uint64_t lost = 0;           ///< Events the outbox no longer had (see losses()).
  std::uint64_t dead_letters = 0;   ///< Events it could not process.
};

/// @brief Consumes `OrderPlaced` with a durable subscription: on start, and whenever it sees a
///        gap, it asks the Order service's outbox for everything after its checkpoint, then goes
///        on live. Handling is idempotent by event id and by sequence, so a replayed or
///        re-delivered event is never applied twice.
///
/// @par Errors
/// A malformed or unknown event is dead-lettered and skipped, and so is one whose fetch-back the
/// Order service refuses (an order it does not know). When the Order service does not
/// answer a fetch-back or replay, poll() and start() throw RpcTimeout and the event is not
/// marked as processed: the next poll() catches up from the outbox again.
///
/// @par Thread safety
/// One thread at a time.
class Consumer {
 public:
  /// @brief Connects (without waiting) and subscribes to `shop.order.placed`.
  Consumer(zmq::context_t& context, ConsumerOptions options, Reaction reaction);

  /// @brief Completes the subscription handshake, then catches up from the outbox; false if
  ///        the handshake did not complete within `timeout`.
  bool start(std::chrono::milliseconds timeout);

  /// @brief Handles the events that arrive within `wait` (at most `max_events`); returns how
  ///        many orders were handled.
  std::size_t poll(std::chrono::milliseconds wait, std::size_t max_events = 1000);

  /// @brief The last sequence of the Order service fully processed (0 before the first).
  [[nodiscard]] std::uint64_t last_processed() const noexcept { return checkpoint_value_; }
  /// @brief Counters so far.
  [[nodiscard]] const ConsumerStats& stats() const noexcept { return stats_; }
  /// @brief Every stretch of events the outbox could no longer provide.
  [[nodiscard]] const std::vector<LossReport>& losses() const noexcept { return losses_; }
  /// @brief The consumer's name.
  [[nodiscard]] const std::string& name() const noexcept { return options_.name; }
  /// @brief Where this consumer's follow-up events are published (connectable form).
  [[nodiscard]] const std::string& follow_ups_endpoint() const {
    return follow_ups_.endpoints().front();
  }
  /// @brief The publisher of follow-up events (e.g. to wait for its subscribers).
  [[nodiscard]] Publisher& follow_ups() noexcept { return follow_ups_; }

 private:
  void catch_up();
  void handle(const DecodedEvent& event);
  void remember(const std::string& event_id);
  void advance(std::uint64_t sequence);

  ConsumerOptions options_;
  Reaction reaction_;
  MemoryCheckpoint own_checkpoint_;
  Checkpoint* checkpoint_;
  Subscriber inbox_;
  RpcClient order_api_;
  Publisher follow_ups_;
  bool resumed_ = false;               // a checkpoint existed: a stretch the outbox lacks is a loss
  bool must_catch_up_ = true;          // the next poll() replays first (start, gap, failed call)
  std::uint64_t handshakes_seen_ = 0;  // the inbox's connection handshakes already accounted for
  std::uint64_t checkpoint_value_ = 0;
  std::unordered_set<std::string> seen_ids_;
  std::deque<std::string> seen_order_;
  ConsumerStats stats_;
  std::vector<LossReport> losses_;
};

/// @brief The reaction of one of the shop's downstream roles (`inventory`, `shipping`,
///        `billing`, or a name starting with one of them, like `billing-2`): it publishes
///        StockReserved, ShipmentScheduled or PaymentCharged. Throws std::invalid_argument for
///        any other name.
Reaction reaction_for(std::string_view role);

}  // namespace eda::notification
