// A member's turns: it applies `turn` events of one partition, then listens to the coordinator
// and moves on to its next partition, whatever it has read ahead (`fetch`). So one partition's
// backlog never holds up the member's other partitions for more than a turn, and a revocation
// waits for one turn, not for a whole read.
#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>

#include "scaling_test_support.hpp"

using namespace eda::scaling;
using namespace std::chrono_literals;
using scaling_test::check_exactly_once_in_order;
using scaling_test::eventually;
using scaling_test::MemberThread;
using scaling_test::Shop;

namespace {

/// Events per partition among the orders `first` .. `first + count - 1` of `steps` events each.
std::map<PartitionId, std::uint64_t> events_per_partition(const Shop& shop, std::uint64_t first,
                                                          std::uint64_t count,
                                                          std::uint32_t steps) {
  const Partitioner partitioner(shop.partition_count);
  std::map<PartitionId, std::uint64_t> events;
  for (std::uint64_t n = first; n < first + count; ++n) {
    events[partitioner.partition_of("order-" + std::to_string(n))] += steps;
  }
  return events;
}

/// The longest run of charges of one partition in `charged`, counted only while every partition
/// still had events to charge (after that, a partition left alone runs on by itself).
std::size_t longest_run_while_all_busy(const std::vector<PartitionId>& charged,
                                       std::map<PartitionId, std::uint64_t> left) {
  std::size_t longest = 0;
  std::size_t run = 0;
  for (std::size_t i = 0; i < charged.size(); ++i) {
    run = i > 0 && charged[i] == charged[i - 1] ? run + 1 : 1;
    longest = std::max(longest, run);
    if (--left[charged[i]] == 0) break;  // this partition is done: the others run alone now
  }
  return longest;
}

}  // namespace

TEST_CASE("turns: partitions with a backlog take turns of `turn` events, whatever was read ahead",
          "[scaling][runtime][turns]") {
  Shop shop(2);
  zmq::context_t context;
  CoordinatorService coordinator(context, shop.coordinator());
  const std::uint64_t events = shop.produce(1, 100, 3);
  const auto per_partition = events_per_partition(shop, 1, 100, 3);
  REQUIRE(per_partition.size() == 2);  // both partitions have a backlog from the start
  std::mutex mutex;
  std::vector<PartitionId> charged;
  auto options = shop.member(coordinator.endpoint());
  options.turn = 2;
  options.fetch = 32;  // reads far more than a turn: the turn alone must bound the run
  options.on_charged = [&](const MemberId&, PartitionId p, std::string_view) {
    const std::lock_guard lock(mutex);
    charged.push_back(p);
  };
  MemberThread member(context, options);
  check_exactly_once_in_order(shop, events);
  member.stop();
  const std::lock_guard lock(mutex);
  REQUIRE(charged.size() == events);
  // Both partitions waited from the start; a read of 32 applied in one go would show runs of 32.
  CHECK(longest_run_while_all_busy(charged, per_partition) == 2);
}

TEST_CASE("turns: a revocation waits for the old owner's turn, not for what it has read ahead",
          "[scaling][runtime][turns]") {
  Shop shop(2);
  // Long enough that the first member is never declared dead while it works, however long its
  // turn: its partition must move by revocation.
  shop.session_timeout = 5s;
  zmq::context_t context;
  CoordinatorService coordinator(context, shop.coordinator());
  const std::uint64_t events = shop.produce(1, 30, 3);
  const auto per_partition = events_per_partition(shop, 1, 30, 3);
  REQUIRE(per_partition.size() == 2);
  // The old owner's events, counted from the moment the coordinator decided that a partition
  // moves until the new owner has it: what the handover waited for.
  std::atomic<bool> decided{false};
  std::atomic<bool> granted{false};
  std::atomic<int> charged{0};
  std::atomic<int> charged_meanwhile{0};
  auto first_options = shop.member(coordinator.endpoint());
  first_options.name = "first";
  first_options.gateway_call_time = 50ms;  // a read-ahead of 32 would take 1.6 s to apply
  first_options.turn = 1;
  first_options.fetch = 32;
  first_options.on_charged = [&](const MemberId&, PartitionId, std::string_view) {
    ++charged;
    if (decided && !granted) ++charged_meanwhile;
  };
  MemberThread first(context, first_options);
  // The first member is at work on a read-ahead of both partitions when the second joins.
  REQUIRE(eventually([&] { return first.status().owned.size() == 2; }));
  REQUIRE(eventually([&] { return charged >= 1; }));
  const MemberId first_id = first.status().member_id;
  const std::uint64_t generation = coordinator.status().generation;
  auto second_options = shop.member(coordinator.endpoint());
  second_options.name = "second";
  MemberThread second(context, second_options);
  REQUIRE(eventually(
      [&] {
        const auto status = coordinator.status();
        if (status.generation > generation) decided = true;
        granted = std::any_of(status.owners.begin(), status.owners.end(),
                              [&](const auto& owner) { return owner && *owner != first_id; });
        return granted.load();
      },
      20s));
  // Turn 1: the event in hand, and at most one more if the news came just after the member had
  // looked (a little slack for a loaded machine). Applying the read-ahead first would be up to 32.
  CHECK(charged_meanwhile <= 3);
  check_exactly_once_in_order(shop, events);
  CHECK(coordinator.status().fences_failed == 0);
}

TEST_CASE("turns: a commit writes every partition that moved, once one of them is due",
          "[scaling][runtime][turns]") {
  Shop shop(4);
  zmq::context_t context;
  CoordinatorService coordinator(context, shop.coordinator());
  const std::uint64_t events = shop.produce(1, 40, 3);
  REQUIRE(events_per_partition(shop, 1, 40, 3).size() == 4);
  auto options = shop.member(coordinator.endpoint());
  options.turn = 1;
  options.commit_every = 5;
  options.commit_interval = std::chrono::hours(1);  // only the count makes a commit due here
  MemberThread member(context, options);
  check_exactly_once_in_order(shop, events);
  REQUIRE(eventually([&] { return member.status().processed == events; }));
  const auto status = member.status();
  // Turn by turn the four partitions move together: when one has moved 5 events, the others
  // have moved 4 or 5, and they go in the same transaction, about one commit per 20 events.
  // Committed one partition at a time, each would need its own: about one per 5 events.
  CHECK(status.commits >= 1);
  CHECK(status.commits <= events / options.commit_every / 2);
  CHECK(status.commits_fenced == 0);
}

TEST_CASE("turns: a member with a turn or a read of 0 events is refused", "[scaling][turns]") {
  zmq::context_t context;
  MemberOptions options;
  options.turn = 0;
  CHECK_THROWS_AS(GroupMember(context, options), std::invalid_argument);
  options.turn = 1;
  options.fetch = 0;
  CHECK_THROWS_AS(GroupMember(context, options), std::invalid_argument);
}
