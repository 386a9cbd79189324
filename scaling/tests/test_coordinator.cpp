// The group coordinator (coordinator.hpp), with time moved by hand: a member joining while the
// group runs, a clean leave, a death by silence, a revocation confirmed late, stale and future
// generations, unknown members; then a seeded simulation of many joins, leaves, deaths and
// late confirmations checking that no two live members ever process one partition.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "eda/scaling/coordinator.hpp"

using namespace eda::scaling;
using namespace std::chrono_literals;

namespace {

std::vector<PartitionId> range_of(PartitionId first, PartitionId last) {
  std::vector<PartitionId> result;
  for (PartitionId p = first; p <= last; ++p) result.push_back(p);
  return result;
}

/// Runs `request` and returns why the coordinator refused it (fails when it did not).
template <class Request>
GroupRefusal refusal_of(Request&& request) {
  try {
    request();
  } catch (const GroupRequestRefused& e) {
    INFO(e.what());
    return e.refusal();
  }
  FAIL("the request was accepted");
  return GroupRefusal::unknown_member;  // not reached
}

/// A member that does what the protocol asks at once: on each answer that lists partitions to
/// revoke, it (commits and) confirms them.
MemberAssignment heartbeat_and_comply(GroupCoordinator& group, const MemberAssignment& member,
                                      GroupTime now) {
  MemberAssignment told = group.heartbeat(member.member_id, member.generation, now);
  if (!told.revoke.empty()) told = group.revoked(told.member_id, told.generation, told.revoke, now);
  return told;
}

/// Two members, billing-1 with 0..7 and billing-2 with 8..15 of 16, settled.
struct TwoMembers {
  GroupCoordinator group{CoordinatorOptions{}};
  MemberAssignment first;
  MemberAssignment second;
  TwoMembers() {
    first = group.join("billing", 0ms);
    second = group.join("billing", 0ms);
    first = heartbeat_and_comply(group, first, 10ms);
    second = group.heartbeat(second.member_id, second.generation, 10ms);
    (void)group.take_grants();
  }
};

}  // namespace

TEST_CASE("the first member is granted every partition at once", "[scaling][coordinator]") {
  GroupCoordinator group(CoordinatorOptions{.partition_count = 8});
  CHECK(group.generation() == 0);
  CHECK(group.options().session_timeout == 1s);  // the default: Kafka's order of magnitude
  const auto first = group.join("billing", 0ms);
  CHECK(first.member_id == "billing-1");
  CHECK(first.generation == 1);
  CHECK(first.owned == range_of(0, 7));
  CHECK(first.revoke.empty());
  CHECK(first.awaiting.empty());
  const auto grants = group.take_grants();
  REQUIRE(grants.size() == 8);
  CHECK(grants.front() == Grant{0, "billing-1", 1});
  CHECK(group.take_grants().empty());  // taken once
}

TEST_CASE("a member joining while the group runs gets partitions within one heartbeat round",
          "[scaling][coordinator]") {
  GroupCoordinator group(CoordinatorOptions{.partition_count = 16});
  auto first = group.join("billing", 0ms);
  auto second = group.join("billing", 0ms);
  // billing-2 joined: it awaits half, which billing-1 still processes.
  CHECK(second.owned.empty());
  CHECK(second.awaiting == range_of(8, 15));
  CHECK(group.owners()[8] == "billing-1");

  // One heartbeat round: billing-1 is told to revoke 8..15, confirms; billing-2 then owns them.
  first = group.heartbeat(first.member_id, first.generation, 100ms);
  CHECK(first.generation == 2);
  CHECK(first.revoke == range_of(8, 15));
  first = group.revoked(first.member_id, first.generation, first.revoke, 100ms);
  CHECK(first.owned == range_of(0, 7));
  CHECK(first.revoke.empty());
  (void)group.take_grants();
  second = group.heartbeat(second.member_id, second.generation, 100ms);
  CHECK(second.owned == range_of(8, 15));
  CHECK(second.awaiting.empty());

  // A third joins: 6/5/5. Only the partitions that move are revoked, the rest keep flowing.
  auto third = group.join("billing", 200ms);
  CHECK(third.generation == 3);
  CHECK(third.owned.empty());
  CHECK(third.awaiting.size() == 5);
  const std::set<PartitionId> awaited(third.awaiting.begin(), third.awaiting.end());
  first = heartbeat_and_comply(group, first, 300ms);
  second = heartbeat_and_comply(group, second, 300ms);
  third = group.heartbeat(third.member_id, third.generation, 300ms);
  CHECK(third.owned == std::vector<PartitionId>(awaited.begin(), awaited.end()));
  CHECK(first.owned.size() + second.owned.size() == 11);
  for (const auto& kept : {first.owned, second.owned}) {
    for (const PartitionId p : kept) CHECK(awaited.count(p) == 0);
  }
  // billing-1 kept 6 of its 8, billing-2 5 of its 8 (the extra one goes to the bigger holder).
  CHECK(first.owned.size() == 6);
  const auto first_had = range_of(0, 7);
  CHECK(std::includes(first_had.begin(), first_had.end(), first.owned.begin(), first.owned.end()));
  // Grants: exactly the moved partitions, to billing-3, under generation 3.
  const auto grants = group.take_grants();
  CHECK(grants.size() == 5);
  for (const Grant& g : grants) {
    CHECK(g.member == third.member_id);
    CHECK(g.generation == 3);
    CHECK(awaited.count(g.partition) == 1);
  }
  CHECK(group.owners() == group.target());
  CHECK(group.counters().rebalances == 3);
}

TEST_CASE("a member that leaves cleanly hands its partitions over at once",
          "[scaling][coordinator]") {
  TwoMembers two;
  auto& group = two.group;
  const auto generation = group.generation();
  group.leave(two.second.member_id, 50ms);
  CHECK(group.generation() == generation + 1);
  CHECK(group.members() == std::vector<MemberId>{"billing-1"});
  const auto grants = group.take_grants();
  REQUIRE(grants.size() == 8);
  for (const Grant& g : grants) CHECK(g.member == "billing-1");
  const auto first = group.heartbeat(two.first.member_id, two.first.generation, 60ms);
  CHECK(first.owned == range_of(0, 15));
  CHECK(group.counters().leaves == 1);
  CHECK(refusal_of([&] { group.leave(two.second.member_id, 70ms); }) ==
        GroupRefusal::unknown_member);
}

TEST_CASE("a member silent for longer than the session timeout is declared dead",
          "[scaling][coordinator]") {
  const auto timeout = GENERATE(1000ms, 300ms);
  GroupCoordinator group(CoordinatorOptions{.partition_count = 16, .session_timeout = timeout});
  auto first = group.join("billing", 0ms);
  auto second = group.join("billing", 0ms);
  first = heartbeat_and_comply(group, first, 0ms);
  second = group.heartbeat(second.member_id, second.generation, 0ms);
  (void)group.take_grants();
  CHECK(group.next_expiry() == GroupTime(timeout));

  // billing-1 heartbeats every 100 ms; billing-2 goes silent after t=0.
  GroupTime now = 0ms;
  while (now + 100ms <= GroupTime(timeout)) {
    now += 100ms;
    first = group.heartbeat(first.member_id, first.generation, now);
  }
  CHECK(group.expire(GroupTime(timeout)) == 0);  // silent for exactly the timeout: still alive
  CHECK(group.members().size() == 2);
  CHECK(group.expire(GroupTime(timeout) + 1ns) == 1);
  CHECK(group.members() == std::vector<MemberId>{first.member_id});
  CHECK(group.counters().deaths == 1);
  // Its partitions are granted at once: there is nobody to wait for.
  const auto grants = group.take_grants();
  CHECK(grants.size() == 8);
  first = group.heartbeat(first.member_id, first.generation, GroupTime(timeout) + 2ns);
  CHECK(first.owned == range_of(0, 15));

  // The dead member, back: unknown, it must join again.
  CHECK(refusal_of([&] {
          (void)group.heartbeat(second.member_id, second.generation, GroupTime(timeout) + 3ns);
        }) == GroupRefusal::unknown_member);
  CHECK(group.counters().unknown_member == 1);
}

TEST_CASE("a moved partition waits for its old owner's late confirmation",
          "[scaling][coordinator]") {
  GroupCoordinator group(CoordinatorOptions{.partition_count = 16});
  auto first = group.join("billing", 0ms);
  auto second = group.join("billing", 0ms);
  (void)group.take_grants();  // billing-1's 16 at its join
  // billing-1 is told to revoke 8..15 but is slow to finish them: it keeps heartbeating.
  for (int beat = 1; beat <= 30; ++beat) {
    const GroupTime now = beat * 100ms;
    first = group.heartbeat(first.member_id, first.generation, now);
    second = group.heartbeat(second.member_id, second.generation, now);
    REQUIRE(first.owned == range_of(0, 15));  // still its own: it may finish them
    REQUIRE(first.revoke == range_of(8, 15));
    REQUIRE(second.owned.empty());  // never granted while billing-1 holds them
    REQUIRE(second.awaiting == range_of(8, 15));
  }
  CHECK(group.take_grants().empty());

  // It confirms half, then the rest: each half is granted as soon as it is confirmed.
  first = group.revoked(first.member_id, first.generation, range_of(8, 11), 3100ms);
  CHECK(first.revoke == range_of(12, 15));
  second = group.heartbeat(second.member_id, second.generation, 3100ms);
  CHECK(second.owned == range_of(8, 11));
  CHECK(second.awaiting == range_of(12, 15));
  first = group.revoked(first.member_id, first.generation, range_of(12, 15), 3200ms);
  second = group.heartbeat(second.member_id, second.generation, 3200ms);
  CHECK(second.owned == range_of(8, 15));
  CHECK(group.take_grants().size() == 8);
}

TEST_CASE("an old owner that dies before confirming loses its partitions at the timeout",
          "[scaling][coordinator]") {
  GroupCoordinator group(CoordinatorOptions{.partition_count = 4, .session_timeout = 500ms});
  auto first = group.join("billing", 0ms);
  auto second = group.join("billing", 0ms);
  first = group.heartbeat(first.member_id, first.generation, 100ms);
  CHECK(first.revoke == range_of(2, 3));
  // billing-1 dies without confirming; billing-2 waits, heartbeating.
  second = group.heartbeat(second.member_id, second.generation, 400ms);
  CHECK(second.awaiting == range_of(2, 3));
  second = group.heartbeat(second.member_id, second.generation, 601ms);  // 501 ms of silence
  CHECK(second.owned == range_of(0, 3));
  CHECK(group.counters().deaths == 1);
}

TEST_CASE("generations: a lagging member catches up, stale and future ones are refused",
          "[scaling][coordinator]") {
  TwoMembers two;  // generation 2
  auto& group = two.group;
  const auto third = group.join("billing", 20ms);  // generation 3
  REQUIRE(group.generation() == 3);

  // billing-1 still knows generation 2 (joined in 1): normal lag, answered with generation 3.
  const auto first = group.heartbeat(two.first.member_id, 2, 30ms);
  CHECK(first.generation == 3);

  // billing-3 joined in generation 3: a heartbeat of generation 2 cannot be its own.
  CHECK(refusal_of([&] { (void)group.heartbeat(third.member_id, 2, 40ms); }) ==
        GroupRefusal::stale_generation);
  CHECK(group.counters().stale_generation == 1);
  // Nobody sent generation 4 yet.
  CHECK(refusal_of([&] { (void)group.heartbeat(third.member_id, 4, 40ms); }) ==
        GroupRefusal::future_generation);
  CHECK(refusal_of([&] { (void)group.revoked(two.first.member_id, 9, {0}, 40ms); }) ==
        GroupRefusal::future_generation);
  CHECK(group.counters().future_generation == 2);
  try {
    (void)group.heartbeat(third.member_id, 1, 40ms);
  } catch (const GroupRequestRefused& e) {
    CHECK(e.category() == eda::ErrorCategory::conflict);
    CHECK_THAT(e.what(), Catch::Contains("joined in generation 3"));
  }
  // A refused heartbeat does not count as a sign of life: billing-3 dies on time.
  CHECK(group.expire(20ms + 1s + 1ns) >= 1);
  const auto members = group.members();
  CHECK(std::count(members.begin(), members.end(), third.member_id) == 0);
}

TEST_CASE("a revocation left over from an earlier ownership is ignored and counted",
          "[scaling][coordinator]") {
  GroupCoordinator group(CoordinatorOptions{.partition_count = 2});
  auto first = group.join("billing", 0ms);                           // gen 1: owns 0, 1
  auto second = group.join("billing", 0ms);                          // gen 2: 1 moves
  first = group.revoked(first.member_id, 2, {1}, 10ms);              // billing-2 gets 1
  group.leave(second.member_id, 20ms);                               // gen 3: 1 comes back
  first = group.heartbeat(first.member_id, first.generation, 30ms);  // owns 0, 1 again
  REQUIRE(first.owned == range_of(0, 1));
  auto third = group.join("billing", 40ms);  // gen 4: 1 must move to billing-4
  first = group.heartbeat(first.member_id, first.generation, 50ms);
  REQUIRE(first.revoke == std::vector<PartitionId>{1});

  // A duplicate of the gen-2 confirmation arrives: partition 1 was granted back in gen 3, so
  // it is not that revocation, and billing-1 still processes it.
  const auto ignored = group.counters().ignored_revocations;
  first = group.revoked(first.member_id, 2, {1}, 60ms);
  CHECK(group.counters().ignored_revocations == ignored + 1);
  CHECK(group.owners()[1] == first.member_id);
  third = group.heartbeat(third.member_id, third.generation, 60ms);
  CHECK(third.owned.empty());

  // Partitions it does not own, or that do not exist, are ignored too.
  first = group.revoked(first.member_id, 4, {0, 0, 7, 70000}, 70ms);
  CHECK(group.counters().ignored_revocations == ignored + 3);  // 7 and 70000; 0 revoked once
  // (billing-1 gave up 0 above, which is headed for it: it is granted straight back.)
  CHECK(group.owners()[0] == first.member_id);
}

TEST_CASE("messages from unknown members are refused, counted, and change nothing",
          "[scaling][coordinator]") {
  TwoMembers two;
  auto& group = two.group;
  const auto generation = group.generation();
  const auto owners = group.owners();
  CHECK(refusal_of([&] { (void)group.heartbeat("billing-99", 1, 20ms); }) ==
        GroupRefusal::unknown_member);
  CHECK(refusal_of([&] {
          (void)group.revoked("billing-99", 1, {0, 1}, 20ms);
        }) == GroupRefusal::unknown_member);
  CHECK(refusal_of([&] { group.leave("", 20ms); }) == GroupRefusal::unknown_member);
  CHECK(refusal_of([&] { (void)group.heartbeat(std::string("\xff\x00", 2), 1, 20ms); }) ==
        GroupRefusal::unknown_member);
  CHECK(refusal_of([&] { (void)group.assignment_of("billing-99"); }) ==
        GroupRefusal::unknown_member);
  CHECK(group.counters().unknown_member == 4);
  CHECK(group.generation() == generation);
  CHECK(group.owners() == owners);
}

TEST_CASE("join names are checked and the group has a size limit", "[scaling][coordinator]") {
  GroupCoordinator group(CoordinatorOptions{.partition_count = 4, .max_members = 2});
  for (const std::string& bad : {std::string(), std::string(65, 'b'), std::string("bill ing"),
                                 std::string("billing\n"), std::string("b\0x", 3)}) {
    CHECK(refusal_of([&] { (void)group.join(bad, 0ms); }) == GroupRefusal::invalid_name);
  }
  CHECK(group.generation() == 0);
  CHECK(group.join(std::string(64, 'b'), 0ms).member_id == std::string(64, 'b') + "-1");
  CHECK(group.join("billing.eu_2", 0ms).member_id == "billing.eu_2-2");
  CHECK(refusal_of([&] { (void)group.join("billing", 0ms); }) == GroupRefusal::group_full);

  CHECK_THROWS_AS(GroupCoordinator(CoordinatorOptions{.partition_count = 0}),
                  std::invalid_argument);
  CHECK_THROWS_AS(GroupCoordinator(CoordinatorOptions{.session_timeout = 0ms}),
                  std::invalid_argument);
  CHECK_THROWS_AS(GroupCoordinator(CoordinatorOptions{.max_members = 0}), std::invalid_argument);
}

TEST_CASE(
    "random joins, leaves, deaths and late confirmations never give a partition to two "
    "live members",
    "[scaling][coordinator]") {
  // Seeded and bounded: 40 runs of 300 steps of 50 ms, then a calm phase. Live members
  // heartbeat every 200 ms (session timeout 1 s); each confirms a revocation at once or up to
  // 2 s late. Killed members fall silent and keep their last belief: zombies, which only the
  // checkpoint store's fence can stop, so they are left out of the overlap check.
  const std::uint32_t seed = GENERATE(range(1U, 41U));
  std::mt19937 rng(seed);
  const auto pick = [&rng](std::uint32_t n) { return static_cast<std::uint32_t>(rng() % n); };
  const std::uint32_t partitions = 1 + pick(48);
  INFO("seed " << seed << ", " << partitions << " partitions");
  GroupCoordinator group(CoordinatorOptions{.partition_count = partitions});

  struct Simulated {
    MemberAssignment told;
    std::set<PartitionId> processing;  // what it believes it may process
    GroupTime next_heartbeat{};
    std::optional<GroupTime> confirm_at;
  };
  std::map<MemberId, Simulated> live;
  std::size_t killed = 0;

  const auto hear = [&group](Simulated& m, const MemberAssignment& told) {
    for (const PartitionId p : told.revoke) {
      REQUIRE(group.target()[p] != told.member_id);  // only partitions that move are revoked
    }
    m.told = told;
    m.processing = std::set<PartitionId>(told.owned.begin(), told.owned.end());
  };
  const auto check_safety = [&]() {
    std::map<PartitionId, MemberId> seen;
    for (const auto& [id, m] : live) {
      for (const PartitionId p : m.processing) {
        // Never taken from a live member behind its back...
        REQUIRE(group.owners()[p] == id);
        // ...and so never processed by two live members at once.
        REQUIRE(seen.emplace(p, id).second);
      }
    }
  };
  const auto step = [&](GroupTime now, bool calm) {
    group.expire(now);  // the serving loop's timer
    for (auto& [id, m] : live) {
      if (m.confirm_at && now >= *m.confirm_at) {
        // It finished and committed what it was asked to give up: stop, then confirm.
        const std::vector<PartitionId> giving_up = m.told.revoke;
        for (const PartitionId p : giving_up) m.processing.erase(p);
        hear(m, group.revoked(id, m.told.generation, giving_up, now));
        m.confirm_at.reset();
      }
      if (now >= m.next_heartbeat) {
        hear(m, group.heartbeat(id, m.told.generation, now));
        m.next_heartbeat = now + 200ms;
        if (!m.told.revoke.empty() && !m.confirm_at) {
          m.confirm_at = now + (calm || pick(2) == 0 ? 0ms : std::chrono::milliseconds(pick(2000)));
        }
      }
    }
    check_safety();
  };

  GroupTime now = 0ms;
  for (int i = 0; i < 300; ++i) {
    now += 50ms;
    const std::uint32_t action = pick(20);
    if (action < 2 && live.size() < 8) {
      const auto told = group.join("billing", now);
      Simulated m;
      hear(m, told);
      m.next_heartbeat = now + 200ms;
      live.emplace(told.member_id, m);
    } else if (action == 2 && !live.empty()) {
      // A clean leave: it stops everything (having committed), then says goodbye.
      auto it = std::next(
          live.begin(), static_cast<std::ptrdiff_t>(pick(static_cast<std::uint32_t>(live.size()))));
      group.leave(it->first, now);
      live.erase(it);
    } else if (action == 3 && !live.empty() && pick(2) == 0) {
      live.erase(std::next(live.begin(), static_cast<std::ptrdiff_t>(
                                             pick(static_cast<std::uint32_t>(live.size())))));
      ++killed;
    }
    step(now, false);
  }
  // The calm phase: no more changes; once every late confirmation is in and the dead have
  // timed out, the group settles on its balanced target.
  for (int i = 0; i < 100; ++i) {
    now += 50ms;
    step(now, true);
  }
  CHECK(group.counters().unknown_member == 0);  // nobody heartbeating on time was declared dead
  CHECK(group.counters().deaths == killed);
  CHECK(group.members().size() == live.size());
  CHECK(group.owners() == group.target());
  if (!live.empty()) {
    std::size_t total = 0;
    for (const auto& [id, m] : live) {
      const std::size_t share = m.processing.size();
      CHECK(share >= partitions / live.size());
      CHECK(share <= (partitions + live.size() - 1) / live.size());
      total += share;
    }
    CHECK(total == partitions);
  }
}

TEST_CASE("time passed in that goes back is taken as the latest time seen",
          "[scaling][coordinator]") {
  GroupCoordinator group(CoordinatorOptions{.partition_count = 4, .session_timeout = 1s});
  CHECK_FALSE(group.next_expiry().has_value());  // nobody to expire
  const auto first = group.join("billing", 2s);
  CHECK(group.next_expiry() == GroupTime(3s));
  // A caller whose clock reads earlier cannot make the member look fresher or older than it is.
  (void)group.heartbeat(first.member_id, first.generation, 1s);
  CHECK(group.next_expiry() == GroupTime(3s));
  CHECK(group.expire(0s) == 0);
  CHECK(group.expire(3s) == 0);
  CHECK(group.expire(3s + 1ns) == 1);
  CHECK_FALSE(group.next_expiry().has_value());
  CHECK(group.owners() == Ownership(4));  // no members: nothing owned
  CHECK(group.generation() == 2);
}

TEST_CASE(
    "a coordinator started above a generation floor continues from it, with ids never "
    "given before",
    "[scaling][coordinator]") {
  GroupCoordinator restarted({.partition_count = 4, .generation_floor = 7});
  CHECK(restarted.generation() == 7);
  const auto first = restarted.join("billing", 0s);
  CHECK(first.generation == 8);
  CHECK(first.member_id == "billing-8");
  const auto grants = restarted.take_grants();
  REQUIRE(grants.size() == 4);
  CHECK(grants.front().generation == 8);
  // A message of the earlier coordinator's generation from the new member is stale.
  CHECK(refusal_of([&] { (void)restarted.heartbeat(first.member_id, 7, 0s); }) ==
        GroupRefusal::stale_generation);
}
