// The partitioner (partitioner.hpp): the hash is pinned to published values so that a change
// of hash (which would move every order to another partition) fails here first; every key lands
// in range; 10 000 order ids spread evenly.
#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "eda/scaling/partitioner.hpp"

using eda::scaling::fnv1a_64;
using eda::scaling::max_partitions;
using eda::scaling::mix64;
using eda::scaling::Partitioner;

TEST_CASE("FNV-1a 64 gives the published test vectors", "[scaling][partitioner]") {
  // The FNV reference test vectors (the offset basis for the empty input).
  STATIC_REQUIRE(fnv1a_64("") == 0xcbf29ce484222325ULL);
  CHECK(fnv1a_64("a") == 0xaf63dc4c8601ec8cULL);
  CHECK(fnv1a_64("foobar") == 0x85944171f73967e8ULL);
  // Bytes above 0x7f hash as unsigned bytes, whatever the signedness of char.
  CHECK(fnv1a_64(std::string("\xff", 1)) == ((0xcbf29ce484222325ULL ^ 0xffULL) * 0x100000001b3ULL));
}

TEST_CASE("the finalizer is MurmurHash3's fmix64", "[scaling][partitioner]") {
  CHECK(mix64(0) == 0);  // fmix64 keeps 0 (no constant is added)
  CHECK(mix64(1) == 0xb456bcfc34c2cb2cULL);
}

TEST_CASE("an order always lands on the same pinned partition", "[scaling][partitioner]") {
  // Pinned: these moving means every stored order moves to another partition.
  struct Pinned {
    std::string key;
    std::uint32_t of16, of64, of65536;
  };
  const std::vector<Pinned> pinned = {
      {"order-1", 5, 37, 55717},
      {"order-42", 6, 6, 25478},
      {"order-1000", 12, 60, 52540},
      {"", 6, 38, 10534},
      {std::string("\xff\x00", 2), 10, 58, 6010},
  };
  const Partitioner p16(16);
  const Partitioner p64(64);
  const Partitioner p65536(max_partitions);
  for (const auto& pin : pinned) {
    INFO("key '" << pin.key << "'");
    CHECK(p16.partition_of(pin.key) == pin.of16);
    CHECK(p64.partition_of(pin.key) == pin.of64);
    CHECK(p65536.partition_of(pin.key) == pin.of65536);
    CHECK(Partitioner(1).partition_of(pin.key) == 0);
  }
}

TEST_CASE("keys differing only in the high bits of a byte are spread too",
          "[scaling][partitioner]") {
  // FNV-1a alone puts "1" and "a" (0x31, 0x61) on one partition of 16; the finalizer does not.
  CHECK(fnv1a_64("1") % 16 == fnv1a_64("a") % 16);
  const Partitioner partitioner(16);
  CHECK(partitioner.partition_of("1") != partitioner.partition_of("a"));
  // The sixteen one-byte keys 0x01, 0x11, ... 0xf1 share their low four bits.
  std::vector<bool> used(16, false);
  for (int high = 0; high < 16; ++high) {
    const char byte = static_cast<char>(0x01 + 16 * high);
    used[partitioner.partition_of(std::string(1, byte))] = true;
  }
  CHECK(std::count(used.begin(), used.end(), true) >= 8);
}

TEST_CASE("a partition count outside 1..max_partitions is refused", "[scaling][partitioner]") {
  CHECK_THROWS_AS(Partitioner(0), std::invalid_argument);
  CHECK_THROWS_WITH(Partitioner(max_partitions + 1), Catch::Contains("1 to 65536 partitions"));
  CHECK(Partitioner(1).partition_count() == 1);
  CHECK(Partitioner(max_partitions).partition_count() == max_partitions);
}

TEST_CASE("10 000 order ids spread evenly over the partitions", "[scaling][partitioner]") {
  // The keys are fixed, so the counts are too: this fails only if the hash changes to a worse
  // one, never by chance. A random spread of 10 000 keys over 64 partitions stays within about
  // ±30% of the fair share; the bound allows ±40%.
  const std::uint32_t count = GENERATE(2U, 3U, 7U, 16U, 32U, 64U);
  const Partitioner partitioner(count);
  std::vector<int> per_partition(count, 0);
  constexpr int keys = 10'000;
  for (int i = 0; i < keys; ++i) {
    const auto partition = partitioner.partition_of("order-" + std::to_string(i));
    REQUIRE(partition < count);
    ++per_partition[partition];
  }
  const double fair = static_cast<double>(keys) / count;
  INFO(count << " partitions, fair share " << fair);
  for (const int n : per_partition) {
    CHECK(n > 0.6 * fair);
    CHECK(n < 1.4 * fair);
  }
}

TEST_CASE("every key lands in range, whatever the count", "[scaling][partitioner]") {
  for (const std::uint32_t count : {1U, 5U, 31U, 1000U, max_partitions}) {
    const Partitioner partitioner(count);
    for (int i = 0; i < 2000; ++i) {
      std::string key(static_cast<std::size_t>(i % 37), static_cast<char>(i * 7));
      key += std::to_string(i);
      REQUIRE(partitioner.partition_of(key) < count);
    }
  }
}
