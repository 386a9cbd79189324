/// @file codec.hpp
/// @brief MessagePack encoding of events and values (their JSON form for people is in json.hpp).
///
/// An event travels and is stored as one **record**: its type, a zero byte, then the envelope,
/// one MessagePack array with fields in a fixed position (the kit's page specifies both, byte
/// by byte). Payload structs use `MSGPACK_DEFINE` (positional fields): decoding them is
/// about three times faster than named fields, and the schema version in the envelope still
/// lets a payload evolve.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <msgpack.hpp>

#include "eda/envelope.hpp"
#include "eda/errors.hpp"

namespace eda {

/// @brief Version of the envelope layout this build writes (format 2: one frame, the event type
///        as a prefix, ids as 16 bytes). Decoders read it and format 1; they reject others.
inline constexpr std::uint32_t envelope_format_version = 2;

/// @brief The earlier envelope layout (format 1: the type inside the array, ids as hex text,
///        sent after a topic frame), still read from the wire and from stores written before
///        format 2, and never written.
inline constexpr std::uint32_t legacy_envelope_format_version = 1;

/// @brief Elements of a format 2 envelope array: format version, 7 metadata fields (the type is
///        the record's prefix, not in the array), payload.
inline constexpr std::size_t envelope_field_count = 9;

/// @brief Elements of a format 1 envelope array: format version, 8 metadata fields, payload.
inline constexpr std::size_t legacy_envelope_field_count = 10;

/// @brief The byte that ends the event type at the start of a record (never in a valid type).
inline constexpr char record_type_terminator = '\0';

/// @brief Bounds a decoder enforces on untrusted bytes.
struct DecodeLimits {
  std::size_t max_envelope_bytes = 1U << 20;  ///< Largest accepted envelope (default 1 MiB).
};

namespace detail {

/// @brief Whether `id` is in the form new_event_id() makes (32 lowercase hex digits), which
///        format 2 sends as its 16 bytes.
bool is_compact_id(std::string_view id) noexcept;

/// @brief Packs an id: the 16 bytes of a compact id (MessagePack bin 8), any other id as text.
void pack_id(msgpack::packer<msgpack::sbuffer>& pk, std::string_view id);

/// @brief Packs an event record: the type, its terminator, then the envelope array (format 2)
///        with `payload` as it packs itself.
template <class Packable>
void pack_envelope(const EventMetadata& meta, const Packable& payload, msgpack::sbuffer& out) {
  out.write(meta.type.data(), meta.type.size());
  out.write(&record_type_terminator, 1);
  msgpack::packer<msgpack::sbuffer> pk(out);
  pk.pack_array(envelope_field_count);
  pk.pack(envelope_format_version);
  pack_id(pk, meta.event_id);
  pk.pack(meta.source);
  pk.pack(meta.sequence);
  pk.pack(meta.timestamp_ns);
  pk.pack(meta.schema_version);
  pack_id(pk, meta.correlation_id);
  pack_id(pk, meta.causation_id);
  pk.pack(payload);
}

}  // namespace detail

/// @brief Encodes `meta` and `payload` as one event record (type, zero byte, MessagePack
///        envelope), appended to `out`.
///
/// `out` is reused by hot paths (a publisher keeps one buffer), so call `out.clear()` first
/// when it should hold only this event.
template <EventPayload P>
void encode_event(const EventMetadata& meta, const P& payload, msgpack::sbuffer& out) {
  detail::pack_envelope(meta, payload, out);
}

/// @brief Encodes `meta` and an already decoded payload (e.g. DecodedEvent::payload()) as one
///        record appended to `out`: for tools that restamp an event's metadata without
///        knowing its payload type.
inline void encode_event(const EventMetadata& meta, const msgpack::object& payload,
                         msgpack::sbuffer& out) {
  detail::pack_envelope(meta, payload, out);
}

/// @brief Encodes `meta` and `payload` as a format 1 envelope, the form publishers and stores
///        wrote before the record (an array of ten, the type inside it, every id as text).
///
/// The kit never writes it for itself: it is for tests and tools that play an older publisher
/// or store, to check that what they wrote is still read.
template <class Packable>
std::string encode_format1_envelope(const EventMetadata& meta, const Packable& payload) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> pk(buffer);
  pk.pack_array(legacy_envelope_field_count);
  pk.pack(legacy_envelope_format_version);
  pk.pack(meta.event_id);
  pk.pack(meta.type);
  pk.pack(meta.source);
  pk.pack(meta.sequence);
  pk.pack(meta.timestamp_ns);
  pk.pack(meta.schema_version);
  pk.pack(meta.correlation_id);
  pk.pack(meta.causation_id);
  pk.pack(payload);
  return std::string(buffer.data(), buffer.size());
}

/// @brief Encodes a typed event as one record (type, zero byte, MessagePack envelope).
template <EventPayload P>
std::string encode_event(const Event<P>& event) {
  msgpack::sbuffer buffer;
  encode_event(event.meta, event.payload, buffer);
  return std::string(buffer.data(), buffer.size());
}

/// @brief Parses untrusted bytes as exactly one MessagePack value, within size limits.
///
/// Throws MalformedMessage (not_messagepack, truncated, trailing_bytes) and never allocates
/// more than the input can describe. `what` names the bytes in error messages. With
/// `zero_copy`, strings and binary data in the result point into `bytes`, which must then
/// outlive the result.
msgpack::object_handle unpack_untrusted(std::string_view bytes, std::string_view what,
                                        bool zero_copy = false);

/// @brief Like the other overload, but allocates the parsed tree in `zone` (which must outlive
///        the result), so a caller can size the zone to what it parses.
msgpack::object unpack_untrusted(msgpack::zone& zone, std::string_view bytes, std::string_view what,
                                 bool zero_copy);

namespace detail {

/// @brief Number of fields `P` packs (its `MSGPACK_DEFINE` array length), computed once.
template <class P>
std::uint32_t packed_field_count() {
  static const std::uint32_t count = [] {
    msgpack::sbuffer buffer;
    msgpack::pack(buffer, P{});
    auto handle = msgpack::unpack(buffer.data(), buffer.size());
    return handle.get().type == msgpack::type::ARRAY ? handle.get().via.array.size : 0U;
  }();
  return count;
}

/// @brief Converts a MessagePack object to `T`, checking the positional field count first.
///
/// `describe()` names the value in error messages; it is only called when there is an error,
/// so the hot path builds no strings.
template <class T, class Describe>
T convert_checked(const msgpack::object& object, const Describe& describe) {
  const std::uint32_t expected = packed_field_count<T>();
  if (expected != 0) {
    if (object.type != msgpack::type::ARRAY) {
      throw MalformedMessage(WireFault::payload_mismatch,
                             std::string(describe()) + " is not an array of fields");
    }
    if (object.via.array.size != expected) {
      throw MalformedMessage(WireFault::payload_mismatch,
                             std::string(describe()) + " has " +
                                 std::to_string(object.via.array.size) + " fields, expected " +
                                 std::to_string(expected));
    }
  }
  try {
    return object.as<T>();
  } catch (const msgpack::type_error&) {
    throw MalformedMessage(WireFault::payload_mismatch,
                           std::string(describe()) + " has a field of the wrong type");
  }
}

}  // namespace detail

/// @brief Encodes any msgpack-able value (RPC bodies, snapshots) as MessagePack bytes.
template <class T>
std::string encode_value(const T& value) {
  msgpack::sbuffer buffer;
  msgpack::pack(buffer, value);
  return std::string(buffer.data(), buffer.size());
}

/// @brief Decodes untrusted bytes as a `T`; throws MalformedMessage naming `what` on failure.
template <class T>
T decode_value(std::string_view bytes, std::string_view what) {
  const auto handle = unpack_untrusted(bytes, what);
  return detail::convert_checked<T>(handle.get(), [what] { return what; });
}

/// @brief One event read from the wire or from storage: validated metadata, the payload still
///        in MessagePack form, and the original bytes.
///
/// Decoding checks the envelope completely (every field's type, the format version, sizes, and
/// that the payload is one whole MessagePack value); the payload is converted to a struct only
/// when a consumer asks for it with payload_as(), so a consumer can route on type() first and
/// never pays for payloads it ignores.
///
/// @par Example
/// @code
/// auto event = eda::DecodedEvent::decode(bytes);
/// if (event.is<OrderPlaced>()) handle(event.payload_as<OrderPlaced>());   // or route on event.type()
/// @endcode
class DecodedEvent {
 public:
  /// @brief Decodes and validates a record (format 2) or a format 1 envelope, told apart by
  ///        their first byte; throws MalformedMessage when the bytes are neither.
  static DecodedEvent decode(std::string_view bytes, const DecodeLimits& limits = {});

  /// @brief Whether `bytes` start as a record (format 2: a character of an event type first)
  ///        rather than as a format 1 envelope (a MessagePack array header first); false for no
  ///        bytes. Says nothing of the rest.
  static bool is_record(std::string_view bytes) noexcept;

  /// @brief The envelope's metadata.
  ///
  /// Its strings are copied out of the envelope on the first call, once for all copies (safe
  /// from several threads): a reader in bulk that routes on type() and schema_version() alone
  /// (a replay, a projection) never pays for five string copies per event.
  [[nodiscard]] const EventMetadata& meta() const;

  /// @brief The event type, e.g. `shop.order.placed` (a view into the envelope).
  [[nodiscard]] std::string_view type() const noexcept { return parsed_->type; }
  /// @brief The event id (a view into the envelope).
  [[nodiscard]] std::string_view event_id() const noexcept { return parsed_->event_id; }
  /// @brief The service that published it (a view into the envelope).
  [[nodiscard]] std::string_view source() const noexcept { return parsed_->source; }
  /// @brief Its per-source sequence number (0 = unstamped).
  [[nodiscard]] std::uint64_t sequence() const noexcept { return parsed_->meta.sequence; }
  /// @brief The version of the payload's shape.
  [[nodiscard]] std::uint32_t schema_version() const noexcept {
    return parsed_->meta.schema_version;
  }
  /// @brief The time of publication, ns since the Unix epoch.
  [[nodiscard]] std::int64_t timestamp_ns() const noexcept { return parsed_->meta.timestamp_ns; }

  /// @brief The payload as a MessagePack object (valid as long as this DecodedEvent or a copy
  ///        of it lives).
  ///
  /// The object tree is built on the first call, once for all copies (safe from several
  /// threads); decoding only checks the payload's bytes, and payload_as() converts without
  /// keeping a tree, so events read in bulk carry no tree they never use.
  [[nodiscard]] const msgpack::object& payload() const;

  /// @brief The complete bytes as received: the record (format 2), or the envelope alone
  ///        (format 1, read from an older store or publisher).
  [[nodiscard]] std::string_view bytes() const noexcept { return parsed_->bytes; }

  /// @brief The envelope format the bytes were in: envelope_format_version, or
  ///        legacy_envelope_format_version for bytes written before it.
  [[nodiscard]] std::uint32_t format_version() const noexcept { return parsed_->format; }

  /// @brief The payload's MessagePack bytes as received (the envelope's last field), checked
  ///        by decode() to be one well-formed value.
  [[nodiscard]] std::string_view payload_bytes() const noexcept { return parsed_->payload_bytes; }

  /// @brief Whether this event is of payload type `P` (compares the event type).
  template <EventPayload P>
  [[nodiscard]] bool is() const noexcept {
    return type() == P::event_type;
  }

  /// @brief The payload as a `P`.
  ///
  /// Throws MalformedMessage when the event type is not `P::event_type` (wrong_event_type),
  /// when the schema version is not `P::schema_version` (unknown_schema_version: an older
  /// version needs an upcaster, a newer one a newer reader), or when the payload's shape does
  /// not match the struct (payload_mismatch).
  ///
  /// Strings in `P` are copies. A field of type `msgpack::object` (an "any value" field) would
  /// point into the tree the conversion read, which is the event's own only after payload()
  /// built it: call payload() first when `P` has such a field.
  template <EventPayload P>
  [[nodiscard]] P payload_as() const {
    if (type() != P::event_type) {
      throw MalformedMessage(WireFault::wrong_event_type, "event " + meta().event_id + " is a " +
                                                              meta().type + ", not a " +
                                                              std::string(P::event_type));
    }
    if (schema_version() != P::schema_version) {
      throw MalformedMessage(WireFault::unknown_schema_version,
                             meta().type + " event " + meta().event_id + " has schema version " +
                                 std::to_string(schema_version()) +
                                 ", this reader understands version " +
                                 std::to_string(P::schema_version) +
                                 " (older versions need an upcaster, newer ones a newer reader)");
    }
    return detail::convert_checked<P>(passing_payload_tree(), [this] {
      return "payload of " + meta().type + " event " + meta().event_id;
    });
  }

  /// @brief The same typed event with its metadata.
  template <EventPayload P>
  [[nodiscard]] Event<P> as_event() const {
    return Event<P>{meta(), payload_as<P>()};
  }

 private:
  DecodedEvent() = default;

  /// The payload's tree for a conversion that follows at once: the tree payload() built if
  /// there is one, else a tree in a zone of this thread that the next call reuses (so that
  /// converting allocates nothing for the tree).
  [[nodiscard]] const msgpack::object& passing_payload_tree() const;

  /// What decode() found, shared by copies: the envelope bytes, views of the metadata's
  /// strings and of the payload into them, and what is built from them on demand (the
  /// metadata's strings, the payload's tree). Strings and binary data in the tree point into
  /// the bytes instead of being copied (zero-copy parse).
  struct Parsed {
    explicit Parsed(std::string_view envelope) : storage(envelope), bytes(storage) {}
    const std::string storage;       ///< The envelope, copied once.
    const std::string_view bytes;    ///< `storage`.
    std::string_view payload_bytes;  ///< The payload's bytes: the tail of `bytes`.
    std::string_view event_id;       ///< The metadata's strings, in `bytes`.
    std::string_view type;
    std::string_view source;
    std::string_view correlation_id;
    std::string_view causation_id;
    /// Format 2 sends compact ids as 16 bytes: their hex text is written here, and the views
    /// above point to it (it lives as long as the bytes do).
    char id_text[3][32] = {};
    std::uint32_t format = 0;    ///< The envelope format version read.
    mutable EventMetadata meta;  ///< Numbers set by decode(); strings once meta() ran.
    mutable std::once_flag meta_once;
    mutable std::atomic<bool> meta_built{false};
    mutable std::once_flag tree_once;
    mutable std::atomic<bool> tree_built{false};
    mutable std::optional<msgpack::zone> zone;  ///< Holds the tree, once built.
    mutable msgpack::object payload;
  };
  std::shared_ptr<const Parsed> parsed_;
};

}  // namespace eda
