// A member of the partitioned consumer group: one loop that listens to the coordinator,
// heartbeats, and processes its partitions in order with checkpoints, retries and dead letters.
#include "eda/scaling/group_member.hpp"

#include <algorithm>
#include <deque>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <utility>

#include "eda/clock.hpp"
#include "eda/endpoint.hpp"
#include "eda/overloaded.hpp"
#include "eda/scaling/billing.hpp"
#include "eda/scaling/checkpoint_store.hpp"
#include "eda/scaling/gateway_service.hpp"
#include "eda/scaling/group_socket.hpp"
#include "eda/scaling/partition_log.hpp"
#include "eda/wire.hpp"

namespace eda::scaling {
namespace {

using Clock = std::chrono::steady_clock;

/// How far one owned partition has got.
struct PartitionState {
  std::uint64_t position = 0;   // the offset of the next event to process
  std::uint64_t committed = 0;  // the offset last committed
  Clock::time_point committed_at{};
  int attempts = 0;              // failed attempts at the event at `position`
  Clock::time_point retry_at{};  // when a poison event may be tried again
  std::uint64_t log_end = 0;     // the log's end when last read (for lag)
  // Events read from the log and not applied yet, from `position` on: the next turns' events.
  std::deque<LoggedEvent> read_ahead;
};

}  // namespace

class GroupMember::Loop {
 public:
  Loop(zmq::context_t& context, const MemberOptions& options)
      : options_(options),
        log_(options.log_path, options.partition_count),
        store_(options.checkpoint_path, sqlite::Durability::normal),
        gateway_(open_gateway(context, options.gateway_path, options.gateway_endpoint,
                              options.gateway_call_time)),
        socket_(context, zmq::socket_type::dealer) {
    socket_.set(zmq::sockopt::linger, 1000);  // a leave still goes out after stop
    // Queue nothing for a coordinator that is not there: a heartbeat is worth sending only
    // now, and a restarted coordinator must not receive a backlog of stale ones.
    socket_.set(zmq::sockopt::immediate, 1);
    connect_endpoint(socket_, options.coordinator);
  }

  template <class Publish>
  void run(const std::stop_token& stop, const Publish& publish) {
    join();
    std::vector<zmq::message_t> frames;
    Clock::time_point published{};
    while (!stop.stop_requested()) {
      while (const std::size_t count =
                 receive_frames(socket_, frames, 3, zmq::recv_flags::dontwait)) {
        if (count == 2) {
          on_message(frames);
        } else {
          ++status_.refusals;  // not a group message: ignored
        }
      }
      keep_in_touch();
      // Idle (waiting on the socket) only once every owned partition came up empty in turn.
      empty_turns_ = work_one_partition() ? 0 : empty_turns_ + 1;
      commit_due(false);
      const auto time = Clock::now();
      if (time - published >= std::chrono::milliseconds(20)) {
        measure_lag();
        publish(status_);
        published = time;
      }
      if (empty_turns_ >= std::max<std::size_t>(owned_.size(), 1)) {
        (void)wait_readable(socket_, options_.idle_wait);
        empty_turns_ = 0;
      }
    }
    leave();
    publish(status_);
  }

 private:
  // --- the group protocol ---------------------------------------------------------------

  void join() {
    member_id_.clear();
    joining_since_ = Clock::now();
    // Not queued while the connection is not up yet (ZMQ_IMMEDIATE): tried again each turn.
    join_sent_ = send_group_message(socket_, JoinGroup{options_.name});
  }

  void keep_in_touch() {
    const auto time = Clock::now();
    if (member_id_.empty()) {
      // Sent again when it could not be sent, or was sent but not answered in time (lost with
      // a coordinator that went away, or held by one that restarted: answered later anyway).
      if (!join_sent_ || time - joining_since_ >= options_.join_retry) join();
      return;
    }
    if (time - heartbeat_at_ >= options_.heartbeat_interval) {
      heartbeat_at_ = time;
      (void)send_group_message(socket_, Heartbeat{member_id_, generation_});
    }
  }

  void on_message(const std::vector<zmq::message_t>& frames) {
    GroupMessage message;
    try {
      message = decode_group_message(view_of(frames[0]), view_of(frames[1]));
    } catch (const MalformedMessage&) {
      ++status_.refusals;  // not from a coordinator of ours: ignored
      return;
    }
    std::visit(Overloaded{
                   [&](const MemberAssignment& assignment) { on_assignment(assignment); },
                   [&](const RevokeRequest& request) {
                     if (!member_id_.empty()) revoke(request.partitions);
                   },
                   [&](const GroupRefused& refused) { on_refused(refused); },
                   [&](const auto&) { ++status_.refusals; },
               },
               message);
  }

  void on_assignment(const MemberAssignment& assignment) {
    if (member_id_.empty()) {
      member_id_ = assignment.member_id;  // the answer to our join
      status_.member_id = member_id_;
      ++status_.joins;
      heartbeat_at_ = Clock::now();
    } else if (assignment.member_id != member_id_) {
      return;  // meant for an earlier identity of ours
    }
    generation_ = std::max(generation_, assignment.generation);
    status_.generation = generation_;
    revoke(assignment.revoke);
    const std::vector<PartitionId>& revoking = assignment.revoke;
    for (const PartitionId p : assignment.owned) {
      if (!owned_.contains(p) && std::find(revoking.begin(), revoking.end(), p) == revoking.end()) {
        start(p);
      }
    }
    // A partition the coordinator no longer lists as ours was taken from us (we were declared
    // dead and are known again under this id only by chance): stop it without a word.
    for (auto it = owned_.begin(); it != owned_.end();) {
      const bool listed = std::find(assignment.owned.begin(), assignment.owned.end(), it->first) !=
                          assignment.owned.end();
      it = listed ? std::next(it) : owned_.erase(it);
    }
    refresh_owned();
  }

  void on_refused(const GroupRefused& refused) {
    ++status_.refusals;
    const bool forgotten =
        refused.reason == "unknown_member" || refused.reason == "stale_generation";
    // While joining, refusals of the heartbeats sent before are expected: ignore them.
    if (!forgotten || member_id_.empty()) return;
    // The coordinator does not know us (it restarted, or declared us dead): finish and commit
    // what we have, drop it, and join again.
    commit_due(true);
    owned_.clear();
    refresh_owned();
    join();
  }

  /// Stops the partitions in `partitions` that we own, commits them and confirms.
  void revoke(const std::vector<PartitionId>& partitions) {
    std::vector<CheckpointEntry> given_up;
    for (const PartitionId p : partitions) {
      const auto found = owned_.find(p);
      if (found == owned_.end()) continue;
      given_up.emplace_back(p, found->second.position);
    }
    if (given_up.empty()) return;
    commit_due(true);  // our own commit; the coordinator commits the confirmation's too
    for (const auto& entry : given_up) owned_.erase(entry.first);
    status_.partitions_revoked += given_up.size();
    refresh_owned();
    (void)send_group_message(socket_, RevokedPartitions{member_id_, generation_, given_up});
  }

  void leave() {
    if (member_id_.empty()) return;
    commit_due(true);
    std::vector<CheckpointEntry> last;
    for (const auto& [p, state] : owned_) last.emplace_back(p, state.position);
    (void)send_group_message(socket_, LeaveGroup{member_id_, generation_, last});
    owned_.clear();
    refresh_owned();
  }

  // --- the partitions -----------------------------------------------------------------------

  void start(PartitionId p) {
    PartitionState state;
    try {
      state.position = store_.read(options_.group, p).offset;
    } catch (const CheckpointRejected&) {
      ++status_.refusals;  // not a partition of this group: a coordinator of another set-up
      return;
    }
    state.committed = state.position;
    state.committed_at = Clock::now();
    owned_.emplace(p, state);
    ++status_.partitions_started;
  }

  /// Applies up to `turn` events of the next partition in turn, reading up to `fetch` of them
  /// from the log when none is left from an earlier read; false when it had none.
  bool work_one_partition() {
    if (owned_.empty()) return false;
    auto it = owned_.upper_bound(cursor_);
    if (it == owned_.end()) it = owned_.begin();
    cursor_ = it->first;
    PartitionState& state = it->second;
    if (state.attempts > 0 && Clock::now() < state.retry_at) return false;
    if (state.read_ahead.empty()) {
      auto events = log_.read(it->first, state.position, options_.fetch);
      state.read_ahead.assign(std::make_move_iterator(events.begin()),
                              std::make_move_iterator(events.end()));
    }
    std::size_t applied = 0;
    while (applied < options_.turn && !state.read_ahead.empty()) {
      if (!process(it->first, state, state.read_ahead.front())) return true;  // waiting to retry
      state.read_ahead.pop_front();
      ++applied;
    }
    return applied > 0;
  }

  /// Applies one event; false when it failed and will be retried later.
  bool process(PartitionId p, PartitionState& state, const LoggedEvent& event) {
    bool charged_now = false;
    try {
      const BillingOutcome outcome =
          bill(*gateway_, event.envelope, member_id_, options_.idempotent);
      charged_now = outcome == BillingOutcome::charged;
      ++(charged_now ? status_.charged : status_.already_charged);
    } catch (const MalformedMessage& error) {
      dead_letter(p, event, error.fault(), error.what());  // no retry can make it decode
    } catch (const std::exception& error) {
      if (++state.attempts < options_.max_attempts) {
        ++status_.retries;
        state.retry_at = Clock::now() + backoff(state.attempts);
        return false;
      }
      dead_letter(p, event, WireFault::unprocessable, error.what());
    }
    // Outside the try: the hook's own failure must not pass for a declined charge and retry.
    if (charged_now && options_.on_charged) options_.on_charged(member_id_, p, event.envelope);
    state.attempts = 0;
    ++state.position;
    ++status_.processed;
    return true;
  }

  [[nodiscard]] std::chrono::milliseconds backoff(int failed_attempts) const {
    auto wait = options_.first_backoff;
    for (int i = 1; i < failed_attempts && wait < options_.max_backoff; ++i) wait *= 2;
    return std::min(wait, options_.max_backoff);
  }

  void dead_letter(PartitionId p, const LoggedEvent& event, WireFault fault,
                   const std::string& reason) {
    ++status_.dead_lettered;
    if (!options_.dead_letters) return;
    options_.dead_letters->put(DeadLetter{
        {event.envelope},
        fault,
        reason,
        member_id_ + " partition " + std::to_string(p) + " offset " + std::to_string(event.offset),
        wall_clock_ns()});
  }

  /// Commits every partition that moved, in one transaction, once one of them moved far enough
  /// or long enough ago (`all`: at once). A partition the fence refuses is dropped: it has moved
  /// on.
  void commit_due(bool all) {
    const auto time = Clock::now();
    std::vector<Checkpoint> due;
    bool one_due = all;
    for (const auto& [p, state] : owned_) {
      if (state.position == state.committed) continue;
      due.push_back(Checkpoint{p, state.position});
      one_due = one_due || state.position - state.committed >= options_.commit_every ||
                time - state.committed_at >= options_.commit_interval;
    }
    if (!one_due || due.empty() || member_id_.empty()) return;
    try {
      store_.commit(options_.group, member_id_, generation_, due);
      for (const Checkpoint& checkpoint : due) committed(checkpoint, time);
      ++status_.commits;
    } catch (const CheckpointRejected&) {
      // All or none: find out which partitions are still ours, one at a time.
      for (const Checkpoint& checkpoint : due) {
        try {
          store_.commit(options_.group, member_id_, generation_, {checkpoint});
          committed(checkpoint, time);
          ++status_.commits;
        } catch (const CheckpointRejected&) {
          ++status_.commits_fenced;
          owned_.erase(checkpoint.partition);
        }
      }
      refresh_owned();
    }
  }

  void committed(const Checkpoint& checkpoint, Clock::time_point time) {
    PartitionState& state = owned_.at(checkpoint.partition);
    state.committed = checkpoint.offset;
    state.committed_at = time;
  }

  void measure_lag() {
    status_.lag.clear();
    for (auto& [p, state] : owned_) {
      state.log_end = log_.end_offset(p);
      status_.lag[p] = state.log_end > state.position ? state.log_end - state.position : 0;
    }
  }

  void refresh_owned() {
    status_.owned.clear();
    for (const auto& entry : owned_) status_.owned.push_back(entry.first);
  }

  const MemberOptions& options_;
  MemberStatus status_;
  PartitionLog log_;
  CheckpointStore store_;
  std::unique_ptr<PaymentGateway> gateway_;
  zmq::socket_t socket_;
  MemberId member_id_;
  std::uint64_t generation_ = 0;
  Clock::time_point joining_since_{};
  bool join_sent_ = false;
  Clock::time_point heartbeat_at_{};
  std::map<PartitionId, PartitionState> owned_;
  PartitionId cursor_ = 0;
  std::size_t empty_turns_ = 0;  // partitions in a row that had no event to process
};

GroupMember::GroupMember(zmq::context_t& context, MemberOptions options)
    : context_(context), options_(std::move(options)) {
  if (options_.turn == 0 || options_.fetch == 0) {
    throw std::invalid_argument(
        "GroupMember: turn and fetch must be at least 1 event (turn " +
        std::to_string(options_.turn) + ", fetch " + std::to_string(options_.fetch) + ")");
  }
}

GroupMember::~GroupMember() = default;

void GroupMember::run(const std::stop_token& stop) {
  Loop loop(context_, options_);
  loop.run(stop, [this](const MemberStatus& status) {
    const std::lock_guard lock(mutex_);
    status_ = status;
  });
}

MemberStatus GroupMember::status() const {
  const std::lock_guard lock(mutex_);
  return status_;
}

}  // namespace eda::scaling
