// The coordinator and the checkpoint store together, as the runtime will drive them (without
// sockets): every grant fences the store before its new owner starts; an old owner commits
// before it confirms a revocation; a new owner resumes from the committed offset; and a zombie
// (an old owner that lost its partition, or a member declared dead) cannot commit any more.
#include <chrono>
#include <map>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "eda/scaling/checkpoint_store.hpp"
#include "eda/scaling/coordinator.hpp"
#include "eda_test_support.hpp"

using namespace eda::scaling;
using namespace std::chrono_literals;

namespace {

/// What the runtime does with the coordinator's grants: one fence per (member, generation).
void fence_grants(CheckpointStore& store, const std::vector<Grant>& grants) {
  std::map<std::pair<MemberId, std::uint64_t>, std::vector<PartitionId>> by_owner;
  for (const Grant& g : grants) by_owner[{g.member, g.generation}].push_back(g.partition);
  for (const auto& [owner, partitions] : by_owner) {
    store.fence("billing", owner.first, owner.second, partitions);
  }
}

}  // namespace

TEST_CASE("a moved partition resumes from its last checkpoint and its old owner is fenced off",
          "[scaling][handover]") {
  eda::test::TempDatabase file;
  CheckpointStore store(file.path(), eda::sqlite::Durability::normal);
  store.register_group("billing", 4);
  GroupCoordinator group(CoordinatorOptions{.partition_count = 4, .session_timeout = 500ms});

  // billing-1 joins, is granted everything, processes a little.
  auto first = group.join("billing", 0ms);
  fence_grants(store, group.take_grants());
  store.commit("billing", first.member_id, first.generation, {{0, 10}, {1, 11}, {2, 12}, {3, 13}});

  // billing-2 joins; billing-1 is told to give up 2 and 3: it finishes them, commits, confirms.
  auto second = group.join("billing", 100ms);
  CHECK(group.take_grants().empty());  // nothing moves before the confirmation
  first = group.heartbeat(first.member_id, first.generation, 150ms);
  REQUIRE(first.revoke == std::vector<PartitionId>{2, 3});
  store.commit("billing", first.member_id, first.generation, {{2, 20}, {3, 30}});
  first = group.revoked(first.member_id, first.generation, first.revoke, 150ms);
  fence_grants(store, group.take_grants());

  // billing-2 starts 2 and 3 exactly where billing-1 stopped.
  second = group.heartbeat(second.member_id, second.generation, 200ms);
  REQUIRE(second.owned == std::vector<PartitionId>{2, 3});
  CHECK(store.read("billing", 2).offset == 20);
  CHECK(store.read("billing", 3).offset == 30);

  // A late commit of billing-1 for partition 3 (same generation as the grant) is refused.
  CHECK_THROWS_AS(store.commit("billing", first.member_id, first.generation, {{3, 31}}), NotOwner);
  CHECK(store.read("billing", 3).offset == 30);
  // What billing-1 kept, it still commits.
  store.commit("billing", first.member_id, first.generation, {{0, 15}});

  // billing-2 commits partition 2 up to 25 and then falls silent: declared dead after 500 ms.
  store.commit("billing", second.member_id, second.generation, {{2, 25}});
  first = group.heartbeat(first.member_id, first.generation, 500ms);
  first = group.heartbeat(first.member_id, first.generation, 701ms);
  CHECK(group.counters().deaths == 1);
  REQUIRE(first.owned == std::vector<PartitionId>{0, 1, 2, 3});
  fence_grants(store, group.take_grants());
  // billing-1 resumes 2 from 25 (what billing-2 did after 25 is delivered again) and 3 from 30.
  CHECK(store.read("billing", 2) == PartitionCheckpoint{25, first.generation, first.member_id});
  CHECK(store.read("billing", 3).offset == 30);

  // The dead member, only slow after all, tries to commit: refused, nothing changes.
  CHECK_THROWS_AS(store.commit("billing", second.member_id, second.generation, {{2, 40}}),
                  CheckpointRejected);
  CHECK(store.read("billing", 2).offset == 25);
  store.commit("billing", first.member_id, first.generation, {{2, 41}, {3, 31}});
  CHECK(store.read("billing", 2).offset == 41);
}
