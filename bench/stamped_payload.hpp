/// @file stamped_payload.hpp
/// @brief The payload the transport benchmarks carry: bytes of a chosen size whose first 8 hold
///        the send time, so a receiver in the same process knows how old each message is.
#pragma once

#include <msgpack.hpp>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "eda/clock.hpp"

namespace eda::bench {

/// @brief A payload of a given size, as a kit event (one MessagePack string field).
struct Blob {
  static constexpr std::string_view event_type = "bench.blob";  ///< Its event type.
  static constexpr std::uint32_t schema_version = 1;            ///< Its schema version.
  std::string bytes;                                            ///< The payload.
  MSGPACK_DEFINE(bytes)
};

/// @brief Writes `when` (eda::monotonic_ns) into the first 8 bytes of `payload` (at least 8 long).
inline void stamp(std::string& payload, std::int64_t when) {
  std::memcpy(payload.data(), &when, sizeof when);
}

/// @brief Writes the current time into the first 8 bytes of `payload` (at least 8 bytes long).
inline void stamp(std::string& payload) { stamp(payload, eda::monotonic_ns()); }

/// @brief How long ago a payload written by stamp() was stamped, in nanoseconds.
inline std::int64_t age_of(std::string_view payload) {
  std::int64_t sent = 0;
  std::memcpy(&sent, payload.data(), sizeof sent);
  return eda::monotonic_ns() - sent;
}

}  // namespace eda::bench
