// The envelope and the codec: every field survives a round trip; bad bytes raise typed errors.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "eda/codec.hpp"
#include "eda/json.hpp"
#include "test_support.hpp"

using eda::test::OrderPlaced;
using eda::test::StockReserved;

TEST_CASE("every envelope field and the payload survive an encode/decode round trip", "[codec]") {
  eda::Event<OrderPlaced> sent = eda::make_event("order-service", eda::test::sample_order(42));
  sent.meta.sequence = 7;
  sent.meta.causation_id = "cause-123";
  const std::string bytes = eda::encode_event(sent);

  const auto received = eda::DecodedEvent::decode(bytes);
  CHECK(received.meta() == sent.meta);
  CHECK(received.meta().event_id.size() == 32);
  CHECK(received.meta().type == "shop.order.placed");
  CHECK(received.meta().source == "order-service");
  CHECK(received.meta().sequence == 7);
  CHECK(received.meta().timestamp_ns == sent.meta.timestamp_ns);
  CHECK(received.meta().schema_version == 1);
  CHECK(received.meta().correlation_id == sent.meta.event_id);
  CHECK(received.meta().causation_id == "cause-123");
  CHECK(received.payload_as<OrderPlaced>() == sent.payload);
  CHECK(received.bytes() == bytes);
  CHECK(received.is<OrderPlaced>());
  CHECK_FALSE(received.is<StockReserved>());
}

TEST_CASE("the metadata's views agree with meta(), which is built once for every copy", "[codec]") {
  eda::Event<OrderPlaced> sent = eda::make_event("order-service", eda::test::sample_order(43));
  sent.meta.sequence = 9;
  const eda::DecodedEvent event = eda::DecodedEvent::decode(eda::encode_event(sent));
  // Before meta() ran: the views and numbers come straight from the envelope.
  CHECK(event.type() == sent.meta.type);
  CHECK(event.event_id() == sent.meta.event_id);
  CHECK(event.source() == "order-service");
  CHECK(event.sequence() == 9);
  CHECK(event.schema_version() == 1);
  CHECK(event.timestamp_ns() == sent.meta.timestamp_ns);
  const eda::DecodedEvent copy = event;
  std::vector<const eda::EventMetadata*> seen(4, nullptr);
  {
    std::vector<std::jthread> threads;
    for (std::size_t t = 0; t < seen.size(); ++t) {
      threads.emplace_back([&, t] { seen[t] = &(t % 2 == 0 ? event : copy).meta(); });
    }
  }
  for (const eda::EventMetadata* meta : seen) CHECK(meta == seen.front());
  CHECK(*seen.front() == sent.meta);
}

TEST_CASE("event ids are unique and timestamps come from the wall clock", "[codec]") {
  std::set<std::string> ids;
  for (int i = 0; i < 10000; ++i) {
    ids.insert(eda::new_event_id());
  }
  CHECK(ids.size() == 10000);
  const auto meta = eda::make_metadata<OrderPlaced>("s");
  CHECK(meta.timestamp_ns > 1'600'000'000'000'000'000LL);  // after September 2020
}

TEST_CASE("event ids start with the time in milliseconds, so later ids sort later", "[codec]") {
  const auto millis_of = [](const std::string& id) {
    return std::stoull(id.substr(0, 12), nullptr, 16);
  };
  const auto now_ms = [] { return static_cast<std::uint64_t>(eda::wall_clock_ns() / 1'000'000); };
  const std::uint64_t before = now_ms();
  const std::string first = eda::new_event_id();
  std::this_thread::sleep_for(std::chrono::milliseconds(3));  // the next millisecond, at least
  const std::string second = eda::new_event_id();
  const std::uint64_t after = now_ms();
  CHECK(millis_of(first) >= before);
  CHECK(millis_of(second) <= after);
  CHECK(first < second);
  CHECK(first.find_first_not_of("0123456789abcdef") == std::string::npos);
}

TEST_CASE("an event's id carries the millisecond of its own timestamp", "[codec]") {
  const auto millis_of = [](const std::string& id) {
    return std::stoull(id.substr(0, 12), nullptr, 16);
  };
  const std::int64_t given = 1'700'000'000'123'456'789LL;
  const std::string id = eda::new_event_id(given);
  CHECK(millis_of(id) == 1'700'000'000'123ULL);
  CHECK(id.size() == 32);
  CHECK(eda::new_event_id(given) != id);  // the same millisecond, other random bits
  // make_metadata reads the clock once for both: they agree even across a millisecond edge.
  for (int i = 0; i < 1000; ++i) {
    const auto meta = eda::make_metadata<OrderPlaced>("s");
    REQUIRE(millis_of(meta.event_id) == static_cast<std::uint64_t>(meta.timestamp_ns / 1'000'000));
  }
}

TEST_CASE("a forked process does not repeat its parent's event ids", "[codec]") {
  (void)eda::new_event_id();  // the parent's generator is seeded and in use
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    const std::string id = eda::new_event_id();
    _exit(::write(fds[1], id.data(), id.size()) == static_cast<ssize_t>(id.size()) ? 0 : 1);
  }
  const std::string parent_id = eda::new_event_id();  // what the child would repeat
  int status = 0;
  ::waitpid(child, &status, 0);
  char buffer[32];
  REQUIRE(::read(fds[0], buffer, sizeof buffer) == 32);
  ::close(fds[0]);
  ::close(fds[1]);
  CHECK(std::string(buffer, 32) != parent_id);
}

TEST_CASE("a follow-up inherits the correlation id and names its cause", "[codec]") {
  const auto placed = eda::make_event("order-service", eda::test::sample_order(1));
  CHECK(placed.meta.correlation_id == placed.meta.event_id);
  CHECK(placed.meta.causation_id.empty());

  const auto reserved = eda::follow_up(placed.meta, "inventory", StockReserved{1});
  CHECK(reserved.meta.correlation_id == placed.meta.event_id);
  CHECK(reserved.meta.causation_id == placed.meta.event_id);
  CHECK(reserved.meta.source == "inventory");
  CHECK(reserved.meta.type == "shop.stock.reserved");

  const auto next = eda::follow_up(reserved.meta, "shipping", StockReserved{1});
  CHECK(next.meta.correlation_id == placed.meta.event_id);
  CHECK(next.meta.causation_id == reserved.meta.event_id);
}

TEST_CASE("the JSON form is made from the same bytes and names every field", "[codec]") {
  const auto sent = eda::make_event("order-service", eda::test::sample_order(5));
  const auto received = eda::DecodedEvent::decode(eda::encode_event(sent));
  const nlohmann::json json = eda::to_json(received);
  CHECK(json["type"] == "shop.order.placed");
  CHECK(json["source"] == "order-service");
  CHECK(json["event_id"] == sent.meta.event_id);
  CHECK(json["payload"][0] == 5);
  CHECK(json["payload"][1] == "customer-5");
  CHECK(eda::to_json_line(received).find("\"customer-5\"") != std::string::npos);
}

TEST_CASE("typed reads refuse the wrong type, schema version or payload shape", "[codec]") {
  auto event = eda::make_event("order-service", eda::test::sample_order(5));
  SECTION("wrong event type") {
    const auto received = eda::DecodedEvent::decode(eda::encode_event(event));
    try {
      (void)received.payload_as<StockReserved>();
      FAIL("expected MalformedMessage");
    } catch (const eda::MalformedMessage& e) {
      CHECK(e.fault() == eda::WireFault::wrong_event_type);
    }
  }
  SECTION("newer schema version than the reader knows") {
    event.meta.schema_version = 2;
    const auto received = eda::DecodedEvent::decode(eda::encode_event(event));
    try {
      (void)received.payload_as<OrderPlaced>();
      FAIL("expected MalformedMessage");
    } catch (const eda::MalformedMessage& e) {
      CHECK(e.fault() == eda::WireFault::unknown_schema_version);
      CHECK_THAT(e.what(), Catch::Contains("schema version 2"));
    }
  }
  SECTION("payload with a field missing") {
    eda::Event<StockReserved> wrong{event.meta, StockReserved{5}};  // 1 field, not 6
    const auto received = eda::DecodedEvent::decode(eda::encode_event(wrong));
    try {
      (void)received.payload_as<OrderPlaced>();
      FAIL("expected MalformedMessage");
    } catch (const eda::MalformedMessage& e) {
      CHECK(e.fault() == eda::WireFault::payload_mismatch);
      CHECK_THAT(e.what(), Catch::Contains("has 1 fields, expected 6"));
    }
  }
}

TEST_CASE("values round-trip and bad value bytes raise MalformedMessage", "[codec]") {
  CHECK(eda::decode_value<OrderPlaced>(eda::encode_value(eda::test::sample_order(9)), "order") ==
        eda::test::sample_order(9));
  CHECK(eda::decode_value<std::uint64_t>(eda::encode_value(std::uint64_t{77}), "id") == 77);
  CHECK_THROWS_AS(eda::decode_value<std::uint64_t>(eda::encode_value(std::string("x")), "id"),
                  eda::MalformedMessage);
  CHECK_THROWS_AS(eda::decode_value<OrderPlaced>("", "order"), eda::MalformedMessage);
}

TEST_CASE("event types are validated", "[codec]") {
  CHECK(eda::is_valid_event_type("shop.order.placed"));
  CHECK(eda::is_valid_event_type("a"));
  CHECK_FALSE(eda::is_valid_event_type(""));
  CHECK_FALSE(eda::is_valid_event_type("shop order"));
  CHECK_FALSE(
      eda::is_valid_event_type("\xff"
                               "eda.hello"));
  CHECK_FALSE(eda::is_valid_event_type(std::string(201, 'a')));
}

namespace {

/// An envelope whose payload is exactly `payload_bytes`, however malformed.
std::string envelope_with_payload(std::string_view payload_bytes) {
  msgpack::sbuffer buffer;
  msgpack::object nil;  // packs as the single byte 0xc0, which is cut off again
  eda::encode_event(eda::make_metadata<OrderPlaced>("checker"), nil, buffer);
  std::string bytes(buffer.data(), buffer.size() - 1);
  bytes += payload_bytes;
  return bytes;
}

/// Whether two trees hold the same value, type for type. Not msgpack::object's ==, which hands
/// memcmp the null pointer msgpack-cxx leaves in an empty string (undefined behaviour, and an
/// abort under UBSan), and for which NaN differs from itself.
bool same_tree(const msgpack::object& a, const msgpack::object& b) {
  if (a.type != b.type) return false;
  const auto same_bytes = [](const char* x, std::size_t x_size, const char* y, std::size_t y_size) {
    return x_size == y_size && (x_size == 0 || std::memcmp(x, y, x_size) == 0);
  };
  switch (a.type) {
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      return a.via.f64 == b.via.f64 || (std::isnan(a.via.f64) && std::isnan(b.via.f64));
    case msgpack::type::STR:
      return same_bytes(a.via.str.ptr, a.via.str.size, b.via.str.ptr, b.via.str.size);
    case msgpack::type::BIN:
      return same_bytes(a.via.bin.ptr, a.via.bin.size, b.via.bin.ptr, b.via.bin.size);
    case msgpack::type::EXT:
      return a.via.ext.type() == b.via.ext.type() &&
             same_bytes(a.via.ext.data(), a.via.ext.size, b.via.ext.data(), b.via.ext.size);
    case msgpack::type::ARRAY:
      if (a.via.array.size != b.via.array.size) return false;
      for (std::uint32_t i = 0; i < a.via.array.size; ++i) {
        if (!same_tree(a.via.array.ptr[i], b.via.array.ptr[i])) return false;
      }
      return true;
    case msgpack::type::MAP:
      if (a.via.map.size != b.via.map.size) return false;
      for (std::uint32_t i = 0; i < a.via.map.size; ++i) {
        if (!same_tree(a.via.map.ptr[i].key, b.via.map.ptr[i].key) ||
            !same_tree(a.via.map.ptr[i].val, b.via.map.ptr[i].val)) {
          return false;
        }
      }
      return true;
    default:  // nil, booleans, integers
      return a == b;
  }
}

/// Decoding an envelope judges its payload exactly as msgpack-cxx does (unpack_untrusted):
/// the same values pass, and a refused one gets the same fault and message.
void check_judged_like_msgpack(const std::string& payload_bytes) {
  INFO("payload bytes (hex): " << [&] {
    std::string hex;
    for (const char c : payload_bytes) {
      static constexpr char digits[] = "0123456789abcdef";
      hex += digits[(static_cast<unsigned char>(c) >> 4) & 0xfU];
      hex += digits[static_cast<unsigned char>(c) & 0xfU];
    }
    return hex;
  }());
  std::optional<msgpack::object_handle> reference;
  std::optional<eda::MalformedMessage> refused;
  try {
    reference.emplace(eda::unpack_untrusted(payload_bytes, "envelope payload", true));
  } catch (const eda::MalformedMessage& e) {
    refused.emplace(e);
  }
  const std::string envelope = envelope_with_payload(payload_bytes);
  try {
    const eda::DecodedEvent event = eda::DecodedEvent::decode(envelope);
    REQUIRE_FALSE(refused);
    CHECK(same_tree(event.payload(), reference->get()));
  } catch (const eda::MalformedMessage& e) {
    REQUIRE(refused);
    CHECK(e.fault() == refused->fault());
    CHECK(std::string(e.what()) == refused->what());
  }
}

/// One value of every MessagePack format, in one array.
std::string every_format() {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> pk(buffer);
  pk.pack_array(30);
  pk.pack_nil();
  pk.pack_true();
  pk.pack_false();
  pk.pack_fix_uint8(5);
  pk.pack_uint8(200);
  pk.pack_uint16(60'000);
  pk.pack_uint32(4'000'000'000U);
  pk.pack_uint64(1ULL << 40);
  pk.pack_fix_int8(-3);
  pk.pack_int8(-100);
  pk.pack_int16(-30'000);
  pk.pack_int32(-2'000'000'000);
  pk.pack_int64(-(1LL << 40));
  pk.pack_float(1.5F);
  pk.pack_double(2.25);
  pk.pack(std::string(3, 's'));    // fixstr
  pk.pack(std::string(40, 's'));   // str 8
  pk.pack(std::string(300, 's'));  // str 16
  pk.pack_str(70'000);             // str 32
  pk.pack_str_body(std::string(70'000, 't').data(), 70'000);
  pk.pack_bin(3);
  pk.pack_bin_body("abc", 3);
  for (const std::uint32_t size :
       {1U, 2U, 4U, 8U, 16U, 3U, 300U, 70'000U}) {  // fixext, ext 8/16/32
    const std::string data(size, 'e');
    pk.pack_ext(size, 7);
    pk.pack_ext_body(data.data(), size);
  }
  pk.pack_map(2);
  pk.pack(std::string("k"));
  pk.pack_array(0);
  pk.pack(std::uint64_t{1});
  pk.pack_map(0);
  return std::string(buffer.data(), buffer.size());
}

}  // namespace

TEST_CASE("decoding checks a payload without building its tree, judging it as msgpack-cxx does",
          "[codec]") {
  SECTION("every format, whole and cut at every byte") {
    const std::string all = every_format();
    check_judged_like_msgpack(all);
    for (std::size_t cut = 1; cut < all.size(); cut += (cut < 400 ? 1 : 997)) {
      check_judged_like_msgpack(all.substr(0, cut));
    }
    check_judged_like_msgpack(all + "x");  // trailing bytes
  }
  SECTION("signed formats holding values >= 0, unsigned ones holding small values") {
    // msgpack-cxx makes a positive integer of a signed format's non-negative value; the tree
    // decode() builds must too.
    check_judged_like_msgpack(
        std::string("\x94\xd0\x05\xd1\x00\x00\xd2\x00\x00\x01\x00"
                    "\xd3\x00\x00\x00\x00\x00\x00\x00\x07",
                    20));
    check_judged_like_msgpack(
        std::string("\x94\xcc\x00\xcd\x00\x01\xce\x00\x00\x00\x02"
                    "\xcf\xff\xff\xff\xff\xff\xff\xff\xff",
                    20));
    check_judged_like_msgpack(
        std::string("\x92\xca\x7f\xc0\x00\x00\xcb\xff\xf8\x00\x00"
                    "\x00\x00\x00\x00",
                    15));  // NaNs
  }
  SECTION("nesting: 64 containers deep pass, 65 do not") {
    for (const std::size_t depth : {63U, 64U, 65U}) {
      check_judged_like_msgpack(std::string(depth, '\x91') + '\x01');
      check_judged_like_msgpack(std::string(depth - 1, '\x91') + '\x90');  // the innermost empty
      check_judged_like_msgpack(std::string(depth - 1, '\x81') + "\x01\x80");  // maps
    }
  }
  SECTION("counts the bytes cannot hold, and the byte MessagePack never uses") {
    check_judged_like_msgpack(std::string("\xdd\xff\xff\xff\xff", 5));
    check_judged_like_msgpack(std::string("\xdf\x00\x00\x00\x03\x01\x02", 7));  // 3 pairs, 7 bytes
    check_judged_like_msgpack(std::string("\xdc\x00\x03\x01\x02", 5));  // 3 of 5 bytes, 2 there
    check_judged_like_msgpack(std::string("\x92\x01\xc1", 3));
    check_judged_like_msgpack(std::string("\xc1", 1));
    check_judged_like_msgpack(std::string("\x93\xc1\xdd\xff\xff\xff\xff", 7));  // first fault wins
  }
  SECTION("random bytes, mostly markers") {
    std::mt19937 random(20261127);
    std::uniform_int_distribution<int> length(1, 24);
    std::uniform_int_distribution<int> byte(0, 255);
    const std::string markers = std::string(
        "\x90\x91\x92\x80\x81\xdc\xdd\xde\xdf\xc1\xc0\xd9\xc4\xc7\xd4\xd8\xa3\x01\x00\xff", 20);
    std::uniform_int_distribution<std::size_t> pick(0, markers.size() - 1);
    for (int i = 0; i < 20'000; ++i) {
      std::string bytes;
      const int size = length(random);
      for (int b = 0; b < size; ++b) {
        bytes += byte(random) < 128 ? markers[pick(random)] : static_cast<char>(byte(random));
      }
      check_judged_like_msgpack(bytes);
    }
  }
}

TEST_CASE("the payload's tree is built once, for every copy, and payload_as needs none",
          "[codec]") {
  const OrderPlaced placed{.order_id = 7,
                           .customer = "customer-7",
                           .item = "mug",
                           .quantity = 2,
                           .price_cents = 900,
                           .express = true};
  const std::string bytes = eda::encode_event(eda::make_event("checker", placed));
  const eda::DecodedEvent event = eda::DecodedEvent::decode(bytes);
  CHECK(event.payload_as<OrderPlaced>() == placed);  // before any tree exists
  const eda::DecodedEvent copy = event;
  std::vector<const msgpack::object*> seen(4, nullptr);
  {
    std::vector<std::jthread> threads;
    for (std::size_t t = 0; t < seen.size(); ++t) {
      threads.emplace_back([&, t] { seen[t] = &(t % 2 == 0 ? event : copy).payload(); });
    }
  }
  for (const msgpack::object* tree : seen) CHECK(tree == seen.front());
  CHECK(seen.front()->type == msgpack::type::ARRAY);
  CHECK(event.payload_as<OrderPlaced>() == placed);  // from the built tree now
  // A conversion's tree on this thread never disturbs another event's.
  const OrderPlaced eighth{.order_id = 8,
                           .customer = "c-8",
                           .item = "cup",
                           .quantity = 1,
                           .price_cents = 400,
                           .express = false};
  const eda::DecodedEvent other =
      eda::DecodedEvent::decode(eda::encode_event(eda::make_event("checker", eighth)));
  const OrderPlaced first = copy.payload_as<OrderPlaced>();
  const OrderPlaced second = other.payload_as<OrderPlaced>();
  CHECK(first == placed);
  CHECK(second.order_id == 8);
}

TEST_CASE("a record is the type, a zero byte and the envelope, with kit ids as their 16 bytes",
          "[codec][format2]") {
  auto sent = eda::make_event("order-service", eda::test::sample_order(42));
  sent.meta.sequence = 3;
  const std::string bytes = eda::encode_event(sent);
  REQUIRE(bytes.starts_with(std::string("shop.order.placed") + '\0'));
  const std::string_view envelope = std::string_view(bytes).substr(sent.meta.type.size() + 1);
  CHECK(static_cast<std::uint8_t>(envelope[0]) == 0x99);            // an array of nine
  CHECK(envelope[1] == '\x02');                                     // format 2
  CHECK(envelope.substr(2, 2) == std::string_view("\xc4\x10", 2));  // bin 8 of 16 bytes
  // The id is not in the bytes as text, and its 16 bytes are its hex digits.
  CHECK(bytes.find(sent.meta.event_id) == std::string::npos);
  for (std::size_t i = 0; i < 16; ++i) {
    const auto byte = static_cast<std::uint8_t>(envelope[4 + i]);
    CHECK(std::stoi(sent.meta.event_id.substr(2 * i, 2), nullptr, 16) == byte);
  }
  const auto received = eda::DecodedEvent::decode(bytes);
  CHECK(received.format_version() == eda::envelope_format_version);
  CHECK(received.meta() == sent.meta);
  CHECK(received.event_id() == sent.meta.event_id);
  // Smaller than the same event in format 1 by the type's second copy and 16 bytes per id.
  const std::string format1 = eda::encode_format1_envelope(sent.meta, sent.payload);
  CHECK(bytes.size() + 2 * 16 == format1.size());
}

TEST_CASE("an id that is not 32 lowercase hex digits travels as text and reads the same",
          "[codec][format2]") {
  auto sent = eda::make_event("order-service", eda::test::sample_order(1));
  const std::string upper(32, 'A');  // hex, but not the kit's lowercase form
  std::vector<std::string> ids{std::string("checkout-42"), upper, std::string(31, 'a'),
                               std::string(128, 'x')};
  // 31 digits and one character just outside the digits' ranges, first, in the middle and last.
  for (const char near_miss : std::string("/:`gG@F\0\xff", 9)) {
    for (const std::size_t at : {std::size_t{0}, std::size_t{17}, std::size_t{31}}) {
      std::string id = "0123456789abcdef0123456789abcdef";
      id[at] = near_miss;
      ids.push_back(id);
    }
  }
  for (const std::string& id : ids) {
    INFO("id: " << id);
    sent.meta.correlation_id = id;
    sent.meta.causation_id = id;
    const std::string bytes = eda::encode_event(sent);
    CHECK(bytes.find(id) != std::string::npos);
    const auto received = eda::DecodedEvent::decode(bytes);
    CHECK(received.meta().correlation_id == id);
    CHECK(received.meta().causation_id == id);
  }
}

TEST_CASE("every byte value, in every eight-character lane, is told digit or not as a table would",
          "[codec][format2]") {
  // pack_id tests eight characters at once; a byte classified wrong in any lane would send a
  // text id as binary (and read it back changed) or lose the compact form.
  const auto lowercase_hex = [](unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  };
  std::size_t mismatches = 0;
  for (unsigned value = 0; value < 256; ++value) {
    for (const std::size_t at : {0U, 3U, 7U, 8U, 15U, 16U, 23U, 24U, 31U}) {
      std::string id = "0123456789abcdef0123456789abcdef";
      id[at] = static_cast<char>(value);
      if (eda::detail::is_compact_id(id) != lowercase_hex(static_cast<unsigned char>(value))) {
        ++mismatches;
        UNSCOPED_INFO("byte " << value << " at " << at);
      }
    }
  }
  CHECK(mismatches == 0);
}

TEST_CASE("a compact id's 16 bytes are its digit pairs, whichever digit sits where",
          "[codec][format2]") {
  const std::string digits = "0123456789abcdef";
  auto sent = eda::make_event("order-service", eda::test::sample_order(3));
  for (std::size_t shift = 0; shift < 16; ++shift) {
    std::string id;
    for (std::size_t i = 0; i < 32; ++i) id += digits[(i * 7 + shift) % 16];
    INFO("id: " << id);
    sent.meta.event_id = id;
    const std::string bytes = eda::encode_event(sent);
    const std::string_view envelope = std::string_view(bytes).substr(sent.meta.type.size() + 1);
    REQUIRE(envelope.substr(2, 2) == std::string_view("\xc4\x10", 2));
    for (std::size_t i = 0; i < 16; ++i) {
      CHECK(std::stoi(id.substr(2 * i, 2), nullptr, 16) ==
            static_cast<std::uint8_t>(envelope[4 + i]));
    }
    CHECK(eda::DecodedEvent::decode(bytes).event_id() == id);
  }
}

TEST_CASE("a format 1 envelope, as older stores hold it, reads as the event its record does",
          "[codec][format2]") {
  auto sent = eda::make_event("order-service", eda::test::sample_order(9));
  sent.meta.sequence = 12;
  sent.meta.causation_id = eda::new_event_id();
  const std::string format1 = eda::encode_format1_envelope(sent.meta, sent.payload);
  REQUIRE_FALSE(eda::DecodedEvent::is_record(format1));
  REQUIRE(eda::DecodedEvent::is_record(eda::encode_event(sent)));

  const auto old_event = eda::DecodedEvent::decode(format1);
  const auto new_event = eda::DecodedEvent::decode(eda::encode_event(sent));
  CHECK(old_event.format_version() == eda::legacy_envelope_format_version);
  CHECK(old_event.meta() == sent.meta);
  CHECK(old_event.meta() == new_event.meta());
  CHECK(old_event.type() == "shop.order.placed");
  CHECK(old_event.payload_as<OrderPlaced>() == sent.payload);
  CHECK(old_event.bytes() == format1);  // kept as it was read
  // Re-encoding it (what a Publisher's republish does) gives the event's record.
  msgpack::sbuffer again;
  eda::encode_event(old_event.meta(), old_event.payload(), again);
  CHECK(std::string_view(again.data(), again.size()) == eda::encode_event(sent));
}
