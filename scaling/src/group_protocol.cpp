// The group protocol's frames: plain encoding, and a decoding that checks the shape (through
// the kit's decode_value) and then every rule of each message.
#include "eda/scaling/group_protocol.hpp"

#include <algorithm>
#include <array>

#include "eda/codec.hpp"

namespace eda::scaling {
namespace {

[[noreturn]] void bad_field(std::string_view kind, const std::string& what) {
  throw MalformedMessage(WireFault::bad_field, std::string(kind) + " message: " + what);
}

bool id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

void check_member_id(std::string_view kind, std::string_view id) {
  if (id.empty() || id.size() > max_member_id_bytes ||
      !std::all_of(id.begin(), id.end(), id_char)) {
    bad_field(kind, "member id '" + printable(id) + "' is not 1 to " +
                        std::to_string(max_member_id_bytes) + " of A-Z a-z 0-9 . _ -");
  }
}

void check_number(std::string_view kind, const char* what, std::uint64_t value) {
  if (value > max_checkpoint_value) {
    bad_field(kind, std::string(what) + " " + std::to_string(value) + " is above " +
                        std::to_string(max_checkpoint_value));
  }
}

void check_partitions(std::string_view kind, const char* what,
                      const std::vector<PartitionId>& partitions) {
  for (std::size_t i = 0; i < partitions.size(); ++i) {
    if (partitions[i] >= max_partitions) {
      bad_field(kind, std::string(what) + " names partition " + std::to_string(partitions[i]) +
                          "; partitions are below " + std::to_string(max_partitions));
    }
    if (i > 0 && partitions[i] <= partitions[i - 1]) {
      bad_field(kind, std::string(what) + " is not strictly ascending (" +
                          std::to_string(partitions[i - 1]) + " then " +
                          std::to_string(partitions[i]) + ")");
    }
  }
}

void check_checkpoints(std::string_view kind, const std::vector<CheckpointEntry>& entries) {
  std::vector<PartitionId> partitions;
  partitions.reserve(entries.size());
  for (const auto& [partition, offset] : entries) {
    check_number(kind, "an offset", offset);
    partitions.push_back(partition);
  }
  check_partitions(kind, "the checkpoint list", partitions);
}

bool subset(const std::vector<PartitionId>& part, const std::vector<PartitionId>& whole) {
  return std::includes(whole.begin(), whole.end(), part.begin(), part.end());
}

bool disjoint(const std::vector<PartitionId>& a, const std::vector<PartitionId>& b) {
  std::vector<PartitionId> both;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(both));
  return both.empty();
}

/// The reasons a coordinator sends in a refusal.
bool known_reason(std::string_view reason) {
  static constexpr std::array refusals = {
      GroupRefusal::unknown_member, GroupRefusal::stale_generation, GroupRefusal::future_generation,
      GroupRefusal::invalid_name, GroupRefusal::group_full};
  return reason == "malformed_message" ||
         std::any_of(refusals.begin(), refusals.end(),
                     [reason](GroupRefusal r) { return to_string(r) == reason; });
}

void validate(std::string_view kind, const JoinGroup& m) {
  if (!is_valid_member_name(m.name)) {
    bad_field(kind, "name '" + printable(m.name) + "' is not 1 to " +
                        std::to_string(max_member_name_bytes) + " of A-Z a-z 0-9 . _ -");
  }
}

void validate(std::string_view kind, const Heartbeat& m) {
  check_member_id(kind, m.member_id);
  check_number(kind, "generation", m.generation);
}

void validate(std::string_view kind, const RevokedPartitions& m) {
  check_member_id(kind, m.member_id);
  check_number(kind, "generation", m.generation);
  check_checkpoints(kind, m.checkpoints);
}

void validate(std::string_view kind, const LeaveGroup& m) {
  check_member_id(kind, m.member_id);
  check_number(kind, "generation", m.generation);
  check_checkpoints(kind, m.checkpoints);
}

void validate(std::string_view kind, const MemberAssignment& m) {
  check_member_id(kind, m.member_id);
  check_number(kind, "generation", m.generation);
  check_partitions(kind, "the owned list", m.owned);
  check_partitions(kind, "the revoke list", m.revoke);
  check_partitions(kind, "the awaiting list", m.awaiting);
  if (!subset(m.revoke, m.owned)) {
    bad_field(kind, "it revokes a partition the member does not own");
  }
  if (!disjoint(m.awaiting, m.owned)) {
    bad_field(kind, "it awaits a partition the member already owns");
  }
}

void validate(std::string_view kind, const RevokeRequest& m) {
  check_number(kind, "generation", m.generation);
  check_partitions(kind, "the partition list", m.partitions);
}

void validate(std::string_view kind, const GroupRefused& m) {
  if (!known_reason(m.reason)) {
    bad_field(kind, "reason '" + printable(m.reason) + "' is not one a coordinator sends");
  }
  if (m.detail.size() > max_refusal_detail_bytes) {
    bad_field(kind, "the detail has " + std::to_string(m.detail.size()) + " bytes, at most " +
                        std::to_string(max_refusal_detail_bytes) + " are allowed");
  }
}

template <class T>
GroupMessage read(std::string_view kind, std::string_view body) {
  const std::string what = "body of " + std::string(kind);
  T message = decode_value<T>(body, what);
  validate(kind, message);
  return message;
}

/// The kind of each alternative of GroupMessage, in order.
constexpr std::array<std::string_view, std::variant_size_v<GroupMessage>> kinds = {
    group_join,       group_heartbeat, group_revoked, group_leave,
    group_assignment, group_revoke,    group_refused};

}  // namespace

GroupFrames encode_group_message(const GroupMessage& message) {
  return GroupFrames{std::string(kinds.at(message.index())),
                     std::visit([](const auto& body) { return encode_value(body); }, message)};
}

GroupMessage decode_group_message(std::string_view kind, std::string_view body) {
  if (body.size() > max_group_message_bytes) {
    throw MalformedMessage(WireFault::oversized,
                           std::string(printable(kind)) + " message of " +
                               std::to_string(body.size()) + " bytes; at most " +
                               std::to_string(max_group_message_bytes) + " are accepted");
  }
  if (kind == group_join) return read<JoinGroup>(kind, body);
  if (kind == group_heartbeat) return read<Heartbeat>(kind, body);
  if (kind == group_revoked) return read<RevokedPartitions>(kind, body);
  if (kind == group_leave) return read<LeaveGroup>(kind, body);
  if (kind == group_assignment) return read<MemberAssignment>(kind, body);
  if (kind == group_revoke) return read<RevokeRequest>(kind, body);
  if (kind == group_refused) return read<GroupRefused>(kind, body);
  throw MalformedMessage(WireFault::bad_field,
                         "'" + printable(kind) +
                             "' is not a group message kind (group.join, "
                             "group.heartbeat, group.revoked, group.leave, "
                             "group.assignment, group.revoke, group.refused)");
}

std::vector<Checkpoint> checkpoints_of(const std::vector<CheckpointEntry>& entries) {
  std::vector<Checkpoint> result;
  result.reserve(entries.size());
  for (const auto& [partition, offset] : entries) result.push_back(Checkpoint{partition, offset});
  return result;
}

}  // namespace eda::scaling
