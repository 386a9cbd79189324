// The checkpoint store (checkpoint_store.hpp): offsets survive reopening the file, a zombie's
// commit (another member's, or an older generation's) is refused and changes nothing, a commit
// of several partitions is all or nothing, offsets never go back, and bad input is refused with
// a reason.
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "eda/scaling/checkpoint_store.hpp"
#include "eda/sqlite/database.hpp"
#include "eda_test_support.hpp"

using namespace eda::scaling;
using eda::test::TempDatabase;

namespace {

/// Runs `request` and returns the reason it was refused (fails the test when it was not).
template <class Request>
CheckpointRefusal refusal_of(Request&& request) {
  try {
    request();
  } catch (const CheckpointRejected& e) {
    INFO(e.what());
    return e.refusal();
  }
  FAIL("the request was accepted");
  return CheckpointRefusal::unknown_group;  // not reached
}

PartitionCheckpoint at(std::uint64_t offset, std::uint64_t generation, const MemberId& owner) {
  return PartitionCheckpoint{offset, generation, owner};
}

}  // namespace

TEST_CASE("a registered group starts at offset 0, generation 0, owned by nobody",
          "[scaling][checkpoints]") {
  TempDatabase file;
  CheckpointStore store(file.path(), eda::sqlite::Durability::normal);
  CHECK_FALSE(store.partition_count("billing").has_value());
  store.register_group("billing", 4);
  CHECK(store.partition_count("billing") == 4U);
  CHECK(store.read_all("billing") == std::vector<PartitionCheckpoint>(4));
  store.register_group("billing", 4);  // again, same count: nothing changes
  CHECK(store.read_all("billing").size() == 4);
}

TEST_CASE("committed offsets survive reopening the file", "[scaling][checkpoints]") {
  TempDatabase file;
  {
    CheckpointStore store(file.path());
    store.register_group("billing", 8);
    store.register_group("shipping", 2);
    store.fence("billing", "billing-1", 3, {5, 6});
    store.commit("billing", "billing-1", 3, {{5, 120}, {6, 7}});
    store.fence("shipping", "shipping-1", 1, {1});
    store.commit("shipping", "shipping-1", 1, {{1, 9}});
  }
  const CheckpointStore reopened(file.path());
  CHECK(reopened.partition_count("billing") == 8U);
  CHECK(reopened.read("billing", 5) == at(120, 3, "billing-1"));
  CHECK(reopened.read("billing", 6) == at(7, 3, "billing-1"));
  CHECK(reopened.read("billing", 0) == PartitionCheckpoint{});
  CHECK(reopened.read("shipping", 1) == at(9, 1, "shipping-1"));  // groups are separate
  CHECK(reopened.read("shipping", 0) == PartitionCheckpoint{});
}

TEST_CASE("a zombie's commit is refused and changes nothing", "[scaling][checkpoints]") {
  TempDatabase file;
  CheckpointStore store(file.path(), eda::sqlite::Durability::normal);
  store.register_group("billing", 4);
  // billing-1 (generation 1) owns partitions 0 and 1 and commits.
  store.fence("billing", "billing-1", 1, {0, 1});
  store.commit("billing", "billing-1", 1, {{0, 50}, {1, 40}});
  // billing-2 joins (generation 2): partition 1 moves to it, granted in generation 2.
  store.fence("billing", "billing-2", 2, {1});
  const auto before = store.read_all("billing");

  SECTION("the old owner's commit of the moved partition is refused, its other one with it") {
    // Same generation as the grant (a cooperative rebalance moves it within one generation):
    // the owner check is what stops it.
    try {
      store.commit("billing", "billing-1", 2, {{0, 60}, {1, 45}});
      FAIL("a zombie's commit was accepted");
    } catch (const NotOwner& e) {
      CHECK(e.refusal() == CheckpointRefusal::not_owner);
      CHECK(e.category() == eda::ErrorCategory::conflict);
      CHECK_THAT(e.what(), Catch::Contains("partition 1 of group 'billing' was granted to "
                                           "'billing-2', not to 'billing-1'"));
    }
    CHECK(store.read_all("billing") == before);
  }
  SECTION("the partition it kept can still be committed, even under the old generation") {
    store.commit("billing", "billing-1", 1, {{0, 60}});
    CHECK(store.read("billing", 0) == at(60, 1, "billing-1"));
  }
  SECTION("a commit older than the partition's generation is refused") {
    store.commit("billing", "billing-2", 5, {{1, 46}});  // raises the generation to 5
    CHECK(store.read("billing", 1) == at(46, 5, "billing-2"));
    try {
      store.commit("billing", "billing-2", 3, {{1, 47}});
      FAIL("a stale commit was accepted");
    } catch (const StaleGeneration& e) {
      CHECK(e.category() == eda::ErrorCategory::conflict);
      CHECK_THAT(e.what(), Catch::Contains("partition 1 of group 'billing' belongs to "
                                           "generation 5, the request is from generation 3"));
    }
    CHECK(store.read("billing", 1) == at(46, 5, "billing-2"));
  }
  SECTION("a partition never granted cannot be committed") {
    CHECK(refusal_of([&] {
            store.commit("billing", "billing-1", 1, {{2, 1}});
          }) == CheckpointRefusal::not_owner);
    CHECK(store.read_all("billing") == before);
  }
  SECTION("a fence never goes back") {
    CHECK_THROWS_AS(store.fence("billing", "billing-1", 1, {1}), StaleGeneration);
    CHECK(store.read_all("billing") == before);
  }
}

TEST_CASE("a commit of several partitions is stored whole or not at all",
          "[scaling][checkpoints]") {
  TempDatabase file;
  CheckpointStore store(file.path(), eda::sqlite::Durability::normal);
  store.register_group("billing", 4);
  store.fence("billing", "billing-1", 1, {0, 1, 2, 3});
  store.commit("billing", "billing-1", 1, {{0, 10}, {1, 10}, {2, 10}, {3, 10}});
  const std::vector<PartitionCheckpoint> all_at_10(4, at(10, 1, "billing-1"));
  CHECK(store.read_all("billing") == all_at_10);

  // The last checkpoint goes backwards: the three before it are not stored either.
  CHECK(refusal_of([&] {
          store.commit("billing", "billing-1", 1, {{0, 20}, {1, 20}, {2, 20}, {3, 9}});
        }) == CheckpointRefusal::offset_backwards);
  CHECK(store.read_all("billing") == all_at_10);

  // The same offset again is fine (a retried commit); a bigger one moves on.
  store.commit("billing", "billing-1", 1, {{3, 10}, {2, 11}});
  CHECK(store.read("billing", 3) == at(10, 1, "billing-1"));
  CHECK(store.read("billing", 2) == at(11, 1, "billing-1"));
}

TEST_CASE("bad requests are refused, each with its reason, and change nothing",
          "[scaling][checkpoints]") {
  TempDatabase file;
  CheckpointStore store(file.path(), eda::sqlite::Durability::normal);
  store.register_group("billing", 4);
  store.fence("billing", "billing-1", 1, {0, 1, 2, 3});
  store.commit("billing", "billing-1", 1, {{2, 10}});
  const auto before = store.read_all("billing");
  constexpr std::uint64_t too_big = max_checkpoint_value + 1;
  const auto minus_one = static_cast<std::uint64_t>(std::int64_t{-1});
  const std::string b1 = "billing-1";

  CHECK(refusal_of([&] {
          store.commit("orders", b1, 1, {{0, 1}});
        }) == CheckpointRefusal::unknown_group);
  CHECK(refusal_of([&] { (void)store.read("orders", 0); }) == CheckpointRefusal::unknown_group);
  CHECK(refusal_of([&] {
          store.commit("billing", b1, 1, {{4, 1}});
        }) == CheckpointRefusal::unknown_partition);
  CHECK(refusal_of([&] {
          store.commit("billing", b1, 1, {{0, 1}, {70000, 1}});
        }) == CheckpointRefusal::unknown_partition);
  CHECK(refusal_of([&] { (void)store.read("billing", 4); }) ==
        CheckpointRefusal::unknown_partition);
  CHECK(refusal_of([&] { store.fence("billing", b1, 2, {4}); }) ==
        CheckpointRefusal::unknown_partition);
  CHECK(refusal_of([&] {
          store.commit("billing", b1, 1, {{0, too_big}});
        }) == CheckpointRefusal::value_out_of_range);
  CHECK(refusal_of([&] {
          store.commit("billing", b1, 1, {{0, minus_one}});
        }) == CheckpointRefusal::value_out_of_range);
  CHECK(refusal_of([&] {
          store.commit("billing", b1, minus_one, {{0, 1}});
        }) == CheckpointRefusal::value_out_of_range);
  CHECK(refusal_of([&] { store.fence("billing", b1, too_big, {0}); }) ==
        CheckpointRefusal::value_out_of_range);
  CHECK(refusal_of([&] {
          store.commit("billing", b1, 1, {{0, 5}, {1, 5}, {0, 6}});
        }) == CheckpointRefusal::duplicate_partition);
  CHECK(refusal_of([&] {
          store.fence("billing", b1, 2, {3, 3});
        }) == CheckpointRefusal::duplicate_partition);
  CHECK(refusal_of([&] {
          store.commit("", b1, 1, {{0, 1}});
        }) == CheckpointRefusal::invalid_group_name);
  CHECK(refusal_of([&] { store.register_group(std::string(256, 'g'), 4); }) ==
        CheckpointRefusal::invalid_group_name);
  CHECK(refusal_of([&] {
          store.commit("billing", "", 1, {{0, 1}});
        }) == CheckpointRefusal::invalid_member_id);
  CHECK(refusal_of([&] { store.fence("billing", std::string(256, 'b'), 2, {0}); }) ==
        CheckpointRefusal::invalid_member_id);
  CHECK(refusal_of([&] { store.register_group("billing", 8); }) ==
        CheckpointRefusal::partition_count_mismatch);
  CHECK_THROWS_AS(store.register_group("shipping", 0), std::invalid_argument);
  CHECK_THROWS_AS(store.register_group("shipping", max_partitions + 1), std::invalid_argument);
  CHECK_FALSE(store.partition_count("shipping").has_value());

  CHECK(store.read_all("billing") == before);
  CHECK(store.partition_count("billing") == 4U);

  // The largest value the store keeps is accepted, and read back exactly.
  store.commit("billing", b1, max_checkpoint_value, {{0, max_checkpoint_value}});
  CHECK(store.read("billing", 0) == at(max_checkpoint_value, max_checkpoint_value, b1));
}

TEST_CASE("a file holding values the store never writes is reported, not trusted",
          "[scaling][checkpoints]") {
  TempDatabase file;
  {
    CheckpointStore store(file.path(), eda::sqlite::Durability::normal);
    store.register_group("billing", 2);
    store.fence("billing", "billing-1", 1, {0, 1});
  }
  {
    // Something else edits the file, around the table's CHECK constraints.
    const eda::sqlite::Database raw(file.path(), eda::sqlite::Durability::normal, "raw");
    raw.exec("PRAGMA ignore_check_constraints = ON");
    raw.exec("UPDATE partition_checkpoints SET committed_offset = -5 WHERE partition_id = 1");
  }
  CheckpointStore store(file.path(), eda::sqlite::Durability::normal);
  CHECK(store.read("billing", 0) == at(0, 1, "billing-1"));
  CHECK_THROWS_WITH(store.read("billing", 1), Catch::Contains("holds offset -5"));
  CHECK_THROWS_AS(store.read_all("billing"), eda::StorageError);
  CHECK_THROWS_AS(store.commit("billing", "billing-1", 1, {{1, 3}}), eda::StorageError);
  // The store still works for what is sound (the failed reads left no statement open).
  store.commit("billing", "billing-1", 1, {{0, 3}});
  CHECK(store.read("billing", 0) == at(3, 1, "billing-1"));
}
