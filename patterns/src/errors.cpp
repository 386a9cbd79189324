#include "eda/errors.hpp"

namespace eda {

std::string_view to_string(ErrorCategory category) noexcept {
  switch (category) {
    case ErrorCategory::wire:
      return "wire";
    case ErrorCategory::application:
      return "application";
    case ErrorCategory::conflict:
      return "conflict";
    case ErrorCategory::timeout:
      return "timeout";
    case ErrorCategory::transport:
      return "transport";
    case ErrorCategory::security:
      return "security";
    case ErrorCategory::storage:
      return "storage";
    case ErrorCategory::process:
      return "process";
  }
  return "unknown";
}

std::string_view to_string(WireFault fault) noexcept {
  switch (fault) {
    case WireFault::not_messagepack:
      return "not_messagepack";
    case WireFault::truncated:
      return "truncated";
    case WireFault::trailing_bytes:
      return "trailing_bytes";
    case WireFault::wrong_frame_count:
      return "wrong_frame_count";
    case WireFault::oversized:
      return "oversized";
    case WireFault::bad_field:
      return "bad_field";
    case WireFault::unknown_format_version:
      return "unknown_format_version";
    case WireFault::unknown_schema_version:
      return "unknown_schema_version";
    case WireFault::topic_mismatch:
      return "topic_mismatch";
    case WireFault::wrong_event_type:
      return "wrong_event_type";
    case WireFault::payload_mismatch:
      return "payload_mismatch";
    case WireFault::unprocessable:
      return "unprocessable";
  }
  return "unknown";
}

std::string printable(std::string_view bytes, std::size_t max_bytes) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  const std::size_t shown = bytes.size() < max_bytes ? bytes.size() : max_bytes;
  for (std::size_t i = 0; i < shown; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(hex[c >> 4U]);
      out.push_back(hex[c & 0xFU]);
    }
  }
  if (shown < bytes.size()) {
    out += "...";
  }
  return out;
}

MalformedMessage::MalformedMessage(WireFault fault, const std::string& explanation)
    : Error(ErrorCategory::wire, explanation), fault_(fault) {}

}  // namespace eda
