/// @file outbox_relay.hpp
/// @brief The outbox relay (a polling publisher): publishes a participant's outbox rows in
///        position order over the kit's Publisher, then records them published.
///
/// @par At least once, in order
/// Rows are sent in position order, a bounded batch at a time, and recorded published only
/// afterwards: a relay that dies between the two sends the same rows again when it restarts
/// (counted as republished), so every committed event is published at least once and
/// consumers deduplicate by event id (IdempotentConsumer). A restarted relay starts after the
/// last row recorded published.
///
/// @par It only reads the participant's database
/// The relay's progress lives in a file of its own (RelayProgress, `<database>.relay` by
/// default), so the relay never takes the participant's write lock: a participant committing
/// with an fsync never waits for the relay, and the relay never waits for that fsync.
///
/// @par Why a sent batch waits before it is recorded published
/// PUB/SUB has no acknowledgement: Publisher::publish() only hands the bytes to libzmq, whose
/// I/O thread writes them to the connections a moment later. A relay that recorded a batch the
/// instant it was handed over could die in that moment with the record committed and the bytes
/// still in its own memory: lost. So a batch is recorded once it has been out for
/// RelayOptions::settle (libzmq needs microseconds); what a crash catches inside that time is
/// republished. A broker with acknowledgements would replace the wait with its ack.
///
/// @par What "published" means over PUB/SUB
/// Sent to the subscribers connected at that moment. A subscriber that was away misses the
/// event (PUB/SUB keeps nothing for it) and sees a gap in the source's sequence numbers, which
/// are the outbox positions; the outbox rows are still there to replay from. Start the relay
/// once the consumers that must not miss anything have subscribed (Publisher::wait_for_subscribers).
///
/// @par Woken without sleeping
/// A writer in the same process rings the relay's doorbell (OutboxDoorbell, an inproc socket)
/// after its commit, and the relay wakes at once. Rows whose writer never rang — another
/// process, or one that died between its commit and its ring — are found by the fallback poll
/// (RelayOptions::fallback_poll).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>

#include <zmq.hpp>

#include "eda/errors.hpp"
#include "eda/pubsub.hpp"
#include "eda/saga/relay_progress.hpp"
#include "eda/sqlite/database.hpp"

namespace eda::saga {

/// @brief How an OutboxRelay works.
struct RelayOptions {
  std::size_t batch_size = 128;  ///< Rows read, sent and recorded together, at most (>= 1).
  /// How often run() looks at the outbox when no doorbell rang (rows of other processes, of a
  /// writer that died before ringing).
  std::chrono::milliseconds fallback_poll{100};
  /// How long a sent batch waits before it is recorded published (see the file's notes).
  std::chrono::milliseconds settle{20};
  /// The relay's progress file (RelayProgress); empty: relay_progress_path() of the database.
  std::string progress{};
  /// Test hook, called after a batch was handed to the publisher and before it is recorded,
  /// with the batch's last position (tests stop the process here).
  std::function<void(std::uint64_t last_position)> sent{};
};

/// @brief What a relay has done since it started.
struct RelayCounters {
  std::uint64_t published = 0;      ///< Rows sent (republished ones included).
  std::uint64_t republished = 0;    ///< Rows an earlier relay had sent and not recorded published.
  std::uint64_t marked = 0;         ///< Rows it recorded published.
  std::uint64_t batches = 0;        ///< Batches sent.
  std::uint64_t doorbells = 0;      ///< Times a writer's doorbell woke run().
  std::uint64_t found_by_poll = 0;  ///< Rows run() found by its fallback poll (no doorbell).
  std::uint64_t errors = 0;         ///< Batches that stopped at a row it could not send.
  /// Time from writing to sending of the last row sent (wall clock, so it also spans a restart).
  std::int64_t last_lag_ns = 0;
  std::int64_t max_lag_ns = 0;          ///< The largest time from writing to sending so far.
  std::uint64_t next_position = 0;      ///< The position it sends next.
  std::uint64_t published_through = 0;  ///< Every row up to it is recorded published.
};

/// @brief An outbox row the relay cannot send (its envelope does not decode, or disagrees
///        with the row). The relay stops there rather than skip it, since skipping would
///        break the order and lose the event. Category: ErrorCategory::wire.
class OutboxRowError : public Error {
 public:
  /// @brief The row at `position` (with `event_id` as stored) is bad for `reason`.
  OutboxRowError(std::uint64_t position, const std::string& event_id, const std::string& reason);

  /// @brief The bad row's position.
  [[nodiscard]] std::uint64_t position() const noexcept { return position_; }

 private:
  std::uint64_t position_;
};

/// @brief Publishes an outbox, in order, at least once (see the file's notes).
///
/// @par Example
/// @code
/// eda::Publisher publisher(context, {.source = "inventory", .endpoints = {"tcp://127.0.0.1:*"}});
/// eda::saga::OutboxRelay relay(context, "inventory.db", publisher);
/// std::jthread relaying([&](const std::stop_token& stop) { relay.run(stop); });
/// eda::saga::OutboxDoorbell doorbell(context, relay.doorbell_endpoint());
/// eda::saga::Inventory inventory("inventory.db", {.committed = [&](auto&) { doorbell.ring(); }});
/// inventory.reserve(42, "SKU-1", 2);   // the relay publishes StockReserved moments later
/// @endcode
///
/// @par Thread safety
/// One thread drives it (run(), or relay_batch() and drain()) and is the only user of its
/// Publisher meanwhile; counters() and stalled() may be read from any thread. One relay per
/// outbox.
class OutboxRelay {
 public:
  /// @brief Opens its own connection to the participant's database at `path` (to read it
  ///        only) and its progress file (RelayProgress; a missing one is created, and the relay
  ///        starts at the first row), and starts after the last row recorded published. Throws
  ///        eda::StorageError naming the file when the database does not exist, is not a SQLite
  ///        database, or has no outbox table, and when the progress file is not one of a relay
  ///        or records more rows than the outbox holds (the progress of another outbox);
  ///        std::invalid_argument for a batch size of 0.
  OutboxRelay(zmq::context_t& context, const std::string& path, Publisher& publisher,
              RelayOptions options = {});

  /// @brief Where writers' doorbells connect (`inproc://`, in this relay's context).
  [[nodiscard]] const std::string& doorbell_endpoint() const noexcept { return doorbell_endpoint_; }

  /// @brief Records the batches that have settled published, then sends the next batch; returns how many
  ///        rows it sent. A bad row stops the batch there (the rows before it are sent) and
  ///        throws OutboxRowError; the next call tries that row again.
  std::size_t relay_batch();

  /// @brief Sends and records everything committed so far (waiting out the settle time, answering
  ///        subscription handshakes meanwhile); false when `timeout` passed first. A bad row
  ///        throws OutboxRowError, as relay_batch() does.
  bool drain(std::chrono::milliseconds timeout);

  /// @brief Relays until `stop` is requested (which rings the doorbell, so it stops at once):
  ///        after every doorbell, or every fallback poll without one, answering subscription
  ///        handshakes in between. A bad row does not end it: stalled() says why it waits, and
  ///        it tries again at each poll. Rows sent but not yet settled stay unrecorded (a later
  ///        relay sends them again); call drain() afterwards to record them.
  void run(const std::stop_token& stop);

  /// @brief The counters so far.
  [[nodiscard]] RelayCounters counters() const;

  /// @brief Why the relay cannot go on (the last bad row's error), or nothing.
  [[nodiscard]] std::optional<std::string> stalled() const;

 private:
  /// A batch handed to the publisher, not yet settled.
  struct SentBatch {
    std::uint64_t last = 0;
    std::int64_t sent_monotonic_ns = 0;
  };
  void open_database();
  void check_progress();
  [[nodiscard]] std::int64_t next_settle_ns() const;
  void wait(std::chrono::milliseconds timeout, bool& rang);

  RelayOptions options_;
  zmq::context_t& context_;
  Publisher& publisher_;
  std::optional<sqlite::Database> db_;
  zmq::socket_t doorbell_;
  std::string doorbell_endpoint_;
  std::optional<RelayProgress> progress_;
  std::uint64_t next_position_ = 1;
  std::uint64_t restart_sent_through_ = 0;  // the claim found at start: rows up to it repeat
  std::deque<SentBatch> unsettled_{};
  mutable std::mutex mutex_;  // guards counters_ and stalled_
  RelayCounters counters_{};
  std::optional<std::string> stalled_{};
};

/// @brief A writer's doorbell to the relay in its process: ring() after each commit.
///
/// An inproc PUSH socket with room for one ring: ringing never blocks, and a ring while one is
/// pending is dropped (the relay will look anyway). One per writing thread.
class OutboxDoorbell {
 public:
  /// @brief Connects to `endpoint` (OutboxRelay::doorbell_endpoint()) in the relay's `context`.
  OutboxDoorbell(zmq::context_t& context, const std::string& endpoint);

  /// @brief Wakes the relay; never blocks, never throws.
  void ring() noexcept;

 private:
  zmq::socket_t socket_;
};

}  // namespace eda::saga
