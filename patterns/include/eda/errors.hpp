/// @file errors.hpp
/// @brief The typed error raised for anything malformed that arrives from outside.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace eda {

/// @brief Why a message (or stored event) was rejected by a decoder.
enum class WireFault {
  not_messagepack,         ///< The bytes are not MessagePack at all.
  truncated,               ///< The MessagePack value ends before its declared length.
  trailing_bytes,          ///< Extra bytes follow a complete value.
  wrong_frame_count,       ///< The ZeroMQ message has the wrong number of frames.
  oversized,               ///< A frame is larger than the configured limit.
  bad_field,               ///< An envelope field has the wrong type or an invalid value.
  unknown_format_version,  ///< The envelope's format version is not one this build reads.
  unknown_schema_version,  ///< The payload's schema version is not the one the reader expects.
  topic_mismatch,          ///< The topic frame disagrees with the envelope's event type.
  wrong_event_type,        ///< A typed read asked for a different event type.
  payload_mismatch,        ///< The payload does not have the shape of the expected struct.
  unprocessable,           ///< Well-formed, but the consumer could not act on it (e.g. what it
                           ///< refers to does not exist).
};

/// @brief A short, stable name for a fault (`"truncated"`, `"topic_mismatch"`, ...).
std::string_view to_string(WireFault fault) noexcept;

/// @brief Untrusted bytes made safe to print: non-printable bytes become `\xNN`, and anything
///        past `max_bytes` is cut with an ellipsis.
std::string printable(std::string_view bytes, std::size_t max_bytes = 60);

/// @brief Raised when bytes from the wire or from storage are not a valid message.
///
/// The message says what was wrong in words a reader can act on; `fault()` says it in a form a
/// program can count and switch on. Consumers catch it, hand the raw bytes to a
/// DeadLetterSink, and keep going.
class MalformedMessage : public std::runtime_error {
 public:
  /// @brief A malformed-message error of kind `fault` with a human explanation.
  MalformedMessage(WireFault fault, const std::string& explanation);

  /// @brief What kind of fault this is.
  [[nodiscard]] WireFault fault() const noexcept { return fault_; }

 private:
  WireFault fault_;
};

}  // namespace eda
