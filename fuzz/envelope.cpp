// Target `envelope`: DecodedEvent::decode, the kit's hand-written reader of records (format 2)
// and format 1 envelopes, on any bytes.
//
// Properties:
// - it accepts exactly what msgpack-cxx's generic parser plus the envelope rules (codec.hpp,
//   the kit's page) accept, and reads the same metadata and payload (a differential check of
//   the fast reader against a plain one);
// - a decoded event re-encodes to an envelope that decodes to the same event, and that
//   encoding is a fixed point (decode(encode(decode(x))) == decode(x));
// - its JSON line renders; a rejection is MalformedMessage, nothing else.
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "eda/codec.hpp"
#include "eda/json.hpp"
#include "fuzz_support.hpp"

namespace {

using eda::DecodedEvent;
using eda::EventMetadata;
using eda::MalformedMessage;

bool read_string(const msgpack::object& o, std::size_t max, bool may_be_empty, std::string& out) {
  if (o.type != msgpack::type::STR) return false;
  if (o.via.str.size > max || (!may_be_empty && o.via.str.size == 0)) return false;
  out.assign(o.via.str.ptr, o.via.str.size);
  return true;
}

bool read_unsigned(const msgpack::object& o, std::uint64_t& out) {
  if (o.type != msgpack::type::POSITIVE_INTEGER) return false;
  out = o.via.u64;
  return true;
}

bool read_signed(const msgpack::object& o, std::int64_t& out) {
  if (o.type == msgpack::type::NEGATIVE_INTEGER) {
    out = o.via.i64;
    return true;
  }
  if (o.type == msgpack::type::POSITIVE_INTEGER &&
      o.via.u64 <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    out = static_cast<std::int64_t>(o.via.u64);
    return true;
  }
  return false;
}

/// An id: text, or (format 2 only) binary of 16 bytes read as 32 lowercase hex digits.
bool read_id(const msgpack::object& o, bool binary_allowed, bool may_be_empty, std::string& out) {
  if (binary_allowed && o.type == msgpack::type::BIN) {
    if (o.via.bin.size != 16) return false;
    static constexpr char digits[] = "0123456789abcdef";
    out.clear();
    for (std::uint32_t i = 0; i < 16; ++i) {
      const auto b = static_cast<std::uint8_t>(o.via.bin.ptr[i]);
      out += digits[b >> 4];
      out += digits[b & 0x0f];
    }
    return true;
  }
  return read_string(o, 128, may_be_empty, out);
}

/// The rules of the record (format 2) and of the format 1 envelope, read from msgpack-cxx's
/// generic tree: the reference decoder.
std::optional<EventMetadata> reference_decode(std::string_view bytes, msgpack::object& payload,
                                              msgpack::zone& zone) {
  if (bytes.size() > eda::DecodeLimits{}.max_envelope_bytes) return std::nullopt;
  if (bytes.empty()) return std::nullopt;
  EventMetadata m;
  // A record starts with a character of an event type; anything else is a format 1 envelope.
  const bool record = eda::is_valid_event_type(bytes.substr(0, 1));
  if (record) {
    const std::size_t end = bytes.find('\0');
    if (end == std::string_view::npos || end > 200) return std::nullopt;
    m.type = std::string(bytes.substr(0, end));
    if (!eda::is_valid_event_type(m.type)) return std::nullopt;
    bytes.remove_prefix(end + 1);
  }
  // The envelope array is one level; the payload inside it may nest 64 more, as decode()
  // allows (it bounds the payload on its own), hence 65 for the whole.
  msgpack::object root;
  const std::size_t n = bytes.size();
  if (n == 0) return std::nullopt;
  try {
    std::size_t offset = 0;
    bool referenced = false;
    root = msgpack::unpack(zone, bytes.data(), n, offset, referenced, nullptr, nullptr,
                           msgpack::unpack_limit(n, n, n, n, n, 65));
    if (offset != n) return std::nullopt;
  } catch (const std::exception&) {  // msgpack-cxx's parse and limit errors
    return std::nullopt;
  }
  const std::size_t fields = record ? eda::envelope_field_count : eda::legacy_envelope_field_count;
  if (root.type != msgpack::type::ARRAY || root.via.array.size != fields) return std::nullopt;
  const msgpack::object* f = root.via.array.ptr;
  std::uint64_t format = 0;
  std::uint64_t schema = 0;
  const std::uint64_t expected_format =
      record ? eda::envelope_format_version : eda::legacy_envelope_format_version;
  if (!read_unsigned(f[0], format) || format != expected_format) return std::nullopt;
  if (!read_id(f[1], record, false, m.event_id)) return std::nullopt;
  if (!record) {  // format 1 carries the type as its field 2; the fields after it move by one
    if (!read_string(f[2], 200, false, m.type) || !eda::is_valid_event_type(m.type))
      return std::nullopt;
    ++f;
  }
  if (!read_string(f[2], 200, false, m.source)) return std::nullopt;
  if (!read_unsigned(f[3], m.sequence)) return std::nullopt;
  if (!read_signed(f[4], m.timestamp_ns)) return std::nullopt;
  if (!read_unsigned(f[5], schema) || schema == 0 ||
      schema > std::numeric_limits<std::uint32_t>::max()) {
    return std::nullopt;
  }
  m.schema_version = static_cast<std::uint32_t>(schema);
  if (!read_id(f[6], record, false, m.correlation_id)) return std::nullopt;
  if (!read_id(f[7], record, true, m.causation_id)) return std::nullopt;
  payload = f[8];
  return m;
}

std::string encode(const DecodedEvent& event) {
  msgpack::sbuffer buffer;
  eda::encode_event(event.meta(), eda::fuzz::ObjectPayload{event.payload()}, buffer);
  return std::string(buffer.data(), buffer.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes = eda::fuzz::as_view(data, size);
  msgpack::zone zone;
  msgpack::object reference_payload;
  const std::optional<EventMetadata> reference = reference_decode(bytes, reference_payload, zone);

  std::optional<DecodedEvent> event;
  std::string rejection;
  try {
    event.emplace(DecodedEvent::decode(bytes));
  } catch (const MalformedMessage& e) {
    rejection = e.what();
  }
  EDA_FUZZ_CHECK(event.has_value() == reference.has_value(),
                 event ? "the reader accepted an envelope the rules reject"
                       : "the reader rejected a valid envelope: " + rejection);
  if (!event) return 0;

  EDA_FUZZ_CHECK(event->meta() == *reference, "the reader and msgpack-cxx read different metadata");
  EDA_FUZZ_CHECK(eda::fuzz::same_value(event->payload(), reference_payload),
                 "the reader and msgpack-cxx read different payloads");
  EDA_FUZZ_CHECK(event->bytes() == bytes, "bytes() is not the input");

  const std::string again = encode(*event);
  DecodedEvent round = [&] {
    try {
      return DecodedEvent::decode(again);
    } catch (const MalformedMessage& e) {
      eda::fuzz::property_failed(__FILE__, __LINE__, "decode(encode(decode(x)))", e.what());
    }
  }();
  EDA_FUZZ_CHECK(round.meta() == event->meta(), "metadata changed in a round trip");
  EDA_FUZZ_CHECK(eda::fuzz::same_value(event->payload(), round.payload(), true),
                 "payload changed in a round trip");
  EDA_FUZZ_CHECK(encode(round) == again, "re-encoding is not a fixed point");

  (void)eda::to_json_line(*event);  // the human form never throws on a decoded event
  return 0;
}
