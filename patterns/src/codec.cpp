#include "eda/codec.hpp"

#include <array>
#include <cstdint>
#include <limits>

#include "envelope_reader.hpp"
#include "hex_digits.hpp"

namespace eda {
namespace {

// Field positions in a format 1 envelope array; format 2 has the same fields in the same order
// without `type`, which is the record's prefix (the kit's page has both tables). The reader
// names a field in its messages by these numbers.
enum Field : std::uint32_t {
  format_version = 0,
  event_id,
  type,
  source,
  sequence,
  timestamp,
  schema_version,
  correlation_id,
  causation_id,
  payload,
};

constexpr std::size_t max_id_bytes = 128;
constexpr std::size_t max_source_bytes = 200;
constexpr std::size_t max_type_bytes = 200;

bool reference_strings(msgpack::type::object_type type, std::size_t, void*) {
  return type == msgpack::type::STR || type == msgpack::type::BIN;
}
}  // namespace

msgpack::object unpack_untrusted(msgpack::zone& zone, std::string_view bytes, std::string_view what,
                                 bool zero_copy) {
  if (bytes.empty()) {
    throw MalformedMessage(WireFault::truncated, std::string(what) + " is empty");
  }
  // No container or string can claim more elements or bytes than the input holds, so a
  // hostile length prefix cannot make the parser allocate gigabytes.
  const std::size_t n = bytes.size();
  const msgpack::unpack_limit limits(n, n, n, n, n, 64);
  std::size_t offset = 0;
  bool referenced = false;
  msgpack::object result;
  try {
    result = msgpack::unpack(zone, bytes.data(), n, offset, referenced,
                             zero_copy ? reference_strings : nullptr, nullptr, limits);
  } catch (const msgpack::insufficient_bytes&) {
    throw MalformedMessage(WireFault::truncated, std::string(what) + " is truncated (" +
                                                     std::to_string(n) +
                                                     " bytes end before the value does)");
  } catch (const msgpack::depth_size_overflow&) {  // before its base class size_overflow
    throw MalformedMessage(WireFault::not_messagepack,
                           std::string(what) + " nests deeper than 64 levels");
  } catch (const msgpack::size_overflow&) {
    throw MalformedMessage(WireFault::truncated, std::string(what) +
                                                     " declares more elements than its " +
                                                     std::to_string(n) + " bytes can hold");
  } catch (const msgpack::unpack_error& e) {
    throw MalformedMessage(WireFault::not_messagepack,
                           std::string(what) + " is not MessagePack (" + e.what() + ")");
  }
  if (offset != n) {
    throw MalformedMessage(WireFault::trailing_bytes, std::string(what) + " has " +
                                                          std::to_string(n - offset) +
                                                          " unexpected bytes after its value");
  }
  return result;
}

msgpack::object_handle unpack_untrusted(std::string_view bytes, std::string_view what,
                                        bool zero_copy) {
  auto zone = std::make_unique<msgpack::zone>();
  const msgpack::object object = unpack_untrusted(*zone, bytes, what, zero_copy);
  return msgpack::object_handle(object, std::move(zone));
}

namespace {

/// Throws bad_field for bytes that do not have the envelope array's shape, after a generic
/// parse has told bytes that are no MessagePack at all (not_messagepack, truncated, trailing
/// bytes) from a good value of the wrong shape.
[[noreturn]] void wrong_envelope_shape(std::string_view envelope, std::size_t expected_fields) {
  msgpack::zone zone;
  const msgpack::object root = unpack_untrusted(zone, envelope, "envelope", true);
  if (root.type != msgpack::type::ARRAY) {
    throw MalformedMessage(WireFault::bad_field, "envelope is not a MessagePack array");
  }
  throw MalformedMessage(WireFault::bad_field,
                         "envelope has " + std::to_string(root.via.array.size) +
                             " fields, expected " + std::to_string(expected_fields));
}

void check_format(std::uint64_t format, std::uint64_t expected) {
  if (format != expected) {
    throw MalformedMessage(WireFault::unknown_format_version,
                           "envelope format version " + std::to_string(format) +
                               " is not supported here (this build reads versions " +
                               std::to_string(legacy_envelope_format_version) + " and " +
                               std::to_string(envelope_format_version) + "; a version " +
                               std::to_string(expected) + " envelope was expected in this form)");
  }
}

void check_type(std::string_view type) {
  if (!is_valid_event_type(type)) {
    detail::bad_envelope_field(Field::type,
                               "is not a valid event type ('" + printable(type) + "')");
  }
}

}  // namespace

bool DecodedEvent::is_record(std::string_view bytes) noexcept {
  // A record starts with its type; a format 1 envelope with a MessagePack array header, which
  // is never a type's character. Bytes that start otherwise are read as a format 1 envelope,
  // so that what they are not (not MessagePack, not an array) is said in MessagePack's terms.
  return !bytes.empty() && is_valid_event_type(bytes.substr(0, 1));
}

bool detail::is_compact_id(std::string_view id) noexcept {
  if (id.size() != 32) return false;
  bool compact = true;
  for (std::size_t i = 0; i < 32; i += 8) compact &= hex::all_digits(hex::load_eight(&id[i]));
  return compact;
}

void detail::pack_id(msgpack::packer<msgpack::sbuffer>& pk, std::string_view id) {
  if (is_compact_id(id)) {
    // Each half written from its own 8-byte variable: a 16-byte copy of bytes stored in pieces
    // would wait for the pieces (no store forwarding), which perf showed as the costliest line.
    const std::uint64_t first = hex::bytes_of_sixteen_digits(id.data());
    const std::uint64_t second = hex::bytes_of_sixteen_digits(id.data() + 16);
    pk.pack_bin(16);
    pk.pack_bin_body(reinterpret_cast<const char*>(&first), 8);
    pk.pack_bin_body(reinterpret_cast<const char*>(&second), 8);
    return;
  }
  pk.pack(id);
}

DecodedEvent DecodedEvent::decode(std::string_view bytes, const DecodeLimits& limits) {
  if (bytes.size() > limits.max_envelope_bytes) {
    throw MalformedMessage(WireFault::oversized, "envelope of " + std::to_string(bytes.size()) +
                                                     " bytes exceeds the limit of " +
                                                     std::to_string(limits.max_envelope_bytes) +
                                                     " bytes");
  }
  if (bytes.empty()) {
    throw MalformedMessage(WireFault::truncated, "envelope is empty");
  }
  auto parsed = std::make_shared<Parsed>(bytes);
  // The strings stay views into the bytes (meta() copies them when first asked); the numbers
  // go straight into the metadata.
  Parsed& p = *parsed;
  EventMetadata& m = p.meta;
  const bool legacy = !is_record(p.bytes);
  std::string_view envelope = p.bytes;
  if (!legacy) {
    // A record: the type, a zero byte, the envelope.
    const std::size_t end = p.bytes.find(record_type_terminator);
    if (end == std::string_view::npos || end > max_type_bytes) {
      throw MalformedMessage(WireFault::bad_field,
                             "record does not start with an event type ended by a zero byte "
                             "(it starts '" +
                                 printable(p.bytes, 20) + "')");
    }
    p.type = p.bytes.substr(0, end);
    check_type(p.type);
    envelope = p.bytes.substr(end + 1);
  }
  const std::size_t expected_fields = legacy ? legacy_envelope_field_count : envelope_field_count;
  detail::EnvelopeReader in(envelope);
  std::uint32_t fields = 0;
  if (!in.array_header(fields) || fields != expected_fields) {
    wrong_envelope_shape(envelope, expected_fields);
  }
  p.format =
      static_cast<std::uint32_t>(legacy ? legacy_envelope_format_version : envelope_format_version);
  check_format(in.unsigned_field(Field::format_version), p.format);
  // Format 2 sends compact ids as 16 bytes; format 1 only ever wrote text.
  const auto id = [&](Field field, bool may_be_empty, char(&text)[32]) {
    return legacy ? in.string_field(field, max_id_bytes, may_be_empty)
                  : in.id_field(field, max_id_bytes, may_be_empty, text);
  };
  p.event_id = id(Field::event_id, false, p.id_text[0]);
  if (legacy) {
    p.type = in.string_field(Field::type, max_type_bytes, false);
    check_type(p.type);
  }
  p.source = in.string_field(Field::source, max_source_bytes, false);
  m.sequence = in.unsigned_field(Field::sequence);
  m.timestamp_ns = in.signed_field(Field::timestamp);
  const std::uint64_t schema = in.unsigned_field(Field::schema_version);
  if (schema == 0 || schema > std::numeric_limits<std::uint32_t>::max()) {
    throw MalformedMessage(WireFault::unknown_schema_version,
                           "schema version " + std::to_string(schema) + " of " +
                               std::string(p.type) + " is out of range (versions start at 1)");
  }
  m.schema_version = static_cast<std::uint32_t>(schema);
  p.correlation_id = id(Field::correlation_id, false, p.id_text[1]);
  p.causation_id = id(Field::causation_id, true, p.id_text[2]);
  // The payload is the rest, and must be one whole MessagePack value. It is checked here, as
  // unpack_untrusted() would check it, without building its tree: payload() and payload_as()
  // build that when asked.
  if (in.rest().empty()) {
    throw MalformedMessage(WireFault::truncated,
                           "envelope is truncated (it ends before the payload)");
  }
  detail::check_one_value(in.rest(), "envelope payload");
  p.payload_bytes = in.rest();
  DecodedEvent event;
  event.parsed_ = std::move(parsed);
  return event;
}

const EventMetadata& DecodedEvent::meta() const {
  const Parsed& p = *parsed_;
  // Once built, an acquire load is all a call costs (std::call_once is dearer on every call).
  if (!p.meta_built.load(std::memory_order_acquire)) {
    std::call_once(p.meta_once, [&p] {
      p.meta.event_id = p.event_id;
      p.meta.type = p.type;
      p.meta.source = p.source;
      p.meta.correlation_id = p.correlation_id;
      p.meta.causation_id = p.causation_id;
      p.meta_built.store(true, std::memory_order_release);
    });
  }
  return p.meta;
}

const msgpack::object& DecodedEvent::payload() const {
  const Parsed& p = *parsed_;
  std::call_once(p.tree_once, [&p] {
    // Checked by decode() (check_one_value), so the tree is built without checking again.
    p.zone.emplace();
    p.payload = detail::build_checked_value(*p.zone, p.payload_bytes);
    p.tree_built.store(true, std::memory_order_release);
  });
  return p.payload;
}

const msgpack::object& DecodedEvent::passing_payload_tree() const {
  const Parsed& p = *parsed_;
  if (p.tree_built.load(std::memory_order_acquire)) return p.payload;
  // One zone per thread, emptied for each conversion: its first chunk is kept, so a tree
  // that fits costs no allocation. The tree is gone at the next call on this thread, which
  // is why only payload_as(), converting at once, uses it.
  thread_local msgpack::zone zone;
  thread_local msgpack::object tree;
  zone.clear();
  tree = detail::build_checked_value(zone, p.payload_bytes);
  return tree;
}

}  // namespace eda
