// Target `group_protocol`: the scaling module's group protocol (group_protocol.hpp), then the
// coordinator that reads it. An input is up to eight messages, each two frames [kind, body];
// every one is decoded with decode_group_message, and those a member sends (join, heartbeat,
// revoked, leave) are applied in order to one GroupCoordinator (8 partitions, 1 s session
// timeout), the clock moving 300 ms per message so that members also die of silence.
//
// Properties:
// - decoding raises MalformedMessage only; a decoded message re-encodes to the same kind and to
//   a body that decodes equal and re-encodes to the very same bytes (a fixed point);
// - the coordinator refuses with GroupRequestRefused only; its generation never goes back;
//   every partition it says is owned is owned by a live member; and every assignment it would
//   send passes the protocol's own validating decode, unchanged.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "eda/scaling/coordinator.hpp"
#include "eda/scaling/group_protocol.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace eda::scaling;

void check_round_trip(const GroupMessage& message, std::string_view kind) {
  const GroupFrames once = encode_group_message(message);
  EDA_FUZZ_CHECK(once.kind == kind, "a message re-encoded under another kind");
  GroupMessage again;
  try {
    again = decode_group_message(once.kind, once.body);
  } catch (const eda::MalformedMessage& e) {
    eda::fuzz::property_failed(__FILE__, __LINE__, "decode(encode(decode(x)))", e.what());
  }
  EDA_FUZZ_CHECK(again == message, "a message changed through encode and decode");
  EDA_FUZZ_CHECK(encode_group_message(again) == once, "re-encoding is not a fixed point");
}

void apply(GroupCoordinator& group, const GroupMessage& message, GroupTime now) {
  if (const auto* join = std::get_if<JoinGroup>(&message)) {
    (void)group.join(join->name, now);
  } else if (const auto* beat = std::get_if<Heartbeat>(&message)) {
    (void)group.heartbeat(beat->member_id, beat->generation, now);
  } else if (const auto* revoked = std::get_if<RevokedPartitions>(&message)) {
    std::vector<PartitionId> partitions;
    for (const auto& entry : revoked->checkpoints) partitions.push_back(entry.first);
    (void)group.revoked(revoked->member_id, revoked->generation, partitions, now);
  } else if (const auto* leave = std::get_if<LeaveGroup>(&message)) {
    group.leave(leave->member_id, now);
  } else {
    (void)group.expire(now);  // what a coordinator receives but does not act on
  }
}

void check_group(const GroupCoordinator& group, std::uint64_t generation_before) {
  EDA_FUZZ_CHECK(group.generation() >= generation_before, "the generation went back");
  const std::vector<MemberId> members = group.members();
  for (const auto& owner : group.owners()) {
    EDA_FUZZ_CHECK(!owner || std::find(members.begin(), members.end(), *owner) != members.end(),
                   "a partition is owned by a member that is not live");
  }
  for (const MemberId& id : members) {
    const GroupMessage told = group.assignment_of(id);
    const GroupFrames frames = encode_group_message(told);
    try {
      EDA_FUZZ_CHECK(decode_group_message(frames.kind, frames.body) == told,
                     "an assignment changed on the wire");
    } catch (const eda::MalformedMessage& e) {
      eda::fuzz::property_failed(__FILE__, __LINE__, "the coordinator's assignment decodes",
                                 e.what());
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto frames = eda::fuzz::split_frames(eda::fuzz::as_view(data, size));
  GroupCoordinator group(CoordinatorOptions{.partition_count = 8});
  GroupTime now{};
  for (std::size_t i = 0; i + 1 < frames.size(); i += 2) {
    now += std::chrono::milliseconds(300);
    GroupMessage message;
    try {
      message = decode_group_message(frames[i], frames[i + 1]);
    } catch (const eda::MalformedMessage&) {
      continue;
    }
    check_round_trip(message, frames[i]);
    const std::uint64_t before = group.generation();
    try {
      apply(group, message, now);
    } catch (const GroupRequestRefused&) {
    }
    check_group(group, before);
  }
  return 0;
}
