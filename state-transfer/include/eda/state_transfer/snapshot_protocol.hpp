/// @file snapshot_protocol.hpp
/// @brief The snapshot protocol between a Replica (DEALER) and the Customer service (ROUTER):
///        "send me everything you have, and tell me how far it is current".
///
/// | direction         | frame 0            | frame 1 (MessagePack)                        |
/// |-------------------|--------------------|----------------------------------------------|
/// | replica -> source | `snapshot.request` | SnapshotRequest: who asks                    |
/// | source -> replica | `snapshot.chunk`   | an array of Customer records (up to a chunk) |
/// | source -> replica | `snapshot.end`     | SnapshotEnd: sequence, incarnation, count    |
/// | source -> replica | `snapshot.refused` | the reason, as text (a malformed request)    |
///
/// The source answers one request with zero or more chunks, then one end. Records travel in
/// chunks so that neither side ever holds the whole data set in one message. The ROUTER adds (and strips) the
/// requester's identity frame in front; the table shows what the two applications see.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <msgpack.hpp>

#include "eda/state_transfer/customer.hpp"

namespace eda::state_transfer {

/// @brief Frame 0 of a request: the replica asks for a snapshot.
inline constexpr std::string_view snapshot_request = "snapshot.request";
/// @brief Frame 0 of a reply carrying some of the records.
inline constexpr std::string_view snapshot_chunk = "snapshot.chunk";
/// @brief Frame 0 of the reply that completes a snapshot.
inline constexpr std::string_view snapshot_end = "snapshot.end";
/// @brief Frame 0 of the reply to an invalid request.
inline constexpr std::string_view snapshot_refused = "snapshot.refused";

/// @brief Body of `snapshot.request`.
struct SnapshotRequest {
  std::string replica;  ///< The requester's name, for the source's log.
  MSGPACK_DEFINE(replica)
};

/// @brief Body of `snapshot.end`: what the snapshot just sent reflects.
struct SnapshotEnd {
  std::uint64_t sequence = 0;   ///< The last update the records include: apply only later ones.
  std::uint64_t records = 0;    ///< How many records were sent (a check on the chunks).
  Incarnation incarnation = 0;  ///< The source's run (see Incarnation).
  std::string source;           ///< The source name its updates carry.
  MSGPACK_DEFINE(sequence, records, incarnation, source)
};

/// @brief Body of `snapshot.chunk`.
struct SnapshotChunk {
  std::vector<Customer> records;  ///< Some of the records, in no particular order.
  MSGPACK_DEFINE(records)
};

}  // namespace eda::state_transfer
