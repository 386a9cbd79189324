// The coordinator service: the GroupCoordinator state machine behind a ROUTER socket, with
// the checkpoint store's fence applied before any member hears of a grant.
#include "eda/scaling/coordinator_service.hpp"

#include <algorithm>
#include <set>
#include <utility>

#include "eda/clock.hpp"
#include "eda/endpoint.hpp"
#include "eda/overloaded.hpp"
#include "eda/scaling/group_socket.hpp"
#include "eda/wire.hpp"

namespace eda::scaling {
namespace {

GroupTime now() { return GroupTime(monotonic_ns()); }

/// The highest generation the store has recorded for `group`: a restarted coordinator starts
/// above it.
std::uint64_t highest_generation(const CheckpointStore& store, const std::string& group) {
  std::uint64_t highest = 0;
  for (const PartitionCheckpoint& checkpoint : store.read_all(group)) {
    highest = std::max(highest, checkpoint.generation);
  }
  return highest;
}

GroupRefused refusal(std::string reason, std::string_view detail) {
  return GroupRefused{std::move(reason), std::string(detail.substr(0, max_refusal_detail_bytes))};
}

}  // namespace

class CoordinatorService::Loop {
 public:
  Loop(zmq::context_t& context, CoordinatorServiceOptions options)
      : options_(std::move(options)),
        store_(registered(options_)),
        restarted_(highest_generation(*store_, options_.group) > 0),
        group_(with_floor(options_.group_options, highest_generation(*store_, options_.group))),
        socket_(context, zmq::socket_type::router) {
    socket_.set(zmq::sockopt::linger, 0);
    endpoint_ = connectable_endpoint(bind_endpoint(socket_, options_.endpoint));
    if (restarted_) admit_joins_at_ = now() + options_.group_options.session_timeout;
  }

  [[nodiscard]] const std::string& endpoint() const noexcept { return endpoint_; }

  /// Serves until `stop` is requested, publishing its status through `publish`.
  template <class Publish>
  void run(const std::stop_token& stop, const Publish& publish) {
    std::vector<zmq::message_t> frames;
    publish(status());
    while (!stop.stop_requested()) {
      if (wait_readable(socket_, wait_time())) {
        // Take every message already queued before looking at the clock again.
        while (const std::size_t count =
                   receive_frames(socket_, frames, 4, zmq::recv_flags::dontwait)) {
          handle(frames, count);
        }
      }
      const std::uint64_t before = group_.generation();
      group_.expire(now());
      admit_held_joins();
      tell_members(before, {});
      publish(status());
    }
  }

 private:
  static std::unique_ptr<CheckpointStore> registered(const CoordinatorServiceOptions& options) {
    auto store = std::make_unique<CheckpointStore>(options.checkpoint_path, options.durability);
    store->register_group(options.group, options.group_options.partition_count);
    return store;
  }
  static CoordinatorOptions with_floor(CoordinatorOptions options, std::uint64_t floor) {
    options.generation_floor = floor;
    return options;
  }

  /// How long to wait for a message: until the next member could be declared dead or held
  /// joins admitted, and never more than 50 ms (the stop flag is looked at in between).
  std::chrono::milliseconds wait_time() const {
    GroupTime until = now() + std::chrono::milliseconds(50);
    if (const auto expiry = group_.next_expiry()) until = std::min(until, *expiry);
    if (!held_joins_.empty()) until = std::min(until, admit_joins_at_);
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - now());
    return std::max(left, std::chrono::milliseconds(0));
  }

  void handle(const std::vector<zmq::message_t>& frames, std::size_t count) {
    ++messages_;
    if (count == 0 || frames.empty()) return;
    const std::string routing_id(view_of(frames[0]));
    if (count != 3) {
      ++malformed_;
      answer(routing_id,
             refusal("malformed_message", "a group message is two frames (kind, body), not " +
                                              std::to_string(count == 0 ? 0 : count - 1)));
      return;
    }
    const std::uint64_t before = group_.generation();
    std::optional<GroupMessage> reply;
    try {
      const GroupMessage message = decode_group_message(view_of(frames[1]), view_of(frames[2]));
      reply = serve(routing_id, message);
    } catch (const MalformedMessage& error) {
      ++malformed_;
      reply = refusal("malformed_message", error.what());
    } catch (const GroupRequestRefused& error) {
      ++refused_;
      reply = refusal(std::string(to_string(error.refusal())), error.what());
    }
    // The reply may announce grants: the store is fenced first (in tell_members).
    tell_members(before, routing_id, reply);
  }

  /// Applies one decoded message; returns the answer, if any.
  std::optional<GroupMessage> serve(const std::string& routing_id, const GroupMessage& message) {
    const GroupTime time = now();
    return std::visit(Overloaded{
                          [&](const JoinGroup& join) -> std::optional<GroupMessage> {
                            if (!held_joins_.empty() || time < admit_joins_at_) {
                              held_joins_.emplace_back(routing_id, join.name);
                              ++joins_held_;
                              return std::nullopt;
                            }
                            return admit(routing_id, join.name, time);
                          },
                          [&](const Heartbeat& beat) -> std::optional<GroupMessage> {
                            MemberAssignment assignment =
                                group_.heartbeat(beat.member_id, beat.generation, time);
                            routes_[beat.member_id] = routing_id;
                            return assignment;
                          },
                          [&](const RevokedPartitions& revoked) -> std::optional<GroupMessage> {
                            commit(revoked.member_id, revoked.generation, revoked.checkpoints);
                            std::vector<PartitionId> partitions;
                            for (const CheckpointEntry& entry : revoked.checkpoints) {
                              partitions.push_back(entry.first);
                            }
                            MemberAssignment assignment = group_.revoked(
                                revoked.member_id, revoked.generation, partitions, time);
                            routes_[revoked.member_id] = routing_id;
                            return assignment;
                          },
                          [&](const LeaveGroup& leave) -> std::optional<GroupMessage> {
                            commit(leave.member_id, leave.generation, leave.checkpoints);
                            group_.leave(leave.member_id, time);
                            routes_.erase(leave.member_id);
                            return std::nullopt;  // nobody is left to answer
                          },
                          [&](const auto&) -> std::optional<GroupMessage> {
                            ++malformed_;
                            return refusal("malformed_message",
                                           "members send join, heartbeat, revoked and leave; the "
                                           "coordinator's own messages are not requests");
                          },
                      },
                      message);
  }

  MemberAssignment admit(const std::string& routing_id, const std::string& name, GroupTime time) {
    MemberAssignment assignment = group_.join(name, time);
    routes_[assignment.member_id] = routing_id;
    return assignment;
  }

  /// Commits a revocation's or a leave's checkpoints; a refusal (the partition moved on, or
  /// the sender never had it) is counted, and the message is still applied. So is a store that
  /// fails (a file error): the new owner then resumes from an earlier checkpoint, and the
  /// gateway's idempotency absorbs the events delivered again.
  void commit(const MemberId& member, std::uint64_t generation,
              const std::vector<CheckpointEntry>& entries) {
    if (entries.empty()) return;
    try {
      store_->commit(options_.group, member, generation, checkpoints_of(entries));
    } catch (const Error&) {
      ++checkpoints_refused_;
    }
  }

  void admit_held_joins() {
    if (held_joins_.empty() || now() < admit_joins_at_) return;
    const auto held = std::exchange(held_joins_, {});
    for (const auto& [routing_id, name] : held) {
      const std::uint64_t before = group_.generation();
      std::optional<GroupMessage> reply;
      try {
        reply = admit(routing_id, name, now());
      } catch (const GroupRequestRefused& error) {
        ++refused_;
        reply = refusal(std::string(to_string(error.refusal())), error.what());
      }
      tell_members(before, routing_id, reply);
    }
  }

  /// Fences the store for every grant made since the last call, then sends `reply` to
  /// `routing_id`, then tells every other member concerned: all of them after a new generation,
  /// the granted ones otherwise.
  void tell_members(std::uint64_t generation_before, const std::string& routing_id,
                    const std::optional<GroupMessage>& reply = std::nullopt) {
    std::set<MemberId> granted;
    for (const Grant& grant : group_.take_grants()) {
      try {
        store_->fence(options_.group, grant.member, grant.generation, {grant.partition});
      } catch (const Error&) {
        // Counted, never thrown out of the serving loop: the new owner's commits will be
        // refused (it is not the fenced owner) and it drops the partition, which stalls until
        // the next rebalance; fences_failed says so.
        ++fences_failed_;
      }
      granted.insert(grant.member);
    }
    if (reply) answer(routing_id, *reply);
    const bool new_generation = group_.generation() != generation_before;
    for (const MemberId& member : group_.members()) {
      if (!new_generation && granted.count(member) == 0) continue;
      const auto route = routes_.find(member);
      if (route == routes_.end() || route->second == routing_id) continue;  // answered already
      answer(route->second, group_.assignment_of(member));
    }
  }

  void answer(const std::string& routing_id, const GroupMessage& message) {
    // A member that has gone away cannot be reached; the protocol does not depend on this
    // message arriving (the next heartbeat's answer carries the same news).
    (void)send_group_message(socket_, message, routing_id);
  }

  [[nodiscard]] CoordinatorServiceStatus status() const {
    CoordinatorServiceStatus status;
    status.group = group_.counters();
    status.generation = group_.generation();
    status.members = group_.members();
    status.owners = group_.owners();
    status.messages = messages_;
    status.malformed = malformed_;
    status.refused = refused_;
    status.checkpoints_refused = checkpoints_refused_;
    status.fences_failed = fences_failed_;
    status.joins_held = joins_held_;
    status.restarted = restarted_;
    return status;
  }

  CoordinatorServiceOptions options_;
  std::unique_ptr<CheckpointStore> store_;
  bool restarted_;
  GroupCoordinator group_;
  zmq::socket_t socket_;
  std::string endpoint_;
  std::map<MemberId, std::string> routes_;  // member id -> its DEALER's routing id
  GroupTime admit_joins_at_{};
  std::vector<std::pair<std::string, std::string>> held_joins_;  // routing id, name
  std::uint64_t messages_ = 0;
  std::uint64_t malformed_ = 0;
  std::uint64_t refused_ = 0;
  std::uint64_t checkpoints_refused_ = 0;
  std::uint64_t fences_failed_ = 0;
  std::uint64_t joins_held_ = 0;
};

CoordinatorService::CoordinatorService(zmq::context_t& context, CoordinatorServiceOptions options)
    : loop_(std::make_unique<Loop>(context, std::move(options))) {
  endpoint_ = loop_->endpoint();
  thread_ = std::jthread([this](const std::stop_token& stop) {
    loop_->run(stop, [this](CoordinatorServiceStatus status) {
      const std::lock_guard lock(mutex_);
      status_ = std::move(status);
    });
  });
}

CoordinatorService::~CoordinatorService() { stop(); }

CoordinatorServiceStatus CoordinatorService::status() const {
  const std::lock_guard lock(mutex_);
  return status_;
}

void CoordinatorService::stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
  loop_.reset();
}

}  // namespace eda::scaling
