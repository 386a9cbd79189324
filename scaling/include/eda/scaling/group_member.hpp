/// @file group_member.hpp
/// @brief One Billing instance in the partitioned consumer group: joins through the
///        coordinator service, processes the partitions it owns in order from the partition
///        log, charges the gateway idempotently, commits checkpoints, and hands partitions over
///        when told to.
///
/// @par One loop, one thread
/// A member is a single loop: read what the coordinator sent, heartbeat when due, then apply
/// up to `turn` events of the next partition it owns (round robin), commit when due, and again.
/// A partition's events are therefore applied one after the other, in log order, which is what
/// keeps each order's events in order. Between two turns the member listens to the
/// coordinator, so a revocation waits at most one turn: the member then commits the
/// partition's position and confirms (`group.revoked` with the checkpoint).
///
/// @par Turns, reads and commits: three sizes, three jobs
/// Three things a member could do "per batch" are kept apart, because each wants another size:
/// - a **turn** (`turn`, default 1 event) is what one partition gets before the next one's turn.
///   Small turns are fairness: a partition handed over with a second of backlog (its owner was
///   SIGKILLed) takes one event in turn with the member's own partitions instead of holding them
///   up for a whole batch, and a revocation waits for one event, not a batch;
/// - a **read** (`fetch`, default 32 events) is how many events of one partition are taken from
///   the log at once and kept for that partition's next turns: a log query per 32 events, not per
///   event (what is kept is dropped when the partition is revoked: its position counts only what
///   was applied);
/// - a **commit** (every `commit_every` events or `commit_interval`) writes the positions of
///   every partition that moved, in one transaction: its cost is spread over all of them.
///
/// @par Checkpoints
/// The member commits the position of each partition it owns (the offset of the next event to
/// process) to the CheckpointStore itself, fenced with its member id and generation. When one
/// partition is due (`commit_every` events or `commit_interval` since its last commit), every
/// partition that moved is committed with it. A commit the fence refuses (NotOwner,
/// StaleGeneration) means the partition has moved on without it (it was declared dead while it
/// was slow: a zombie): it drops that partition at once. When a partition is granted, the
/// member starts it from the committed offset: the events after the last commit of the old
/// owner are delivered again, and the gateway, keyed by event id, does not charge them twice.
///
/// @par Poison events
/// An event whose charge the gateway declines is retried after a backoff that doubles from
/// `first_backoff` up to `max_backoff`, at most `max_attempts` times in all; then it is handed to
/// the dead-letter sink and the partition moves on. While it waits, the member's other
/// partitions keep flowing: only the poison event's partition (and so its orders) is held up.
/// An event that does not even decode is dead-lettered at once (retrying cannot help).
///
/// @par When the coordinator is away
/// The member keeps processing what it owns and keeps heartbeating; when a coordinator answers
/// `unknown_member` (it restarted, or it declared this member dead), the member commits and
/// drops every partition and joins again.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include <zmq.hpp>

#include "eda/dead_letter.hpp"
#include "eda/scaling/assignment.hpp"
#include "eda/scaling/partitioner.hpp"

namespace eda::scaling {

/// @brief How a member runs.
struct MemberOptions {
  std::string coordinator;             ///< The coordinator service's endpoint.
  std::string name = "billing";        ///< Its name at join (its id will be `name-N`).
  std::string group = "billing";       ///< The group's name in the checkpoint store.
  std::string log_path;                ///< The PartitionLog's file.
  std::string checkpoint_path;         ///< The CheckpointStore's file.
  std::string gateway_path;            ///< The BillingGateway's file.
  /// @brief The GatewayService's endpoint; when set, charges go there (gateway_path unused).
  std::string gateway_endpoint;
  std::uint32_t partition_count = 16;  ///< Partitions of the log and the group.
  /// @brief Time per gateway call (about 1 ms in the demo; 0 in tests).
  std::chrono::microseconds gateway_call_time{0};
  /// @brief Interval between heartbeats: well under the coordinator's session timeout.
  std::chrono::milliseconds heartbeat_interval{100};
  /// @brief How long a join may go unanswered before it is sent again (about a session timeout;
  ///        a restarted coordinator holds joins that long).
  std::chrono::milliseconds join_retry{2000};
  /// @brief Events of one partition applied per turn, before the member listens to the
  ///        coordinator and moves on to its next partition (at least 1).
  std::size_t turn = 1;
  /// @brief Events of one partition read from the log at once and kept for its next turns
  ///        (at least 1).
  std::size_t fetch = 32;
  std::uint64_t commit_every = 100;                ///< Commit when a partition moved this many
                                                   ///< events...
  std::chrono::milliseconds commit_interval{100};  ///< ...or this long after its last commit.
  int max_attempts = 4;  ///< Charges of a poison event before it is dead-lettered.
  std::chrono::milliseconds first_backoff{10};  ///< Wait before the first retry (then doubled).
  std::chrono::milliseconds max_backoff{200};   ///< The longest wait between two attempts.
  std::chrono::milliseconds idle_wait{5};  ///< Wait for the coordinator when there is no event.
  /// @brief Whether charges carry the event id as idempotency key. Only a test turns it off, to
  ///        show that the double-charge check then finds the re-delivered events.
  bool idempotent = true;
  /// @brief Where poison and undecodable events go (nothing: they are only counted).
  std::shared_ptr<DeadLetterSink> dead_letters;
  /// @brief Called on the member's thread after each event the gateway charged (not for a
  ///        re-delivery it had charged before, nor for a dead letter), with the member's id, the
  ///        partition and the event's envelope: e.g. to announce the charge for a tracer. Empty
  ///        (the default): nothing is called. It must not throw (an exception ends run()).
  std::function<void(const MemberId& member, PartitionId partition, std::string_view envelope)>
      on_charged;
};

/// @brief What a member has done, as a copy taken between two turns of its loop.
struct MemberStatus {
  MemberId member_id;              ///< Its id (empty until it has joined).
  std::uint64_t generation = 0;    ///< The newest generation it was told.
  std::vector<PartitionId> owned;  ///< The partitions it processes now.
  /// @brief Events behind, per partition it owns (log end − its position), as last measured.
  std::map<PartitionId, std::uint64_t> lag;
  std::uint64_t processed = 0;        ///< Events done (charged, already charged or dead-lettered).
  std::uint64_t charged = 0;          ///< Charges the gateway recorded.
  std::uint64_t already_charged = 0;  ///< Re-delivered events the gateway had charged before.
  std::uint64_t retries = 0;          ///< Failed attempts that were retried after a backoff.
  std::uint64_t dead_lettered = 0;    ///< Events handed to the dead-letter sink.
  std::uint64_t commits = 0;          ///< Checkpoint commits accepted.
  std::uint64_t commits_fenced = 0;   ///< Commits the fence refused (the partition dropped).
  std::uint64_t joins = 0;            ///< Joins answered (1, plus one per rejoin).
  std::uint64_t refusals = 0;         ///< Refusals the coordinator sent, messages that did not
                                      ///< decode, and grants of partitions the group does not
                                      ///< have (the last two ignored).
  std::uint64_t partitions_started = 0;  ///< Partitions started from a checkpoint.
  std::uint64_t partitions_revoked = 0;  ///< Partitions handed over on request.
};

/// @brief A member of the group (see the file's description).
///
/// @par Example
/// @code
/// eda::scaling::GroupMember member(context, options);
/// std::jthread worker([&](std::stop_token stop) { member.run(stop); });
/// // ... member.status().owned, member.status().lag ...
/// worker.request_stop();  // run() commits, leaves the group and returns
/// @endcode
///
/// @par Thread safety
/// run() on one thread; status() from any thread.
class GroupMember {
 public:
  /// @brief A member that will use `context` (which must outlive it); opens nothing yet.
  ///        Throws std::invalid_argument when `turn` or `fetch` is 0 (nothing would ever be
  ///        processed).
  GroupMember(zmq::context_t& context, MemberOptions options);
  ~GroupMember();
  GroupMember(const GroupMember&) = delete;
  GroupMember& operator=(const GroupMember&) = delete;

  /// @brief Joins and works until `stop` is requested, then commits its positions, leaves the
  ///        group and returns. Throws eda::StorageError when a file cannot be opened or used.
  void run(const std::stop_token& stop);

  /// @brief A copy of what it has done so far.
  [[nodiscard]] MemberStatus status() const;

 private:
  class Loop;  // the loop's state, built and used by run()

  zmq::context_t& context_;
  MemberOptions options_;
  mutable std::mutex mutex_;
  MemberStatus status_;
};

}  // namespace eda::scaling
