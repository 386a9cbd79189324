// The cooperative sticky assignment (assignment.hpp): examples a reader can check by hand,
// then properties over many seeded random histories of Billing members joining, leaving and
// dying: one owner per partition, balance, the fewest moves (against a brute-force optimum),
// nothing moved that need not move, determinism, and a plan that reaches the target.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "eda/scaling/assignment.hpp"

using namespace eda::scaling;

namespace {

/// The partitions each member owns in `ownership`.
std::map<MemberId, std::set<PartitionId>> by_member(const Ownership& ownership) {
  std::map<MemberId, std::set<PartitionId>> result;
  for (std::size_t p = 0; p < ownership.size(); ++p) {
    if (ownership[p]) result[*ownership[p]].insert(static_cast<PartitionId>(p));
  }
  return result;
}

bool live(const std::vector<MemberId>& members, const std::optional<MemberId>& owner) {
  return owner && std::find(members.begin(), members.end(), *owner) != members.end();
}

/// The fewest partitions live members must give up to reach a balanced assignment, found by
/// trying every choice of which members get the extra partition of an uneven split (brute
/// force, independent of the library's greedy choice).
std::size_t fewest_revocations(const Ownership& current, const std::vector<MemberId>& members) {
  const std::size_t n = members.size();
  REQUIRE(n <= 12);
  if (n == 0) return 0;
  std::vector<std::size_t> owned(n, 0);
  std::size_t owned_total = 0;
  for (const auto& owner : current) {
    for (std::size_t i = 0; i < n; ++i) {
      if (owner && *owner == members[i]) {
        ++owned[i];
        ++owned_total;
      }
    }
  }
  const std::size_t base = current.size() / n;
  const std::size_t extra = current.size() % n;
  std::size_t best_kept = 0;
  for (std::uint32_t mask = 0; mask < (1U << n); ++mask) {
    if (static_cast<std::size_t>(__builtin_popcount(mask)) != extra) continue;
    std::size_t kept = 0;
    for (std::size_t i = 0; i < n; ++i) {
      kept += std::min(owned[i], base + ((mask >> i) & 1U));
    }
    best_kept = std::max(best_kept, kept);
  }
  return owned_total - best_kept;
}

/// Every property of a target computed from `current` for `members`.
void check_target(const Ownership& current, const std::vector<MemberId>& members,
                  const Ownership& target) {
  REQUIRE(target.size() == current.size());
  const std::size_t p_count = current.size();

  // One owner per partition, always a live member (none when there are no members).
  for (const auto& owner : target) {
    if (members.empty()) {
      REQUIRE_FALSE(owner.has_value());
    } else {
      REQUIRE(owner.has_value());
      REQUIRE(live(members, owner));
    }
  }
  if (members.empty()) return;

  // Balance: floor(P/N) or ceil(P/N) each, members with none included.
  const auto owns = by_member(target);
  const std::size_t floor_share = p_count / members.size();
  const std::size_t ceil_share = floor_share + (p_count % members.size() == 0 ? 0 : 1);
  for (const auto& m : members) {
    const std::size_t n = owns.count(m) != 0 ? owns.at(m).size() : 0;
    REQUIRE(n >= floor_share);
    REQUIRE(n <= ceil_share);
  }

  // Fewest moves: partitions taken from a live owner are exactly the unavoidable ones.
  std::size_t revoked = 0;
  for (std::size_t p = 0; p < p_count; ++p) {
    if (live(members, current[p]) && current[p] != target[p]) ++revoked;
  }
  REQUIRE(revoked == fewest_revocations(current, members));

  // Sticky: a member at or under its new share keeps all it had; a member over it gets
  // nothing new (it only gives up).
  const auto had = by_member(current);
  for (const auto& m : members) {
    if (had.count(m) == 0) continue;
    const std::set<PartitionId>& before = had.at(m);
    const std::set<PartitionId> after = owns.count(m) != 0 ? owns.at(m) : std::set<PartitionId>{};
    if (before.size() <= after.size()) {
      REQUIRE(std::includes(after.begin(), after.end(), before.begin(), before.end()));
    } else {
      REQUIRE(std::includes(before.begin(), before.end(), after.begin(), after.end()));
    }
  }
}

/// Applies the plan as the coordinator would: revocations first, then grants.
Ownership apply(const Ownership& current, const RebalancePlan& plan,
                const std::vector<MemberId>& members) {
  Ownership result = current;
  for (auto& owner : result) {
    if (!live(members, owner)) owner.reset();  // departed: nothing to revoke
  }
  for (const auto& [member, partitions] : plan.revocations()) {
    for (const PartitionId p : partitions) {
      REQUIRE(result[p] == member);
      result[p].reset();
    }
  }
  for (const auto& [member, partitions] : plan.grants()) {
    for (const PartitionId p : partitions) {
      REQUIRE_FALSE(result[p].has_value());
      result[p] = member;
    }
  }
  return result;
}

}  // namespace

TEST_CASE("the first member gets every partition, a second takes half", "[scaling][assignment]") {
  Ownership current(8);
  const auto first = assign_partitions(current, {"billing-1"});
  CHECK(by_member(first)["billing-1"].size() == 8);

  const auto second = assign_partitions(first, {"billing-1", "billing-2"});
  // billing-1 keeps its lowest four and gives up 4..7, which go to billing-2.
  CHECK(by_member(second)["billing-1"] == std::set<PartitionId>{0, 1, 2, 3});
  CHECK(by_member(second)["billing-2"] == std::set<PartitionId>{4, 5, 6, 7});

  const auto plan = plan_rebalance(first, second, {"billing-1", "billing-2"});
  CHECK(plan.revocations() ==
        std::map<MemberId, std::vector<PartitionId>>{{"billing-1", {4, 5, 6, 7}}});
  CHECK(plan.grants() == std::map<MemberId, std::vector<PartitionId>>{{"billing-2", {4, 5, 6, 7}}});
}

TEST_CASE("a departed member's partitions are granted at once, the others stay put",
          "[scaling][assignment]") {
  // Three members own 0-3, 4-6, 7-9 of ten; billing-2 dies.
  Ownership current(10);
  for (PartitionId p = 0; p < 10; ++p) {
    current[p] = p < 4 ? "billing-1" : (p < 7 ? "billing-2" : "billing-3");
  }
  const std::vector<MemberId> survivors = {"billing-1", "billing-3"};
  const auto target = assign_partitions(current, survivors);
  check_target(current, survivors, target);
  const auto plan = plan_rebalance(current, target, survivors);
  CHECK(plan.revocations().empty());  // nobody live gives anything up
  for (const auto& h : plan.handovers) {
    CHECK_FALSE(h.from.has_value());
    CHECK((h.partition >= 4 && h.partition <= 6));
  }
  CHECK(plan.handovers.size() == 3);
  CHECK(apply(current, plan, survivors) == target);
}

TEST_CASE("no members: nothing is owned", "[scaling][assignment]") {
  Ownership current(4, MemberId("billing-1"));
  const auto target = assign_partitions(current, {});
  CHECK(target == Ownership(4));
  // billing-1 departed: nobody to revoke from, nobody to grant to.
  CHECK(plan_rebalance(current, target, {}).handovers.empty());
}

TEST_CASE("more members than partitions: one each for some, none for the rest",
          "[scaling][assignment]") {
  Ownership current = {MemberId("billing-4"), std::nullopt, MemberId("billing-2")};
  const std::vector<MemberId> members = {"billing-1", "billing-2", "billing-3", "billing-4",
                                         "billing-5"};
  const auto target = assign_partitions(current, members);
  check_target(current, members, target);
  CHECK(target[0] == "billing-4");  // kept
  CHECK(target[2] == "billing-2");  // kept
  CHECK(target[1] == "billing-1");  // the free one: first member without a partition
}

TEST_CASE("the order members are listed in does not matter", "[scaling][assignment]") {
  Ownership current(7);
  current[1] = "billing-b";
  current[5] = "billing-gone";
  const std::vector<MemberId> one_way = {"billing-c", "billing-a", "billing-b"};
  const std::vector<MemberId> other_way = {"billing-b", "billing-c", "billing-a"};
  CHECK(assign_partitions(current, one_way) == assign_partitions(current, other_way));
}

TEST_CASE("bad input is refused", "[scaling][assignment]") {
  CHECK_THROWS_AS(assign_partitions(Ownership{}, {"billing-1"}), std::invalid_argument);
  CHECK_THROWS_AS(assign_partitions(Ownership(max_partitions + 1), {"billing-1"}),
                  std::invalid_argument);
  CHECK_THROWS_WITH(assign_partitions(Ownership(4), {"billing-1", ""}),
                    Catch::Contains("member id is empty"));
  CHECK_THROWS_WITH(assign_partitions(Ownership(4), {"billing-1", "billing-2", "billing-1"}),
                    Catch::Contains("'billing-1' is listed twice"));
  CHECK_THROWS_WITH(plan_rebalance(Ownership(4), Ownership(5), {}),
                    Catch::Contains("4 current owners but 5 target"));
  CHECK_THROWS_WITH(
      plan_rebalance(Ownership(2), Ownership(2, MemberId("billing-9")), {"billing-1"}),
      Catch::Contains("not a live member"));
}

TEST_CASE("random joins, leaves and deaths keep every property", "[scaling][assignment]") {
  // Seeded and bounded: 200 histories of 40 membership changes each, over 1 to 64 partitions.
  // mt19937's output is fixed by the standard, and values are drawn with % (not a
  // distribution, whose algorithm is left to the library), so every run tests the same cases.
  const std::uint32_t seed = GENERATE(range(1U, 201U));
  std::mt19937 rng(seed);
  const auto pick = [&rng](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  const std::size_t partitions = 1 + pick(64);
  INFO("seed " << seed << ", " << partitions << " partitions");

  Ownership current(partitions);
  std::vector<MemberId> members;
  int next_id = 1;
  for (int step = 0; step < 40; ++step) {
    const std::size_t action = pick(10);
    if ((action < 5 || members.empty()) && members.size() < 12) {
      members.push_back("billing-" + std::to_string(next_id++));  // joins
    } else if (!members.empty()) {
      members.erase(members.begin() + static_cast<std::ptrdiff_t>(pick(members.size())));
    }
    if (pick(8) == 0) {
      // Now and then start from a muddled state: some partitions unowned or held by strangers.
      for (auto& owner : current) {
        const std::size_t r = pick(6);
        if (r == 0) owner.reset();
        if (r == 1) owner = "stranger-" + std::to_string(pick(3));
      }
    }
    INFO("step " << step << ", " << members.size() << " members");
    const auto target = assign_partitions(current, members);
    check_target(current, members, target);

    // Deterministic: again, and with the members listed the other way round.
    std::vector<MemberId> reversed(members.rbegin(), members.rend());
    REQUIRE(assign_partitions(current, reversed) == target);

    // The plan reaches the target, and moves exactly the partitions that change owner.
    const auto plan = plan_rebalance(current, target, members);
    REQUIRE(apply(current, plan, members) == target);
    for (const auto& h : plan.handovers) {
      REQUIRE(h.from != h.to);
      REQUIRE(h.to == target[h.partition]);
    }
    // A stable group asks for nothing more.
    REQUIRE(plan_rebalance(target, assign_partitions(target, members), members).handovers.empty());
    current = target;
  }
}
