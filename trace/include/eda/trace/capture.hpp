/// @file capture.hpp
/// @brief A capture: the raw messages a wire tap saw, in the order it saw them.
///
/// A capture keeps the frames exactly as they arrived (topic, envelope), not decoded events, so
/// that the analysis of a capture replayed from a file is the analysis of the live run, and so
/// that a malformed message is kept as evidence instead of being lost.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace eda::trace {

/// @brief One message as the tap received it.
struct CapturedMessage {
  std::int64_t received_ns = 0;       ///< Wall-clock time the tap received it (ns since epoch).
  /// @brief The raw frames: the record (one frame), or a format 1 publisher's topic and envelope.
  std::vector<std::string> frames{};

  /// @brief Field-by-field equality (a replayed capture equals the recorded one).
  friend bool operator==(const CapturedMessage&, const CapturedMessage&) = default;
};

/// @brief What was tapped, and when the tap started.
struct CaptureInfo {
  std::int64_t started_ns = 0;           ///< Wall-clock time the tap started listening.
  std::vector<std::string> endpoints{};  ///< The publishers' endpoints the tap connected to.
  std::vector<std::string> topics{};     ///< Event-type prefixes tapped; empty = every event.

  /// @brief Field-by-field equality.
  friend bool operator==(const CaptureInfo&, const CaptureInfo&) = default;
};

/// @brief Everything one tap saw: where and when it listened, and the messages in arrival order.
struct Capture {
  CaptureInfo info{};                       ///< Where and when.
  std::vector<CapturedMessage> messages{};  ///< In the order the tap received them.

  /// @brief Field-by-field equality.
  friend bool operator==(const Capture&, const Capture&) = default;
};

}  // namespace eda::trace
