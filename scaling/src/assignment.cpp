// The cooperative sticky assignment: the balanced target (assign_partitions) and the plan of
// revocations and grants that reaches it (plan_rebalance).
#include "eda/scaling/assignment.hpp"

#include <algorithm>
#include <cstddef>
#include <set>
#include <stdexcept>

namespace eda::scaling {
namespace {

/// The members sorted by id, refused when one is empty or listed twice.
std::vector<MemberId> sorted_members(const std::vector<MemberId>& members, const char* what) {
  std::vector<MemberId> sorted = members;
  std::sort(sorted.begin(), sorted.end());
  if (!sorted.empty() && sorted.front().empty()) {
    throw std::invalid_argument(std::string(what) + ": a member id is empty");
  }
  const auto twice = std::adjacent_find(sorted.begin(), sorted.end());
  if (twice != sorted.end()) {
    throw std::invalid_argument(std::string(what) + ": member '" + *twice + "' is listed twice");
  }
  return sorted;
}

bool is_member(const std::vector<MemberId>& sorted, const std::optional<MemberId>& id) {
  return id && std::binary_search(sorted.begin(), sorted.end(), *id);
}

}  // namespace

Ownership assign_partitions(const Ownership& current, const std::vector<MemberId>& members) {
  check_partition_count(
      static_cast<std::uint32_t>(std::min<std::size_t>(current.size(), max_partitions + 1ULL)),
      "assign_partitions");
  const std::vector<MemberId> sorted = sorted_members(members, "assign_partitions");
  const std::size_t partition_count = current.size();
  Ownership target(partition_count);
  if (sorted.empty()) {
    return target;
  }

  // What each live member owns now (ascending), by its index in `sorted`.
  std::vector<std::vector<PartitionId>> owned(sorted.size());
  std::vector<PartitionId> unplaced;  // owned by nobody live: must be handed out
  for (std::size_t p = 0; p < partition_count; ++p) {
    const auto partition = static_cast<PartitionId>(p);
    if (is_member(sorted, current[p])) {
      const auto at = std::lower_bound(sorted.begin(), sorted.end(), *current[p]);
      owned[static_cast<std::size_t>(at - sorted.begin())].push_back(partition);
    } else {
      unplaced.push_back(partition);
    }
  }

  // Shares: `base` each, one more for `extra` members. The extra ones go to the members that
  // hold the most already (ties by id), which keeps the most partitions where they are.
  const std::size_t base = partition_count / sorted.size();
  const std::size_t extra = partition_count % sorted.size();
  std::vector<std::size_t> by_holding(sorted.size());
  for (std::size_t i = 0; i < by_holding.size(); ++i) by_holding[i] = i;
  std::stable_sort(by_holding.begin(), by_holding.end(), [&owned](std::size_t a, std::size_t b) {
    return owned[a].size() > owned[b].size();
  });
  std::vector<std::size_t> share(sorted.size(), base);
  for (std::size_t k = 0; k < extra; ++k) ++share[by_holding[k]];

  // Each member keeps its lowest-numbered partitions up to its share; the rest are handed out.
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    const std::size_t keep = std::min(share[i], owned[i].size());
    for (std::size_t k = 0; k < owned[i].size(); ++k) {
      if (k < keep) {
        target[owned[i][k]] = sorted[i];
      } else {
        unplaced.push_back(owned[i][k]);
      }
    }
    owned[i].resize(keep);
  }
  std::sort(unplaced.begin(), unplaced.end());

  // Fill every member up to its share, in id order, lowest partitions first.
  std::size_t next = 0;
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    for (std::size_t n = owned[i].size(); n < share[i]; ++n) {
      target[unplaced.at(next++)] = sorted[i];
    }
  }
  return target;
}

std::map<MemberId, std::vector<PartitionId>> RebalancePlan::revocations() const {
  std::map<MemberId, std::vector<PartitionId>> result;
  for (const Handover& h : handovers) {
    if (h.from) result[*h.from].push_back(h.partition);
  }
  return result;
}

std::map<MemberId, std::vector<PartitionId>> RebalancePlan::grants() const {
  std::map<MemberId, std::vector<PartitionId>> result;
  for (const Handover& h : handovers) {
    if (h.to) result[*h.to].push_back(h.partition);
  }
  return result;
}

RebalancePlan plan_rebalance(const Ownership& current, const Ownership& target,
                             const std::vector<MemberId>& members) {
  if (current.size() != target.size()) {
    throw std::invalid_argument("plan_rebalance: " + std::to_string(current.size()) +
                                " current owners but " + std::to_string(target.size()) +
                                " target owners");
  }
  check_partition_count(
      static_cast<std::uint32_t>(std::min<std::size_t>(current.size(), max_partitions + 1ULL)),
      "plan_rebalance");
  const std::vector<MemberId> sorted = sorted_members(members, "plan_rebalance");
  RebalancePlan plan;
  for (std::size_t p = 0; p < current.size(); ++p) {
    if (target[p] && !is_member(sorted, target[p])) {
      throw std::invalid_argument("plan_rebalance: partition " + std::to_string(p) +
                                  " is assigned to '" + *target[p] +
                                  "', which is not a live member");
    }
    std::optional<MemberId> from = is_member(sorted, current[p]) ? current[p] : std::nullopt;
    if (from != target[p]) {
      plan.handovers.push_back(Handover{static_cast<PartitionId>(p), std::move(from), target[p]});
    }
  }
  return plan;
}

}  // namespace eda::scaling
