#include "hex.hpp"

namespace eda::trace::detail {
namespace {

constexpr std::string_view digits = "0123456789abcdef";

int digit_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string to_hex(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    out.push_back(digits[byte >> 4U]);
    out.push_back(digits[byte & 0x0FU]);
  }
  return out;
}

std::optional<std::size_t> from_hex(std::string_view hex, std::string& out) {
  out.clear();
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    const int high = digit_value(hex[i]);
    if (high < 0) return i;
    const int low = digit_value(hex[i + 1]);
    if (low < 0) return i + 1;
    out.push_back(static_cast<char>((high << 4) | low));
  }
  if (hex.size() % 2 != 0) return hex.size();
  return std::nullopt;
}

}  // namespace eda::trace::detail
