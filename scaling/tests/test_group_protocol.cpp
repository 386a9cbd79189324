// The group protocol (group_protocol.hpp): every message survives its two frames, and every
// kind of malformed input is refused with MalformedMessage naming the fault and the field.
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include <catch2/catch.hpp>

#include "eda/codec.hpp"
#include "eda/scaling/group_protocol.hpp"

using namespace eda::scaling;
using eda::WireFault;

namespace {

/// The fault decoding `kind`/`body` raises (fails the test when it decodes).
WireFault fault_of(std::string_view kind, const std::string& body, const std::string& says) {
  try {
    (void)decode_group_message(kind, body);
  } catch (const eda::MalformedMessage& e) {
    INFO(e.what());
    CHECK_THAT(e.what(), Catch::Contains(says));
    CHECK(e.category() == eda::ErrorCategory::wire);
    return e.fault();
  }
  FAIL("decoded: " << kind);
  return WireFault::unprocessable;  // not reached
}

template <class... Fields>
std::string body_of(const Fields&... fields) {
  return eda::encode_value(std::make_tuple(fields...));
}

}  // namespace

TEST_CASE("every group message survives its two frames", "[scaling][protocol]") {
  const std::vector<std::pair<GroupMessage, std::string_view>> messages = {
      {JoinGroup{"billing"}, "group.join"},
      {Heartbeat{"billing-3", 7}, "group.heartbeat"},
      {RevokedPartitions{"billing-3", 7, {{2, 120}, {9, 0}}}, "group.revoked"},
      {LeaveGroup{"billing-3", 7, {{4, 77}}}, "group.leave"},
      {LeaveGroup{"billing-3", 8, {}}, "group.leave"},
      {MemberAssignment{"billing-3", 7, {1, 2, 9}, {9}, {4}}, "group.assignment"},
      {RevokeRequest{7, {0, 65535}}, "group.revoke"},
      {GroupRefused{"unknown_member", "no live member is called 'billing-9'"}, "group.refused"},
  };
  for (const auto& [message, kind] : messages) {
    const GroupFrames frames = encode_group_message(message);
    INFO(kind);
    CHECK(frames.kind == kind);
    const GroupMessage decoded = decode_group_message(frames.kind, frames.body);
    CHECK(decoded == message);
    CHECK(encode_group_message(decoded) == frames);
  }
  // Checkpoints reach the store as they were sent.
  const auto checkpoints = checkpoints_of({{2, 120}, {9, 0}});
  REQUIRE(checkpoints.size() == 2);
  CHECK((checkpoints[0].partition == 2 && checkpoints[0].offset == 120));
  CHECK((checkpoints[1].partition == 9 && checkpoints[1].offset == 0));
}

TEST_CASE("bytes that are not a group message's body are refused", "[scaling][protocol]") {
  const std::string good = encode_group_message(Heartbeat{"billing-1", 3}).body;
  CHECK(fault_of("group.heartbeat", "", "") == WireFault::truncated);
  CHECK(fault_of("group.heartbeat", good.substr(0, good.size() - 1), "") == WireFault::truncated);
  CHECK(fault_of("group.heartbeat", good + "\x01", "") == WireFault::trailing_bytes);
  CHECK(fault_of("group.heartbeat", "\xc1", "") == WireFault::not_messagepack);
  CHECK(fault_of("group.heartbeat", std::string(max_group_message_bytes + 1, '\x90'),
                 "at most 1048576") == WireFault::oversized);
  CHECK(fault_of("group.hello", good, "'group.hello' is not a group message kind") ==
        WireFault::bad_field);
  CHECK(fault_of(std::string("group.join\0", 11), body_of(std::string("billing")),
                 "not a group message kind") == WireFault::bad_field);
}

TEST_CASE("a body of the wrong shape is refused", "[scaling][protocol]") {
  // Fields missing or extra, of the wrong type, negative, too large for their type.
  CHECK(fault_of("group.heartbeat", body_of(std::string("billing-1")),
                 "has 1 fields, expected 2") == WireFault::payload_mismatch);
  CHECK(fault_of("group.heartbeat", body_of(std::string("billing-1"), 1, 2), "expected 2") ==
        WireFault::payload_mismatch);
  CHECK(fault_of("group.heartbeat", body_of(std::string("billing-1"), std::string("3")),
                 "wrong type") == WireFault::payload_mismatch);
  CHECK(fault_of("group.heartbeat", body_of(std::string("billing-1"), std::int64_t{-1}),
                 "wrong type") == WireFault::payload_mismatch);
  CHECK(fault_of("group.heartbeat", eda::encode_value(std::string("billing-1")), "not an array") ==
        WireFault::payload_mismatch);
  CHECK(fault_of("group.revoke", body_of(1, std::vector<std::uint64_t>{1ULL << 32U}),
                 "wrong type") == WireFault::payload_mismatch);
  // A checkpoint is a pair [partition, offset], nothing shorter or longer.
  using Short = std::tuple<std::uint32_t>;
  using Long = std::tuple<std::uint32_t, std::uint64_t, std::uint64_t>;
  CHECK(fault_of("group.revoked", body_of(std::string("billing-1"), 1, std::vector<Short>{{2}}),
                 "wrong type") == WireFault::payload_mismatch);
  CHECK(fault_of("group.revoked",
                 body_of(std::string("billing-1"), 1, std::vector<Long>{{2, 3, 4}}),
                 "wrong type") == WireFault::payload_mismatch);
  CHECK(fault_of("group.join", body_of(42), "wrong type") == WireFault::payload_mismatch);
}

TEST_CASE("values that break a rule are refused, naming the rule", "[scaling][protocol]") {
  const auto bad = [](const GroupMessage& message, const std::string& says) {
    const GroupFrames frames = encode_group_message(message);
    CHECK(fault_of(frames.kind, frames.body, says) == WireFault::bad_field);
  };
  bad(JoinGroup{""}, "name '' is not 1 to 64");
  bad(JoinGroup{std::string(65, 'b')}, "is not 1 to 64");
  bad(JoinGroup{"bill ing"}, "of A-Z a-z 0-9 . _ -");
  bad(Heartbeat{"", 1}, "member id '' is not");
  bad(Heartbeat{"billing\x01", 1}, "member id 'billing\\x01' is not");
  bad(Heartbeat{std::string(max_member_id_bytes + 1, 'b'), 1}, "member id");
  bad(Heartbeat{"billing-1", max_checkpoint_value + 1}, "generation 9223372036854775808 is above");
  bad(RevokedPartitions{"billing-1", 1, {{3, 5}, {3, 6}}}, "not strictly ascending (3 then 3)");
  bad(RevokedPartitions{"billing-1", 1, {{4, 5}, {3, 6}}}, "not strictly ascending (4 then 3)");
  bad(RevokedPartitions{"billing-1", 1, {{65536, 5}}}, "names partition 65536");
  bad(LeaveGroup{"billing-1", 1, {{1, ~0ULL}}}, "an offset 18446744073709551615 is above");
  bad(MemberAssignment{"billing-1", 1, {1, 2}, {3}, {}},
      "revokes a partition the member does not own");
  bad(MemberAssignment{"billing-1", 1, {1, 2}, {}, {2, 5}},
      "awaits a partition the member already owns");
  bad(MemberAssignment{"billing-1", 1, {2, 1}, {}, {}}, "the owned list is not strictly ascending");
  bad(RevokeRequest{1, {70000}}, "names partition 70000");
  bad(GroupRefused{"because", "no"}, "reason 'because' is not one a coordinator sends");
  bad(GroupRefused{"group_full", std::string(max_refusal_detail_bytes + 1, 'x')},
      "the detail has 1001 bytes");
  // Every refusal a coordinator can send is accepted.
  for (const auto reason :
       {GroupRefusal::unknown_member, GroupRefusal::stale_generation,
        GroupRefusal::future_generation, GroupRefusal::invalid_name, GroupRefusal::group_full}) {
    const auto frames = encode_group_message(GroupRefused{std::string(to_string(reason)), ""});
    CHECK_NOTHROW(decode_group_message(frames.kind, frames.body));
  }
  // The limits themselves are accepted.
  const auto edge =
      encode_group_message(LeaveGroup{std::string(max_member_id_bytes, 'b'),
                                      max_checkpoint_value,
                                      {{0, 0}, {max_partitions - 1, max_checkpoint_value}}});
  CHECK_NOTHROW(decode_group_message(edge.kind, edge.body));
}
