// Target `codec`: the kit's codec on any bytes — unpack_untrusted(), json_from_msgpack(), and
// decode_value<T>() for every payload, request body and reply body of the four modules (the
// first input byte picks the type; the rest are the bytes). Reply bodies count: a client
// decodes what a server it does not control sends.
//
// Properties:
// - decode_value<T> either throws MalformedMessage or yields a value that encodes to bytes
//   which decode again to a value encoding to the very same bytes (a fixed point);
// - a value that decodes as any T is MessagePack (unpack_untrusted accepts it);
// - the JSON form exists exactly when unpack_untrusted accepts the bytes, or the JSON library
//   refuses their shape (e.g. a map key that is not a string), and survives a round trip
//   through MessagePack.
#include <cstdint>
#include <string>
#include <vector>

#include "codec_types.hpp"
#include "eda/codec.hpp"
#include "eda/json.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace eda::fuzz::codec_types;

template <class T>
void check_type(std::string_view bytes) {
  T value;
  try {
    value = eda::decode_value<T>(bytes, "fuzz input");
  } catch (const eda::MalformedMessage&) {
    return;
  }
  try {
    (void)eda::unpack_untrusted(bytes, "fuzz input");
  } catch (const eda::MalformedMessage& e) {
    eda::fuzz::property_failed(__FILE__, __LINE__, "decoded bytes are MessagePack", e.what());
  }
  const std::string once = eda::encode_value(value);
  std::string twice;
  try {
    twice = eda::encode_value(eda::decode_value<T>(once, "re-encoded value"));
  } catch (const eda::MalformedMessage& e) {
    eda::fuzz::property_failed(__FILE__, __LINE__, "decode(encode(decode(x)))", e.what());
  }
  EDA_FUZZ_CHECK(once == twice, "encode(decode(encode(v))) != encode(v)");
}

template <class... T>
void check_nth(std::size_t index, std::string_view bytes, TypeList<T...>) {
  std::size_t i = 0;
  ((i++ == index ? check_type<T>(bytes) : void()), ...);
}

void check_json(std::string_view bytes) {
  const nlohmann::json json = eda::json_from_msgpack(bytes);
  bool parses = true;
  try {
    (void)eda::unpack_untrusted(bytes, "fuzz input");
  } catch (const eda::MalformedMessage&) {
    parses = false;
  }
  if (!parses) {
    EDA_FUZZ_CHECK(json.is_null(), "JSON made of bytes that are not MessagePack");
    return;
  }
  if (json.is_null()) return;  // MessagePack the JSON library cannot represent
  const auto dump = [](const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  const std::vector<std::uint8_t> packed = nlohmann::json::to_msgpack(json);
  const nlohmann::json again = eda::json_from_msgpack(
      std::string_view(reinterpret_cast<const char*>(packed.data()), packed.size()));
  EDA_FUZZ_CHECK(dump(again) == dump(json), "the JSON form does not survive a round trip");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes = eda::fuzz::as_view(data + 1, size - 1);
  check_nth(data[0] % count(Types{}), bytes, Types{});
  if (data[0] >= 0x80) check_json(bytes);
  return 0;
}
