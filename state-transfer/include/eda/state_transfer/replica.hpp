/// @file replica.hpp
/// @brief A Replica: a consumer's local copy of the customer records, kept current by the fat
///        events and repaired by snapshots (the ZeroMQ Guide's Clone pattern).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <stop_token>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <zmq.hpp>

#include "eda/clock.hpp"
#include "eda/dead_letter.hpp"
#include "eda/pubsub.hpp"
#include "eda/state_transfer/customer.hpp"

namespace eda::state_transfer {

/// @brief Where a replica stands with its source.
enum class ReplicaState {
  waiting_for_source,  ///< Not synchronised yet: waiting for the source to answer at all.
  live,                ///< Synchronised and following the updates.
  source_silent,       ///< The source said nothing for too long: answers may be stale.
};

/// @brief `"waiting for source"`, `"live"` or `"source silent"`.
std::string_view to_string(ReplicaState state) noexcept;

/// @brief Why a replica fetched a snapshot.
enum class SyncReason {
  first_sync,         ///< It had no data yet.
  gap,                ///< Updates were lost (a sequence number was skipped).
  source_back,        ///< The source was silent and spoke again.
  source_restarted,   ///< A new run of the source (another incarnation) is publishing.
  unreadable_update,  ///< An update could not be applied (dead-lettered).
};

/// @brief A short phrase for `reason`, e.g. `"updates were lost"`.
std::string_view to_string(SyncReason reason) noexcept;

/// @brief Why an attempt to fetch a snapshot failed (the replica backs off and tries again).
struct SnapshotFailure {
  /// @brief What went wrong.
  enum class Reason {
    not_connected,  ///< The request could not be sent: no connection to the source yet.
    no_answer,      ///< No answer (or no next part) within ReplicaOptions::snapshot_timeout.
    refused,        ///< The source refused the request (its reason is in `detail`).
    malformed,      ///< A reply was not a valid snapshot message (a wire fault).
    incomplete,     ///< The end announced a different number of records than arrived.
  };
  Reason reason = Reason::no_answer;  ///< What went wrong.
  std::string detail;                 ///< The same in words, for reports.
};

/// @brief `"not connected"`, `"no answer"`, `"refused"`, `"malformed"` or `"incomplete"`.
std::string_view to_string(SnapshotFailure::Reason reason) noexcept;

/// @brief How a Replica is set up.
struct ReplicaOptions {
  std::string name = "replica";     ///< Names this replica in requests, reports, dead letters.
  std::string updates_endpoint{};   ///< The source's update publisher (PUB).
  std::string snapshot_endpoint{};  ///< The source's snapshot server (ROUTER).
  /// No message at all (not even a heartbeat) for this long: the source counts as silent.
  std::chrono::milliseconds silence_timeout{1000};
  /// The longest wait for the next message of a snapshot before the attempt is abandoned.
  std::chrono::milliseconds snapshot_timeout{2000};
  int receive_high_water_mark = 100'000;  ///< Updates queued before new ones drop (a gap).
  /// ZMTP heartbeats on the connections to the source (updates and snapshots): a source that
  /// stops answering (frozen, its host gone) has its connection closed and reconnected, and
  /// the replica says so. (Silence is noticed sooner, by `silence_timeout`.)
  Heartbeat heartbeat{};
  /// Plaintext (the default) or CURVE on both connections (the replica connects: a CURVE
  /// client, CurveSetup::client()).
  Security security{};
  std::int64_t max_message_bytes = 64 << 20;  ///< Larger messages drop the connection.
  DeadLetterSink* dead_letters = nullptr;     ///< Where bad messages go (default: own box).
  /// Called (on the pumping thread) with one line whenever the replica does something a
  /// person watching should know: synchronised, detected a gap, lost or regained the source.
  std::function<void(std::string_view)> report{};
  /// Called (on the pumping thread) after each update, tombstone or heartbeat is applied in
  /// order, with its metadata: for measuring the update-to-replica lag, or for tracing.
  std::function<void(const EventMetadata&)> applied{};
};

/// @brief Counters a Replica keeps.
struct ReplicaStats {
  std::uint64_t snapshots = 0;                 ///< Snapshots applied (first sync included).
  std::uint64_t snapshot_records = 0;          ///< Records received in snapshots, in total.
  std::uint64_t failed_snapshots = 0;          ///< Snapshot attempts that timed out or were bad.
  std::uint64_t resyncs_after_gap = 0;         ///< Re-synchronisations caused by lost updates.
  std::uint64_t resyncs_after_silence = 0;     ///< ... by the source coming back.
  std::uint64_t resyncs_after_restart = 0;     ///< ... by a restarted source.
  std::uint64_t resyncs_after_bad_update = 0;  ///< ... by an update that could not be applied.
  std::uint64_t updates = 0;                   ///< CustomerUpdated events applied.
  std::uint64_t removals = 0;                  ///< CustomerRemoved tombstones applied.
  std::uint64_t heartbeats = 0;                ///< Heartbeats received in order.
  std::uint64_t stale_skipped = 0;     ///< Messages at or below the current sequence, skipped.
  std::uint64_t missed = 0;            ///< Sequence numbers lost in gaps, in total.
  std::uint64_t dead_letters = 0;      ///< Messages dead-lettered (undecodable or unappliable).
  std::uint64_t silences = 0;          ///< Times the source fell silent.
  std::uint64_t connections_lost = 0;  ///< Connections to the source closed (heartbeats, network).
};

/// @brief One answer from a replica: the record (if any) and how current the answer is.
struct CustomerView {
  std::optional<Customer> customer;       ///< The record, or nothing when the replica has none.
  std::uint64_t sequence = 0;             ///< The source's sequence this answer reflects.
  std::chrono::nanoseconds staleness{0};  ///< Time since the replica last knew it was current.
  ReplicaState state = ReplicaState::waiting_for_source;  ///< Where the replica stood.
};

/// @brief Where a replica stands, as a whole.
struct ReplicaStatus {
  ReplicaState state = ReplicaState::waiting_for_source;  ///< Synchronised or not.
  std::uint64_t sequence = 0;                             ///< The sequence the records reflect.
  std::size_t records = 0;                                ///< How many records it holds.
  std::chrono::nanoseconds staleness{0};  ///< Time since it last knew it was current.
  Incarnation incarnation = 0;            ///< The source run it follows (0: none yet).
};

/// @brief A local, read-only copy of the Customer service's records.
///
/// It follows the Clone pattern: subscribe to the updates first, then ask for a snapshot;
/// while the snapshot arrives, updates wait in the subscription's queue; apply the snapshot,
/// skip queued updates at or below the snapshot's sequence (they are already in it), and
/// apply the rest in order. From then on every update must be exactly the next sequence
/// number. When one is missing (a high-water mark overflowed, a message was lost), the replica
/// fetches a fresh snapshot by itself. Heartbeats tell it the source is alive; when they stop,
/// it keeps answering from what it has and says how stale that is; when the source speaks
/// again it re-synchronises.
///
/// @par Example
/// @code
/// eda::state_transfer::Replica replica(context, {.updates_endpoint = updates,
///                                                .snapshot_endpoint = snapshots});
/// std::jthread follower([&](std::stop_token stop) { replica.run(stop); });
/// auto view = replica.lookup(42);   // from any thread: a local read, no network
/// if (view.customer) ship_to(address_label(*view.customer));
/// @endcode
///
/// @par Thread safety
/// One thread pumps (pump() or run()); any number of threads may read at the same time
/// (lookup(), read(), status(), await_sequence(), stats()). Readers never wait for the
/// network: a snapshot is built aside and swapped in at once.
class Replica {
 public:
  /// @brief Connects to both endpoints and subscribes; throws std::invalid_argument for bad
  ///        options. Nothing waits here: the first pump() calls start the synchronisation.
  Replica(zmq::context_t& context, ReplicaOptions options);
  ~Replica();
  Replica(const Replica&) = delete;             ///< Owns sockets: not copyable.
  Replica& operator=(const Replica&) = delete;  ///< Owns sockets: not copyable.

  /// @brief Does the replica's work for up to `wait`: finishes the handshake, synchronises,
  ///        applies updates, notices gaps and silence. A re-synchronisation in progress may
  ///        take longer (each snapshot message is awaited up to `snapshot_timeout`).
  void pump(std::chrono::milliseconds wait);

  /// @brief Pumps until `stop` is requested (checked at least every `tick`).
  void run(const std::stop_token& stop,
           std::chrono::milliseconds tick = std::chrono::milliseconds(50));

  /// @brief The record with `id`, with the sequence and staleness of the answer. A local
  ///        read: no network, no waiting for the source, whether it is up or not.
  [[nodiscard]] CustomerView lookup(CustomerId id) const;

  /// @brief Calls `reader(records, sequence)` with a consistent view: every record it sees
  ///        reflects the same sequence. Keep it short: updates wait while it runs.
  template <class Reader>
  decltype(auto) read(Reader&& reader) const {
    std::shared_lock lock(mutex_);
    return std::forward<Reader>(reader)(static_cast<const CustomerTable&>(records_), sequence_);
  }

  /// @brief Calls `reader(record, view)` with the record with `id` (nullptr when there is
  ///        none) and how current it is (`view.customer` stays empty), under the read lock:
  ///        for a reader that needs a few fields, without copying the whole record.
  template <class Reader>
  decltype(auto) read_record(CustomerId id, Reader&& reader) const {
    std::shared_lock lock(mutex_);
    const auto it = records_.find(id);
    return std::forward<Reader>(reader)(it == records_.end() ? nullptr : &it->second,
                                        view_at(monotonic_ns()));
  }

  /// @brief Waits until the records reflect at least `sequence` (e.g. the number an upsert
  ///        returned: read-your-writes); false if `timeout` passed first.
  ///
  /// Sequence numbers of different runs of the source cannot be compared (a restarted source
  /// counts from 1 again): pass the source's `incarnation` (CustomerService::incarnation())
  /// to also wait until the replica follows that run.
  bool await_sequence(std::uint64_t sequence, std::chrono::milliseconds timeout,
                      Incarnation incarnation = 0) const;

  /// @brief Waits until the replica is in `state` (e.g. `source_silent` after its source
  ///        stopped); false if `timeout` passed first.
  bool await_state(ReplicaState state, std::chrono::milliseconds timeout) const;

  /// @brief Where the replica stands.
  [[nodiscard]] ReplicaStatus status() const;

  /// @brief A copy of the counters.
  [[nodiscard]] ReplicaStats stats() const;

  /// @brief Why the last snapshot attempt failed; nothing when it succeeded (or none failed).
  [[nodiscard]] std::optional<SnapshotFailure> last_snapshot_failure() const;

  /// @brief A copy of all records (for comparisons; large).
  [[nodiscard]] CustomerTable copy() const;

  /// @brief The dead-letter sink in use.
  [[nodiscard]] DeadLetterSink& dead_letters() noexcept { return inbox_.dead_letters(); }

  /// @brief The replica's name.
  [[nodiscard]] const std::string& name() const noexcept { return options_.name; }

 private:
  [[nodiscard]] CustomerView view_at(std::int64_t now_ns) const;  // mutex_ held
  struct Change;
  static Change read_change(const DecodedEvent& event);
  void pump_once(std::chrono::milliseconds wait);
  void handle(const DecodedEvent& event);
  void apply_in_order(const EventMetadata& meta, Change change);
  void synchronise(SyncReason reason);
  /// A complete snapshot as received.
  struct FetchedSnapshot {
    CustomerTable records;
    std::uint64_t sequence = 0;
    Incarnation incarnation = 0;
    std::string source;
  };
  std::variant<FetchedSnapshot, SnapshotFailure> fetch_snapshot();
  void open_snapshot_socket();
  void dead_letter(const DecodedEvent& event, WireFault fault, const std::string& why);
  void notice_silence();
  void notice_lost_connection();
  void say(const std::string& line) const;
  void publish_progress();
  bool await_progress(const std::function<bool()>& reached,
                      std::chrono::milliseconds timeout) const;

  ReplicaOptions options_;
  zmq::context_t& context_;
  Subscriber inbox_;
  zmq::socket_t snapshot_socket_;
  std::vector<zmq::message_t> frames_{};
  std::int64_t last_heard_ns_ = 0;             // monotonic time of the last message from the source
  std::int64_t last_connection_check_ns_ = 0;  // throttles notice_lost_connection()
  std::uint64_t disconnects_seen_ = 0;         // the inbox's disconnects already reported
  std::string source_{};                 // the source name its updates carry (from the snapshot)
  std::uint64_t dead_letters_seen_ = 0;  // the subscriber's malformed count, last copied
  std::int64_t retry_delay_ns_ = 0;      // after a failed snapshot: how long to wait, doubling
  std::int64_t next_attempt_ns_ = 0;     // no snapshot attempt before this monotonic time

  // Shared with readers, guarded by mutex_.
  mutable std::shared_mutex mutex_;
  CustomerTable records_{};
  std::uint64_t sequence_ = 0;
  Incarnation incarnation_ = 0;
  ReplicaState state_ = ReplicaState::waiting_for_source;
  std::int64_t current_as_of_ns_ = 0;  // monotonic time the replica last knew it was current
  ReplicaStats stats_{};
  std::optional<SnapshotFailure> last_snapshot_failure_{};

  // Lets await_sequence() sleep; updates notify only when someone waits.
  mutable std::mutex progress_mutex_;
  mutable std::condition_variable progress_;
  mutable std::atomic<int> waiters_{0};
};

}  // namespace eda::state_transfer
