#include "envelope_reader.hpp"

#include <iterator>
#include <limits>

#include "eda/errors.hpp"

namespace eda::detail {

const char* envelope_field_name(std::uint32_t index) noexcept {
  static constexpr const char* names[] = {"format_version", "event_id",       "type",
                                          "source",         "sequence",       "timestamp_ns",
                                          "schema_version", "correlation_id", "causation_id",
                                          "payload"};
  return index < std::size(names) ? names[index] : "?";
}

void bad_envelope_field(std::uint32_t index, const std::string& problem) {
  throw MalformedMessage(WireFault::bad_field,
                         std::string("envelope field '") + envelope_field_name(index) + "' " + problem);
}

namespace {
[[noreturn]] void unused_byte(std::uint32_t field) {
  throw MalformedMessage(WireFault::not_messagepack,
                         "envelope is not MessagePack (byte 0xc1 in field '" +
                             std::string(envelope_field_name(field)) + "')");
}
}  // namespace

void EnvelopeReader::truncated() const {
  throw MalformedMessage(WireFault::truncated,
                         "envelope is truncated (" + std::to_string(bytes_.size()) +
                             " bytes end before the value does)");
}

std::uint8_t EnvelopeReader::byte() {
  if (offset_ >= bytes_.size()) truncated();
  return static_cast<std::uint8_t>(bytes_[offset_++]);
}

std::uint64_t EnvelopeReader::big_endian(std::size_t size) {
  if (bytes_.size() - offset_ < size) truncated();
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < size; ++i) {
    value = (value << 8) | static_cast<std::uint8_t>(bytes_[offset_ + i]);
  }
  offset_ += size;
  return value;
}

bool EnvelopeReader::array_header(std::uint32_t& count) noexcept {
  if (offset_ >= bytes_.size()) return false;
  const auto marker = static_cast<std::uint8_t>(bytes_[offset_]);
  const std::size_t length_bytes = marker == 0xdc ? 2 : marker == 0xdd ? 4 : 0;
  if ((marker & 0xf0) == 0x90) {
    count = marker & 0x0f;
  } else if (length_bytes == 0 || bytes_.size() - offset_ - 1 < length_bytes) {
    return false;
  } else {
    ++offset_;
    count = static_cast<std::uint32_t>(big_endian(length_bytes));
    return true;
  }
  ++offset_;
  return true;
}

EnvelopeReader::Integer EnvelopeReader::integer(std::uint32_t field) {
  const std::uint8_t marker = byte();
  if (marker <= 0x7f) return {false, marker, 0};                                   // fixint
  if (marker >= 0xe0) return {true, 0, static_cast<std::int8_t>(marker)};          // -fixint
  if (marker >= 0xcc && marker <= 0xcf) return {false, big_endian(1u << (marker - 0xcc)), 0};
  if (marker >= 0xd0 && marker <= 0xd3) {  // signed encodings, which may hold any sign
    const std::size_t size = 1u << (marker - 0xd0);
    const std::uint64_t raw = big_endian(size);
    const unsigned shift = 64 - 8 * static_cast<unsigned>(size);
    // Sign-extend the `size`-byte two's complement value to 64 bits.
    const auto value = static_cast<std::int64_t>(raw << shift) >> shift;
    if (value < 0) return {true, 0, value};
    return {false, static_cast<std::uint64_t>(value), 0};
  }
  if (marker == 0xc1) unused_byte(field);
  bad_envelope_field(field, "is not an integer");
}

std::uint64_t EnvelopeReader::unsigned_field(std::uint32_t field) {
  const Integer n = integer(field);
  if (n.negative) bad_envelope_field(field, "is not an unsigned integer");
  return n.magnitude;
}

std::int64_t EnvelopeReader::signed_field(std::uint32_t field) {
  const Integer n = integer(field);
  if (n.negative) return n.value;
  if (n.magnitude > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    bad_envelope_field(field, "is not a 64-bit signed integer");
  }
  return static_cast<std::int64_t>(n.magnitude);
}

std::string_view EnvelopeReader::string_field(std::uint32_t field, std::size_t max_bytes,
                                              bool may_be_empty) {
  const std::uint8_t marker = byte();
  std::size_t size = 0;
  if ((marker & 0xe0) == 0xa0) {
    size = marker & 0x1f;  // fixstr
  } else if (marker >= 0xd9 && marker <= 0xdb) {
    size = big_endian(1u << (marker - 0xd9));  // str 8, 16, 32
  } else if (marker == 0xc1) {
    unused_byte(field);
  } else {
    bad_envelope_field(field, "is not a string");
  }
  if (bytes_.size() - offset_ < size) truncated();
  if (size > max_bytes) {
    bad_envelope_field(field, "is longer than " + std::to_string(max_bytes) + " bytes");
  }
  if (!may_be_empty && size == 0) bad_envelope_field(field, "is empty");
  const std::string_view text = bytes_.substr(offset_, size);
  offset_ += size;
  return text;
}

}  // namespace eda::detail
