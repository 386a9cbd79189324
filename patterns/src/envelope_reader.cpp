#include "envelope_reader.hpp"

#include <array>
#include <cstring>
#include <iterator>
#include <limits>

#include "eda/errors.hpp"
#include "hex_digits.hpp"

namespace eda::detail {

const char* envelope_field_name(std::uint32_t index) noexcept {
  static constexpr const char* names[] = {
      "format_version", "event_id",       "type",           "source",       "sequence",
      "timestamp_ns",   "schema_version", "correlation_id", "causation_id", "payload"};
  return index < std::size(names) ? names[index] : "?";
}

void bad_envelope_field(std::uint32_t index, const std::string& problem) {
  throw MalformedMessage(WireFault::bad_field, std::string("envelope field '") +
                                                   envelope_field_name(index) + "' " + problem);
}

namespace {
[[noreturn]] void unused_byte(std::uint32_t field) {
  throw MalformedMessage(WireFault::not_messagepack,
                         "envelope is not MessagePack (byte 0xc1 in field '" +
                             std::string(envelope_field_name(field)) + "')");
}
}  // namespace

void EnvelopeReader::truncated() const {
  throw MalformedMessage(WireFault::truncated, "envelope is truncated (" +
                                                   std::to_string(bytes_.size()) +
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
  if (marker <= 0x7f) return {false, marker, 0};                           // fixint
  if (marker >= 0xe0) return {true, 0, static_cast<std::int8_t>(marker)};  // -fixint
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
  return string_after(byte(), field, max_bytes, may_be_empty);
}

std::string_view EnvelopeReader::string_after(std::uint8_t marker, std::uint32_t field,
                                              std::size_t max_bytes, bool may_be_empty) {
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

std::string_view EnvelopeReader::id_field(std::uint32_t field, std::size_t max_bytes,
                                          bool may_be_empty, char (&text)[32]) {
  const std::uint8_t marker = byte();
  if (marker < 0xc4 || marker > 0xc6) {  // not bin 8, 16 or 32: text
    return string_after(marker, field, max_bytes, may_be_empty);
  }
  const std::uint64_t size = big_endian(1u << (marker - 0xc4));
  if (bytes_.size() - offset_ < size) truncated();
  if (size != 16) {
    bad_envelope_field(field, "is binary of " + std::to_string(size) +
                                  " bytes (an id in binary"
                                  " form has 16)");
  }
  hex::digits_of_sixteen_bytes(bytes_.data() + offset_, text);
  offset_ += 16;
  return {text, 32};
}

void check_one_value(std::string_view bytes, std::string_view what) {
  const std::size_t n = bytes.size();
  if (n == 0) {
    throw MalformedMessage(WireFault::truncated, std::string(what) + " is empty");
  }
  const auto truncated = [&] {
    throw MalformedMessage(WireFault::truncated, std::string(what) + " is truncated (" +
                                                     std::to_string(n) +
                                                     " bytes end before the value does)");
  };
  std::size_t offset = 0;
  const auto big_endian = [&](std::size_t size) {
    if (n - offset < size) truncated();
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < size; ++i) {
      value = (value << 8) | static_cast<std::uint8_t>(bytes[offset + i]);
    }
    offset += size;
    return value;
  };
  // unsent[d]: values still to come in the d-th open container (a map's keys and values both
  // count); unsent[0] is the one value the bytes hold. msgpack-cxx refuses a container that
  // starts when 64 are open, so 65 slots are enough. Left uninitialised on purpose: a slot is
  // written when its container opens, before it is read, and zeroing 520 bytes per payload
  // took about a third of this function's time (perf on bench-codec).
  constexpr std::size_t max_depth = 64;
  std::array<std::uint64_t, max_depth + 1>
      unsent;  // NOLINT(cppcoreguidelines-pro-type-member-init)
  unsent[0] = 1;
  std::size_t depth = 0;
  while (true) {
    if (offset >= n) truncated();
    const auto marker = static_cast<std::uint8_t>(bytes[offset++]);
    std::uint64_t skip = 0;      // bytes of data after the header
    std::uint64_t elements = 0;  // for a container: its element count
    bool container = false;
    bool map = false;
    if (marker <= 0x7f || marker >= 0xe0 || marker == 0xc0 || marker == 0xc2 || marker == 0xc3) {
      // fixint, negative fixint, nil, false, true: the marker is the whole value
    } else if (marker <= 0x8f) {
      container = map = true;
      elements = marker & 0x0fU;
    } else if (marker <= 0x9f) {
      container = true;
      elements = marker & 0x0fU;
    } else if (marker <= 0xbf) {
      skip = marker & 0x1fU;  // fixstr
    } else {
      switch (marker) {
        case 0xc4:
          skip = big_endian(1);
          break;  // bin 8, 16, 32
        case 0xc5:
          skip = big_endian(2);
          break;
        case 0xc6:
          skip = big_endian(4);
          break;
        case 0xc7:
          skip = big_endian(1) + 1;
          break;  // ext 8, 16, 32: length, type, data
        case 0xc8:
          skip = big_endian(2) + 1;
          break;
        case 0xc9:
          skip = big_endian(4) + 1;
          break;
        case 0xca:
          skip = 4;
          break;  // float 32, 64
        case 0xcb:
          skip = 8;
          break;
        case 0xcc:
        case 0xd0:
          skip = 1;
          break;  // (u)int 8, 16, 32, 64
        case 0xcd:
        case 0xd1:
          skip = 2;
          break;
        case 0xce:
        case 0xd2:
          skip = 4;
          break;
        case 0xcf:
        case 0xd3:
          skip = 8;
          break;
        case 0xd4:
          skip = 2;
          break;  // fixext 1, 2, 4, 8, 16: type, data
        case 0xd5:
          skip = 3;
          break;
        case 0xd6:
          skip = 5;
          break;
        case 0xd7:
          skip = 9;
          break;
        case 0xd8:
          skip = 17;
          break;
        case 0xd9:
          skip = big_endian(1);
          break;  // str 8, 16, 32
        case 0xda:
          skip = big_endian(2);
          break;
        case 0xdb:
          skip = big_endian(4);
          break;
        case 0xdc:
          container = true;
          elements = big_endian(2);
          break;  // array 16, 32
        case 0xdd:
          container = true;
          elements = big_endian(4);
          break;
        case 0xde:
          container = map = true;
          elements = big_endian(2);
          break;  // map 16, 32
        case 0xdf:
          container = map = true;
          elements = big_endian(4);
          break;
        default:  // 0xc1, which MessagePack never uses
          throw MalformedMessage(WireFault::not_messagepack,
                                 std::string(what) + " is not MessagePack (parse error)");
      }
    }
    if (container) {
      // In msgpack-cxx's order: the count against the input's size, then the depth.
      if (elements > n) {
        throw MalformedMessage(WireFault::truncated, std::string(what) +
                                                         " declares more elements than its " +
                                                         std::to_string(n) + " bytes can hold");
      }
      if (depth >= max_depth) {
        throw MalformedMessage(WireFault::not_messagepack,
                               std::string(what) + " nests deeper than 64 levels");
      }
      if (elements > 0) {
        unsent[++depth] = map ? 2 * elements : elements;
        continue;
      }
    } else {
      if (n - offset < skip) truncated();
      offset += skip;
    }
    // A value ended here; so do the containers it completes.
    while (--unsent[depth] == 0) {
      if (depth == 0) {
        if (offset != n) {
          throw MalformedMessage(WireFault::trailing_bytes,
                                 std::string(what) + " has " + std::to_string(n - offset) +
                                     " unexpected bytes after its value");
        }
        return;
      }
      --depth;
    }
  }
}

namespace {

/// Builds the values of bytes that check_one_value() accepted, in order: every read is in
/// bounds and every marker is valid, so nothing is checked again.
class TreeBuilder {
 public:
  TreeBuilder(std::string_view bytes, msgpack::zone& zone) noexcept : bytes_(bytes), zone_(zone) {}

  /// The next value into `out`.
  void value(msgpack::object& out) {
    const auto marker = static_cast<std::uint8_t>(bytes_[offset_++]);
    if (marker <= 0x7f) return unsigned_integer(out, marker);  // positive fixint
    if (marker >= 0xe0) return signed_integer(out, static_cast<std::int8_t>(marker));
    if (marker <= 0x8f) return map(out, marker & 0x0fU);
    if (marker <= 0x9f) return array(out, marker & 0x0fU);
    if (marker <= 0xbf) return str(out, marker & 0x1fU);
    switch (marker) {
      case 0xc0:
        out.type = msgpack::type::NIL;
        return;
      case 0xc2:
        return boolean(out, false);
      case 0xc3:
        return boolean(out, true);
      case 0xc4:
        return bin(out, big_endian(1));
      case 0xc5:
        return bin(out, big_endian(2));
      case 0xc6:
        return bin(out, big_endian(4));
      case 0xc7:
        return ext(out, big_endian(1));
      case 0xc8:
        return ext(out, big_endian(2));
      case 0xc9:
        return ext(out, big_endian(4));
      case 0xca:
        return float32(out);
      case 0xcb:
        return float64(out);
      case 0xcc:
        return unsigned_integer(out, big_endian(1));
      case 0xcd:
        return unsigned_integer(out, big_endian(2));
      case 0xce:
        return unsigned_integer(out, big_endian(4));
      case 0xcf:
        return unsigned_integer(out, big_endian(8));
      case 0xd0:
        return signed_integer(out, static_cast<std::int8_t>(big_endian(1)));
      case 0xd1:
        return signed_integer(out, static_cast<std::int16_t>(big_endian(2)));
      case 0xd2:
        return signed_integer(out, static_cast<std::int32_t>(big_endian(4)));
      case 0xd3:
        return signed_integer(out, static_cast<std::int64_t>(big_endian(8)));
      case 0xd4:
        return ext(out, 1);
      case 0xd5:
        return ext(out, 2);
      case 0xd6:
        return ext(out, 4);
      case 0xd7:
        return ext(out, 8);
      case 0xd8:
        return ext(out, 16);
      case 0xd9:
        return str(out, big_endian(1));
      case 0xda:
        return str(out, big_endian(2));
      case 0xdb:
        return str(out, big_endian(4));
      case 0xdc:
        return array(out, big_endian(2));
      case 0xdd:
        return array(out, big_endian(4));
      case 0xde:
        return map(out, big_endian(2));
      default:
        return map(out, big_endian(4));  // 0xdf: check_one_value refused 0xc1
    }
  }

 private:
  std::uint64_t big_endian(std::size_t size) noexcept {
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < size; ++i) {
      value = (value << 8) | static_cast<std::uint8_t>(bytes_[offset_++]);
    }
    return value;
  }
  const char* take(std::uint64_t size) noexcept {
    const char* at = bytes_.data() + offset_;
    offset_ += size;
    return at;
  }
  static void boolean(msgpack::object& out, bool value) noexcept {
    out.type = msgpack::type::BOOLEAN;
    out.via.boolean = value;
  }
  static void unsigned_integer(msgpack::object& out, std::uint64_t value) noexcept {
    out.type = msgpack::type::POSITIVE_INTEGER;
    out.via.u64 = value;
  }
  // As msgpack-cxx does: a signed format holding a value >= 0 is a positive integer.
  static void signed_integer(msgpack::object& out, std::int64_t value) noexcept {
    if (value >= 0) return unsigned_integer(out, static_cast<std::uint64_t>(value));
    out.type = msgpack::type::NEGATIVE_INTEGER;
    out.via.i64 = value;
  }
  void float32(msgpack::object& out) noexcept {
    const auto bits = static_cast<std::uint32_t>(big_endian(4));
    float value = 0;
    std::memcpy(&value, &bits, sizeof value);
    out.type = msgpack::type::FLOAT32;
    out.via.f64 = value;
  }
  void float64(msgpack::object& out) noexcept {
    const std::uint64_t bits = big_endian(8);
    double value = 0;
    std::memcpy(&value, &bits, sizeof value);
    out.type = msgpack::type::FLOAT64;
    out.via.f64 = value;
  }
  void str(msgpack::object& out, std::uint64_t size) noexcept {
    out.type = msgpack::type::STR;
    out.via.str.size = static_cast<std::uint32_t>(size);
    out.via.str.ptr = take(size);
  }
  void bin(msgpack::object& out, std::uint64_t size) noexcept {
    out.type = msgpack::type::BIN;
    out.via.bin.size = static_cast<std::uint32_t>(size);
    out.via.bin.ptr = take(size);
  }
  void ext(msgpack::object& out, std::uint64_t data_size) noexcept {  // the type byte, then data
    out.type = msgpack::type::EXT;
    out.via.ext.size = static_cast<std::uint32_t>(data_size);
    out.via.ext.ptr = take(data_size + 1);
  }
  void array(msgpack::object& out, std::uint64_t size) {
    out.type = msgpack::type::ARRAY;
    out.via.array.size = static_cast<std::uint32_t>(size);
    out.via.array.ptr = nullptr;
    if (size == 0) return;
    auto* elements = static_cast<msgpack::object*>(zone_.allocate_align(
        size * sizeof(msgpack::object), MSGPACK_ZONE_ALIGNOF(msgpack::object)));
    for (std::uint64_t i = 0; i < size; ++i) value(elements[i]);
    out.via.array.ptr = elements;
  }
  void map(msgpack::object& out, std::uint64_t size) {
    out.type = msgpack::type::MAP;
    out.via.map.size = static_cast<std::uint32_t>(size);
    out.via.map.ptr = nullptr;
    if (size == 0) return;
    auto* pairs = static_cast<msgpack::object_kv*>(zone_.allocate_align(
        size * sizeof(msgpack::object_kv), MSGPACK_ZONE_ALIGNOF(msgpack::object_kv)));
    for (std::uint64_t i = 0; i < size; ++i) {
      value(pairs[i].key);
      value(pairs[i].val);
    }
    out.via.map.ptr = pairs;
  }

  std::string_view bytes_;
  msgpack::zone& zone_;
  std::size_t offset_ = 0;
};

}  // namespace

msgpack::object build_checked_value(msgpack::zone& zone, std::string_view bytes) {
  msgpack::object root;
  TreeBuilder(bytes, zone).value(root);
  return root;
}

}  // namespace eda::detail
