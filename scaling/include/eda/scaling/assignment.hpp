/// @file assignment.hpp
/// @brief Who owns which partition: the cooperative, sticky assignment of a consumer group, as
///        pure functions of values (no clock, no sockets, no randomness).
///
/// When Billing runs as several members, each partition (and so each order) is processed by
/// exactly one of them at a time. When members come and go, the partitions are shared out
/// again. Two ideas from Kafka's CooperativeStickyAssignor keep that cheap:
/// - **sticky**: a member keeps what it has, as far as balance allows, so only the partitions
///   that must move do (those of departed members, and the fewest needed to feed newcomers);
/// - **cooperative**: the partitions that stay are never stopped; a partition that moves is
///   first revoked by its old owner (which finishes it and commits its checkpoint), and only
///   then granted to its new owner, so two members never work on one order at once.
///
/// assign_partitions() computes the target; plan_rebalance() says, from the current owners to
/// that target, what each member must give up and what it will be granted.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "eda/scaling/partitioner.hpp"

namespace eda::scaling {

/// @brief The identity of one member of a group (e.g. `billing-3`), given by the coordinator.
using MemberId = std::string;

/// @brief One owner per partition, indexed by PartitionId; empty for a partition nobody owns.
using Ownership = std::vector<std::optional<MemberId>>;

/// @brief The balanced, sticky target assignment of `current.size()` partitions to `members`.
///
/// - **Balanced**: with P partitions and N members, every member gets P / N or P / N + 1
///   partitions (rounded down); with more members than partitions, some get none.
/// - **Sticky, fewest moves**: partitions of departed members (owners not in `members`) and
///   unowned ones are handed out; of the partitions live members own, only the fewest needed
///   for balance move: a member over its share gives up its highest-numbered ones, and the
///   extra partitions of an uneven split go to the members that already hold the most.
/// - **Deterministic**: the same input gives the same output, in whatever order `members` is
///   listed (members are taken in the order of their ids), so any process can recompute it.
///
/// With no members, every partition is unowned. Throws std::invalid_argument when the
/// partition count is not 1..max_partitions, or a member id is empty or listed twice.
[[nodiscard]] Ownership assign_partitions(const Ownership& current,
                                          const std::vector<MemberId>& members);

/// @brief One partition changing hands in a rebalance.
struct Handover {
  PartitionId partition = 0;     ///< The partition that moves.
  std::optional<MemberId> from;  ///< Its live owner, which must revoke it first; empty when
                                 ///< nobody live holds it (unowned, or its owner departed):
                                 ///< then it may be granted at once.
  std::optional<MemberId> to;    ///< Its new owner; empty when the group has no members.
  /// @brief Handovers are equal when all three fields are.
  friend bool operator==(const Handover&, const Handover&) = default;
};

/// @brief The cooperative plan from the current owners to a target: the partitions that move,
///        and nothing about those that stay (they keep flowing).
struct RebalancePlan {
  std::vector<Handover> handovers;  ///< One per moving partition, by ascending partition.

  /// @brief Per live member, the partitions it must revoke (finish, commit, confirm) first.
  [[nodiscard]] std::map<MemberId, std::vector<PartitionId>> revocations() const;

  /// @brief Per member, the partitions it will be granted: at once when a handover has no
  ///        `from`, else once `from` has confirmed the revocation.
  [[nodiscard]] std::map<MemberId, std::vector<PartitionId>> grants() const;
};

/// @brief The plan that takes `current` to `target` when `members` are the live members: a
///        partition whose owner is not live counts as unowned (there is nobody to revoke it).
///
/// Throws std::invalid_argument when the two differ in size, the size is not a valid
/// partition count, or `target` names an owner that is not a live member.
[[nodiscard]] RebalancePlan plan_rebalance(const Ownership& current, const Ownership& target,
                                           const std::vector<MemberId>& members);

}  // namespace eda::scaling
