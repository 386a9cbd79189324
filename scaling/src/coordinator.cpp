// The group coordinator's state machine: members, liveness, generations, and the cooperative
// handover of partitions (revoke first, then grant).
#include "eda/scaling/coordinator.hpp"

#include <algorithm>
#include <stdexcept>

namespace eda::scaling {
namespace {

bool valid_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

std::string quoted(std::string_view id) { return "'" + printable(id) + "'"; }

}  // namespace

bool is_valid_member_name(std::string_view name) noexcept {
  return !name.empty() && name.size() <= max_member_name_bytes &&
         std::all_of(name.begin(), name.end(), valid_name_char);
}

std::string_view to_string(GroupRefusal refusal) noexcept {
  switch (refusal) {
    case GroupRefusal::unknown_member:
      return "unknown_member";
    case GroupRefusal::stale_generation:
      return "stale_generation";
    case GroupRefusal::future_generation:
      return "future_generation";
    case GroupRefusal::invalid_name:
      return "invalid_name";
    case GroupRefusal::group_full:
      return "group_full";
  }
  return "unknown";
}

GroupRequestRefused::GroupRequestRefused(GroupRefusal refusal, const std::string& message)
    : Error(refusal == GroupRefusal::stale_generation ? ErrorCategory::conflict
                                                      : ErrorCategory::application,
            "group request refused (" + std::string(to_string(refusal)) + "): " + message),
      refusal_(refusal) {}

GroupCoordinator::GroupCoordinator(CoordinatorOptions options)
    : options_(options),
      generation_(options.generation_floor),
      joined_(options.generation_floor),
      owners_(options.partition_count),
      target_(options.partition_count),
      granted_in_(options.partition_count, 0) {
  check_partition_count(options.partition_count, "GroupCoordinator");
  if (options.session_timeout <= std::chrono::nanoseconds::zero()) {
    throw std::invalid_argument("GroupCoordinator: the session timeout must be positive, not " +
                                std::to_string(options.session_timeout.count()) + " ns");
  }
  if (options.max_members == 0) {
    throw std::invalid_argument("GroupCoordinator: max_members must be at least 1");
  }
}

GroupTime GroupCoordinator::advance(GroupTime now) noexcept {
  latest_ = std::max(latest_, now);
  return latest_;
}

MemberAssignment GroupCoordinator::join(std::string_view name, GroupTime now) {
  const GroupTime time = advance(now);
  expire(time);
  if (!is_valid_member_name(name)) {
    throw GroupRequestRefused(GroupRefusal::invalid_name,
                              "a member name has 1 to " + std::to_string(max_member_name_bytes) +
                                  " of the characters A-Z a-z 0-9 . _ -, not " + quoted(name));
  }
  if (members_.size() >= options_.max_members) {
    throw GroupRequestRefused(GroupRefusal::group_full,
                              "the group already has " + std::to_string(members_.size()) +
                                  " members, its limit; try again when one has left");
  }
  // Unique: the part after the last '-' is a number no other join was given.
  const MemberId id = std::string(name) + "-" + std::to_string(++joined_);
  members_.emplace(id, Member{time, generation_ + 1});
  ++counters_.joins;
  rebalance();
  return assignment_of(id);
}

void GroupCoordinator::refuse_unknown(std::string_view member_id) {
  ++counters_.unknown_member;
  throw GroupRequestRefused(GroupRefusal::unknown_member,
                            "no live member is called " + quoted(member_id) +
                                " (it never joined, left, or was silent for longer than the "
                                "session timeout): join again");
}

GroupCoordinator::Member& GroupCoordinator::accept(std::string_view member_id,
                                                   std::uint64_t generation) {
  const auto found = members_.find(member_id);
  if (found == members_.end()) refuse_unknown(member_id);
  if (generation > generation_) {
    ++counters_.future_generation;
    throw GroupRequestRefused(GroupRefusal::future_generation,
                              "member " + quoted(member_id) + " sent generation " +
                                  std::to_string(generation) + ", the group is at " +
                                  std::to_string(generation_));
  }
  if (generation < found->second.joined_generation) {
    ++counters_.stale_generation;
    throw GroupRequestRefused(GroupRefusal::stale_generation,
                              "member " + quoted(member_id) + " joined in generation " +
                                  std::to_string(found->second.joined_generation) +
                                  " and cannot send generation " + std::to_string(generation));
  }
  return found->second;
}

MemberAssignment GroupCoordinator::heartbeat(std::string_view member_id, std::uint64_t generation,
                                             GroupTime now) {
  const GroupTime time = advance(now);
  expire(time);
  accept(member_id, generation).last_heard = time;
  return assignment_of(member_id);
}

MemberAssignment GroupCoordinator::revoked(std::string_view member_id, std::uint64_t generation,
                                           const std::vector<PartitionId>& partitions,
                                           GroupTime now) {
  const GroupTime time = advance(now);
  expire(time);
  accept(member_id, generation).last_heard = time;
  for (const PartitionId p : partitions) {
    if (p >= owners_.size() || owners_[p] != member_id || generation < granted_in_[p]) {
      ++counters_.ignored_revocations;
      continue;
    }
    owners_[p].reset();
    settle(p);
  }
  return assignment_of(member_id);
}

void GroupCoordinator::leave(std::string_view member_id, GroupTime now) {
  expire(advance(now));
  const auto found = members_.find(member_id);
  if (found == members_.end()) refuse_unknown(member_id);
  const MemberId id = found->first;
  remove(id);
  ++counters_.leaves;
  rebalance();
}

std::size_t GroupCoordinator::expire(GroupTime now) {
  const GroupTime time = advance(now);
  std::vector<MemberId> dead;
  for (const auto& [id, member] : members_) {
    if (time - member.last_heard > options_.session_timeout) dead.push_back(id);
  }
  for (const MemberId& id : dead) {
    remove(id);
    ++counters_.deaths;
  }
  // One new generation for all the members found dead at once.
  if (!dead.empty()) rebalance();
  return dead.size();
}

std::optional<GroupTime> GroupCoordinator::next_expiry() const {
  std::optional<GroupTime> earliest;
  for (const auto& [id, member] : members_) {
    const GroupTime expiry = member.last_heard + options_.session_timeout;
    if (!earliest || expiry < *earliest) earliest = expiry;
  }
  return earliest;
}

void GroupCoordinator::remove(const MemberId& member_id) {
  members_.erase(member_id);
  for (auto& owner : owners_) {
    if (owner == member_id) owner.reset();
  }
}

void GroupCoordinator::rebalance() {
  ++generation_;
  ++counters_.rebalances;
  const std::vector<MemberId> ids = members();
  target_ = assign_partitions(owners_, ids);
  // Partitions whose plan needs no revocation (nobody live holds them) are granted now; the
  // others wait for their owner's confirmation in revoked().
  for (const Handover& handover : plan_rebalance(owners_, target_, ids).handovers) {
    if (!handover.from) settle(handover.partition);
  }
}

void GroupCoordinator::settle(PartitionId p) {
  if (owners_[p] || !target_[p]) return;
  owners_[p] = target_[p];
  granted_in_[p] = generation_;
  grants_.push_back(Grant{p, *target_[p], generation_});
  ++counters_.grants;
}

std::vector<Grant> GroupCoordinator::take_grants() {
  std::vector<Grant> taken;
  taken.swap(grants_);
  return taken;
}

std::vector<MemberId> GroupCoordinator::members() const {
  std::vector<MemberId> ids;
  ids.reserve(members_.size());
  for (const auto& entry : members_) ids.push_back(entry.first);
  return ids;
}

MemberAssignment GroupCoordinator::assignment_of(std::string_view member_id) const {
  const auto found = members_.find(member_id);
  if (found == members_.end()) {
    throw GroupRequestRefused(GroupRefusal::unknown_member,
                              "no live member is called " + quoted(member_id));
  }
  MemberAssignment assignment;
  assignment.member_id = found->first;
  assignment.generation = generation_;
  for (std::size_t i = 0; i < owners_.size(); ++i) {
    const auto p = static_cast<PartitionId>(i);
    const bool owns = owners_[i] == member_id;
    const bool headed_here = target_[i] == member_id;
    if (owns) assignment.owned.push_back(p);
    if (owns && !headed_here) assignment.revoke.push_back(p);
    if (headed_here && !owns) assignment.awaiting.push_back(p);
  }
  return assignment;
}

}  // namespace eda::scaling
