/// @file group_protocol.hpp
/// @brief The messages between Billing members and the group coordinator, as two ZeroMQ
///        frames each: a kind, then a MessagePack body. Encoding is plain; decoding validates
///        everything, since the coordinator reads what any process on the network sends.
///
/// | direction            | frame 0            | frame 1 (MessagePack)                          |
/// |----------------------|--------------------|------------------------------------------------|
/// | member → coordinator | `group.join`       | JoinGroup: the member's name                   |
/// | member → coordinator | `group.heartbeat`  | Heartbeat: member id, generation               |
/// | member → coordinator | `group.revoked`    | RevokedPartitions: id, generation, checkpoints |
/// | member → coordinator | `group.leave`      | LeaveGroup: id, generation, last checkpoints   |
/// | coordinator → member | `group.assignment` | MemberAssignment: the answer to each of those  |
/// | coordinator → member | `group.revoke`     | RevokeRequest: give these up (sent at once on  |
/// |                      |                    | a rebalance, not only in the next answer)      |
/// | coordinator → member | `group.refused`    | GroupRefused: why a message was refused        |
///
/// A revocation carries the checkpoints of the partitions it gives up: the coordinator commits
/// them before it grants the partitions to their new owners, so the new owners resume exactly
/// where the old one stopped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <msgpack.hpp>

#include "eda/errors.hpp"
#include "eda/scaling/checkpoint_store.hpp"
#include "eda/scaling/coordinator.hpp"
#include "eda/scaling/partitioner.hpp"

namespace eda::scaling {

/// @brief Frame 0 of a join.
inline constexpr std::string_view group_join = "group.join";
/// @brief Frame 0 of a heartbeat.
inline constexpr std::string_view group_heartbeat = "group.heartbeat";
/// @brief Frame 0 of a confirmed revocation.
inline constexpr std::string_view group_revoked = "group.revoked";
/// @brief Frame 0 of a clean leave.
inline constexpr std::string_view group_leave = "group.leave";
/// @brief Frame 0 of an assignment (the coordinator's answer).
inline constexpr std::string_view group_assignment = "group.assignment";
/// @brief Frame 0 of a revocation request.
inline constexpr std::string_view group_revoke = "group.revoke";
/// @brief Frame 0 of a refusal.
inline constexpr std::string_view group_refused = "group.refused";

/// @brief The largest body a group message may have (1 MiB: an assignment of every one of
///        max_partitions partitions is about a third of that).
inline constexpr std::size_t max_group_message_bytes = 1U << 20;

/// @brief The longest member id: a name, a dash and a join number.
inline constexpr std::size_t max_member_id_bytes = max_member_name_bytes + 21;

/// @brief The longest refusal detail, in bytes.
inline constexpr std::size_t max_refusal_detail_bytes = 1000;

/// @brief One partition's checkpoint on the wire: `[partition, offset]`.
using CheckpointEntry = std::pair<PartitionId, std::uint64_t>;

/// @brief Body of `group.join`: a member asks to join.
struct JoinGroup {
  std::string name;  ///< Its name (`billing`); its id will be `name-N`.
  /// @brief Equal when the names are.
  friend bool operator==(const JoinGroup&, const JoinGroup&) = default;
  MSGPACK_DEFINE(name)
};

/// @brief Body of `group.heartbeat`: a member is alive.
struct Heartbeat {
  MemberId member_id;            ///< Who.
  std::uint64_t generation = 0;  ///< The newest generation it was told.
  /// @brief Equal when every field is.
  friend bool operator==(const Heartbeat&, const Heartbeat&) = default;
  MSGPACK_DEFINE(member_id, generation)
};

/// @brief Body of `group.revoked`: a member stopped processing partitions; here is where it got.
struct RevokedPartitions {
  MemberId member_id;            ///< Who.
  std::uint64_t generation = 0;  ///< The newest generation it was told.
  /// @brief The partitions given up with their offsets to commit, by ascending partition.
  std::vector<CheckpointEntry> checkpoints;
  /// @brief Equal when every field is.
  friend bool operator==(const RevokedPartitions&, const RevokedPartitions&) = default;
  MSGPACK_DEFINE(member_id, generation, checkpoints)
};

/// @brief Body of `group.leave`: a member leaves cleanly with its last checkpoints.
struct LeaveGroup {
  MemberId member_id;            ///< Who.
  std::uint64_t generation = 0;  ///< The newest generation it was told.
  /// @brief Its last checkpoints, by ascending partition.
  std::vector<CheckpointEntry> checkpoints;
  /// @brief Equal when every field is.
  friend bool operator==(const LeaveGroup&, const LeaveGroup&) = default;
  MSGPACK_DEFINE(member_id, generation, checkpoints)
};

/// @brief Body of `group.revoke`: give up these partitions (finish, commit, confirm).
struct RevokeRequest {
  std::uint64_t generation = 0;         ///< The generation that moves them.
  std::vector<PartitionId> partitions;  ///< Ascending.
  /// @brief Equal when both fields are.
  friend bool operator==(const RevokeRequest&, const RevokeRequest&) = default;
  MSGPACK_DEFINE(generation, partitions)
};

/// @brief Body of `group.refused`: why the coordinator refused a message.
struct GroupRefused {
  std::string reason;  ///< A GroupRefusal's name (to_string), or `malformed_message`.
  std::string detail;  ///< The refusal's message, for people.
  /// @brief Equal when both fields are.
  friend bool operator==(const GroupRefused&, const GroupRefused&) = default;
  MSGPACK_DEFINE(reason, detail)
};

/// @brief Any group message (`group.assignment` carries a MemberAssignment).
using GroupMessage = std::variant<JoinGroup, Heartbeat, RevokedPartitions, LeaveGroup,
                                  MemberAssignment, RevokeRequest, GroupRefused>;

/// @brief A group message as its two frames.
struct GroupFrames {
  std::string kind;  ///< Frame 0: `group.join`, ...
  std::string body;  ///< Frame 1: the MessagePack body.
  /// @brief Equal when both frames are.
  friend bool operator==(const GroupFrames&, const GroupFrames&) = default;
};

/// @brief The two frames of `message`.
[[nodiscard]] GroupFrames encode_group_message(const GroupMessage& message);

/// @brief Reads a group message from its two frames, validating everything.
///
/// Throws MalformedMessage when: the kind is not one of the table's (bad_field); the body is
/// larger than max_group_message_bytes (oversized), not MessagePack, truncated or followed by
/// more bytes; its shape is not the kind's struct (payload_mismatch: a field missing or extra,
/// of the wrong type, a negative or too large number, a checkpoint that is not a pair); or a
/// value breaks a rule (bad_field): a name or member id that is empty, too long or not made of
/// A-Z a-z 0-9 . _ -; a generation or offset above max_checkpoint_value; a partition not below
/// max_partitions; partitions or checkpoints not strictly ascending; an assignment whose
/// revoke list is not part of what it owns, or that awaits a partition it owns; a refusal
/// reason nobody sends, or a detail longer than max_refusal_detail_bytes.
[[nodiscard]] GroupMessage decode_group_message(std::string_view kind, std::string_view body);

/// @brief The checkpoints of a revocation or leave as the checkpoint store takes them.
[[nodiscard]] std::vector<Checkpoint> checkpoints_of(const std::vector<CheckpointEntry>& entries);

}  // namespace eda::scaling
