/// @file coordinator.hpp
/// @brief The group coordinator: which Billing members are alive, and which partitions each
///        one may process, kept as a state machine of values with the time passed in (no
///        sockets, no threads, no clock of its own), so every rebalance can be tested exactly.
///
/// @par The protocol it implements
/// - A member **joins** with a name (`billing`) and gets a member id (`billing-3`), the group's
///   generation and its assignment. Every change of membership (a join, a leave, a death) bumps
///   the generation and computes a new target with assign_partitions().
/// - A member **heartbeats** at an interval well under `session_timeout`; each answer carries
///   the current generation and its assignment: what it owns (may process), which of those it
///   must revoke, and which it is waiting for.
/// - Partitions that do not move are never revoked. A partition that moves stays with its old
///   owner until that owner has finished it, committed its checkpoint and confirmed with
///   **revoked**; only then is it granted to the new owner (cooperative rebalancing, as Kafka's
///   CooperativeStickyAssignor). So at no moment may two live members process one partition.
/// - A member that **leaves** has committed first: its partitions are granted at once. A member
///   silent for longer than `session_timeout` is declared **dead**: its partitions are granted
///   at once too; its new owners resume from the last committed checkpoint, and the checkpoint
///   store's fence (checkpoint_store.hpp: owner and generation per partition) refuses the
///   commits of the dead member if it was only slow (a zombie).
///
/// @par Generations
/// A member may lag a generation behind: it learns the new one from the answer to its next
/// heartbeat, and that is normal. What is refused: a generation newer than the group's (no
/// coordinator sent it), and a generation older than the member's own join (no message of
/// this member can carry it). A revocation confirmed under a generation older than the one that
/// granted the partition to that member is a leftover of an earlier ownership: it is ignored
/// and counted, or the partition would be handed over while its owner still processes it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <msgpack.hpp>

#include "eda/errors.hpp"
#include "eda/scaling/assignment.hpp"
#include "eda/scaling/partitioner.hpp"

namespace eda::scaling {

/// @brief A point on the coordinator's monotonic time line (e.g. eda::monotonic_ns()), passed in
///        by its caller: tests move it by hand.
using GroupTime = std::chrono::nanoseconds;

/// @brief The longest member name accepted at join, in bytes.
inline constexpr std::size_t max_member_name_bytes = 64;

/// @brief Whether `name` may name a member at join: 1 to max_member_name_bytes of
///        A-Z a-z 0-9 . _ - (so that ids print safely in logs and traces).
[[nodiscard]] bool is_valid_member_name(std::string_view name) noexcept;

/// @brief How a coordinator runs its group.
struct CoordinatorOptions {
  std::uint32_t partition_count = 16;  ///< Partitions of the group (1..max_partitions).
  /// @brief A member silent for longer than this is declared dead (Kafka's session.timeout.ms).
  std::chrono::nanoseconds session_timeout = std::chrono::seconds(1);
  std::size_t max_members = 1024;  ///< Joins beyond this many live members are refused.
  /// @brief The generation to start from instead of 0. A coordinator that restarts passes the
  ///        highest generation its checkpoint store holds: its grants then fence out its
  ///        predecessor's, and member ids (numbered from it) never repeat an earlier one's.
  std::uint64_t generation_floor = 0;
};

/// @brief What a member is told when it joins and on every heartbeat.
struct MemberAssignment {
  MemberId member_id;               ///< The member's id, given at join.
  std::uint64_t generation = 0;     ///< The group's current generation.
  std::vector<PartitionId> owned;   ///< Partitions it may process now (ascending), including...
  std::vector<PartitionId> revoke;  ///< ...these, which it must finish, commit and confirm revoked.
  std::vector<PartitionId> awaiting;  ///< Partitions it will be granted once their old owner
                                      ///< confirms their revocation (or is declared dead).
  /// @brief Equal when every field is.
  friend bool operator==(const MemberAssignment&, const MemberAssignment&) = default;
  MSGPACK_DEFINE(member_id, generation, owned, revoke, awaiting)
};

/// @brief A partition handed to a member under a generation: before the member starts it, the
///        runtime fences the checkpoint store for that member and generation
///        (CheckpointStore::fence), so that the partition's old owner can commit no more.
struct Grant {
  PartitionId partition = 0;     ///< The partition.
  MemberId member;               ///< Its new owner.
  std::uint64_t generation = 0;  ///< The generation that granted it.
  /// @brief Equal when every field is.
  friend bool operator==(const Grant&, const Grant&) = default;
};

/// @brief Why the coordinator refused a message.
enum class GroupRefusal {
  unknown_member,     ///< No live member has this id (never joined, left, or declared dead:
                      ///< join again).
  stale_generation,   ///< The generation predates the member's join.
  future_generation,  ///< The generation is newer than the group's.
  invalid_name,       ///< A join name that is empty, too long, or not [A-Za-z0-9._-].
  group_full,         ///< A join when max_members are already live.
};

/// @brief A short, stable name for a refusal (`"unknown_member"`, ...).
std::string_view to_string(GroupRefusal refusal) noexcept;

/// @brief A message the coordinator refused; the group's state did not change.
///
/// Its category is ErrorCategory::conflict for a stale generation, ErrorCategory::application
/// otherwise.
class GroupRequestRefused : public Error {
 public:
  /// @brief A refusal of kind `refusal` with a message saying what and what to do.
  GroupRequestRefused(GroupRefusal refusal, const std::string& message);
  /// @brief Why the message was refused.
  [[nodiscard]] GroupRefusal refusal() const noexcept { return refusal_; }

 private:
  GroupRefusal refusal_;
};

/// @brief What the coordinator has done and refused, for the demo's narration and for tests.
struct CoordinatorCounters {
  std::uint64_t joins = 0;                ///< Members that joined.
  std::uint64_t leaves = 0;               ///< Members that left cleanly.
  std::uint64_t deaths = 0;               ///< Members declared dead after session_timeout.
  std::uint64_t rebalances = 0;           ///< Generations started (one per membership change).
  std::uint64_t grants = 0;               ///< Partitions granted.
  std::uint64_t unknown_member = 0;       ///< Messages refused: unknown member.
  std::uint64_t stale_generation = 0;     ///< Messages refused: generation before the join.
  std::uint64_t future_generation = 0;    ///< Messages refused: generation after the group's.
  std::uint64_t ignored_revocations = 0;  ///< Revoked partitions ignored: not the member's, out
                                          ///< of range, or from an earlier ownership.
};

/// @brief The coordinator of one consumer group (e.g. the Billing members).
///
/// Every call takes the time now; a call first declares dead the members silent for longer
/// than session_timeout (expire()), then does its work.
///
/// @par Example
/// @code
/// eda::scaling::GroupCoordinator group({.partition_count = 16});
/// auto first = group.join("billing", now);        // billing-1 owns all 16
/// auto second = group.join("billing", now);       // billing-2 awaits 8 of them
/// auto told = group.heartbeat(first.member_id, first.generation, now);  // revoke 8..15
/// // billing-1 finishes 8..15 and commits their checkpoints, then:
/// group.revoked(first.member_id, told.generation, told.revoke, now);    // granted to billing-2
/// @endcode
///
/// @par Thread safety
/// None: one thread drives it (the coordinator's serving loop).
class GroupCoordinator {
 public:
  /// @brief A coordinator with no members at generation 0; throws std::invalid_argument for a
  ///        partition count outside 1..max_partitions, a session timeout that is not positive,
  ///        or max_members of 0.
  explicit GroupCoordinator(CoordinatorOptions options = {});

  /// @brief A new member named `name` joins: it gets an id (`name-N`), the new generation and
  ///        its assignment (often only awaited partitions at first). Throws GroupRequestRefused
  ///        (invalid_name, group_full).
  MemberAssignment join(std::string_view name, GroupTime now);

  /// @brief A member says it is alive; the answer is its current assignment. Throws
  ///        GroupRequestRefused (unknown_member, stale_generation, future_generation).
  MemberAssignment heartbeat(std::string_view member_id, std::uint64_t generation, GroupTime now);

  /// @brief A member confirms it stopped processing `partitions` and committed their
  ///        checkpoints: each one waiting for it is granted to its new owner. Partitions it does
  ///        not own, or owns under a newer generation than `generation`, are ignored and counted.
  ///        Throws as heartbeat().
  MemberAssignment revoked(std::string_view member_id, std::uint64_t generation,
                           const std::vector<PartitionId>& partitions, GroupTime now);

  /// @brief A member leaves cleanly (having committed its checkpoints): its partitions are
  ///        granted at once. Throws GroupRequestRefused (unknown_member).
  void leave(std::string_view member_id, GroupTime now);

  /// @brief Declares dead every member silent for longer than session_timeout at `now`;
  ///        returns how many. Called by every other call; call it on a timer too.
  std::size_t expire(GroupTime now);

  /// @brief The earliest time a live member would be declared dead, if it stays silent; nothing
  ///        when the group is empty. A serving loop waits for messages until then.
  [[nodiscard]] std::optional<GroupTime> next_expiry() const;

  /// @brief The grants made since the last call, in order (and forgets them): the runtime
  ///        fences the checkpoint store with them before telling the new owners.
  [[nodiscard]] std::vector<Grant> take_grants();

  /// @brief The group's generation: generation_floor (0 by default) before the first join, +1
  ///        per membership change.
  [[nodiscard]] std::uint64_t generation() const noexcept { return generation_; }
  /// @brief Who may process each partition now (a live member, or nobody).
  [[nodiscard]] const Ownership& owners() const noexcept { return owners_; }
  /// @brief Who each partition is headed for in the current generation.
  [[nodiscard]] const Ownership& target() const noexcept { return target_; }
  /// @brief The live members' ids, in id order.
  [[nodiscard]] std::vector<MemberId> members() const;
  /// @brief The assignment a member would be told now; throws GroupRequestRefused
  ///        (unknown_member).
  [[nodiscard]] MemberAssignment assignment_of(std::string_view member_id) const;
  /// @brief What the coordinator has done and refused so far.
  [[nodiscard]] const CoordinatorCounters& counters() const noexcept { return counters_; }
  /// @brief The options it runs with.
  [[nodiscard]] const CoordinatorOptions& options() const noexcept { return options_; }

 private:
  struct Member {
    GroupTime last_heard{};
    std::uint64_t joined_generation = 0;
  };

  /// Refuses (and counts) a message from an unknown member or with a generation it cannot
  /// carry; returns the member.
  Member& accept(std::string_view member_id, std::uint64_t generation);
  [[noreturn]] void refuse_unknown(std::string_view member_id);
  /// The time now, never earlier than a time already seen.
  GroupTime advance(GroupTime now) noexcept;
  /// Removes a member; its partitions become unowned (granted by the next rebalance).
  void remove(const MemberId& member_id);
  /// A new generation: a new target, and every partition without a live owner granted.
  void rebalance();
  /// Grants partition `p` to its target owner, when it has one and nobody holds it.
  void settle(PartitionId p);

  CoordinatorOptions options_;
  std::uint64_t generation_ = 0;
  std::uint64_t joined_ = 0;  // members ever joined: numbers the ids
  GroupTime latest_{};
  std::map<MemberId, Member, std::less<>> members_;
  Ownership owners_;
  Ownership target_;
  std::vector<std::uint64_t> granted_in_;  // per partition: the generation its owner got it in
  std::vector<Grant> grants_;
  CoordinatorCounters counters_;
};

}  // namespace eda::scaling
