// Private to the kit: reading the envelope's fixed fields straight from its bytes.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include <msgpack.hpp>

namespace eda::detail {

/// Reads the envelope's metadata field by field, in place. The envelope's shape is fixed (an
/// array of ten: nine metadata fields, then the payload), so a generic MessagePack parse that
/// builds an object for each field, only to copy it out again, is work thrown away: decoding
/// spends most of its time there. Only the payload, whose shape the reader does not know,
/// is parsed generically (by the caller).
///
/// Every read checks the bytes it needs are there (MalformedMessage `truncated` otherwise)
/// and that the value is of the expected kind (`bad_field`, naming the field). The byte 0xc1,
/// which MessagePack never uses, is `not_messagepack`.
class EnvelopeReader {
 public:
  /// Reads `bytes` from the start; they must outlive the reader.
  explicit EnvelopeReader(std::string_view bytes) noexcept : bytes_(bytes) {}

  /// The element count of the array that starts here; false (and nothing read) when no
  /// array header starts here, or it is cut short.
  bool array_header(std::uint32_t& count) noexcept;

  /// Field `field` (its index, for messages) as an unsigned integer.
  std::uint64_t unsigned_field(std::uint32_t field);

  /// Field `field` as a signed 64-bit integer.
  std::int64_t signed_field(std::uint32_t field);

  /// Field `field` as a string of at most `max_bytes` (a view into the bytes).
  std::string_view string_field(std::uint32_t field, std::size_t max_bytes, bool may_be_empty);

  /// Field `field` as an id: a MessagePack bin of exactly 16 bytes, whose 32 lowercase hex
  /// digits are written to `text` (the view returned points there), or a string of at most
  /// `max_bytes` (a view into the bytes).
  std::string_view id_field(std::uint32_t field, std::size_t max_bytes, bool may_be_empty,
                            char (&text)[32]);

  /// The bytes not read yet.
  [[nodiscard]] std::string_view rest() const noexcept { return bytes_.substr(offset_); }

 private:
  struct Integer {
    bool negative = false;
    std::uint64_t magnitude = 0;  // the value when not negative
    std::int64_t value = 0;       // the value when negative
  };
  Integer integer(std::uint32_t field);
  std::string_view string_after(std::uint8_t marker, std::uint32_t field, std::size_t max_bytes,
                                bool may_be_empty);
  std::uint8_t byte();
  std::uint64_t big_endian(std::size_t size);
  [[noreturn]] void truncated() const;

  std::string_view bytes_;
  std::size_t offset_ = 0;
};

/// Checks that `bytes` are exactly one MessagePack value, as unpack_untrusted() does (same
/// faults, same messages naming `what`, the same bounds: nesting up to 64 containers deep, no
/// container declaring more elements than the bytes hold), but without building the value's
/// tree: it allocates nothing. decode() checks payloads with it; the tree is built only for a
/// consumer that asks for it.
void check_one_value(std::string_view bytes, std::string_view what);

/// The tree of `bytes`, which check_one_value() accepted: the same tree as msgpack-cxx's
/// unpack builds with zero-copy strings (every value of the same type and value; strings,
/// binary and extension data point into `bytes`, which must outlive the tree), its containers'
/// elements allocated in `zone`. It needs no check of its own and no parser state, where
/// msgpack-cxx's unpack allocates two stacks per call: for a small payload that was most of
/// the cost of turning it into a struct.
msgpack::object build_checked_value(msgpack::zone& zone, std::string_view bytes);

/// The envelope field's name, e.g. `event_id`, for messages.
const char* envelope_field_name(std::uint32_t index) noexcept;

/// Throws MalformedMessage `bad_field`: "envelope field '<name>' <problem>".
[[noreturn]] void bad_envelope_field(std::uint32_t index, const std::string& problem);

}  // namespace eda::detail
