// Wire decoding of bad input: every malformed message raises a typed error, nothing crashes,
// and a subscriber dead-letters it and goes on with the next message.
#include <catch2/catch.hpp>

#include "eda/json.hpp"
#include "eda/pubsub.hpp"
#include "eda/wire.hpp"
#include "test_support.hpp"

namespace {

using Packer = msgpack::packer<msgpack::sbuffer>;

/// The parts of an envelope a bad-input case may change.
struct EnvelopeSpec {
  std::uint32_t field_count = 10;
  std::uint64_t format_version = 1;
  bool event_id_as_number = false;
  std::string type = "shop.order.placed";
  std::uint64_t schema_version = 1;
  /// Fields in encodings this kit never writes but other encoders may: sequence 7 as a
  /// signed 64-bit integer, timestamp -5 as a signed 8-bit one, the event id as a `str 16`
  /// and the type as a `str 8`.
  bool foreign_encodings = false;
  bool source_is_unused_byte = false;  ///< The byte 0xc1, which MessagePack never uses.
  bool negative_sequence = false;      ///< Sequence -1.
  std::string customer = "alice";
};

std::string build(const EnvelopeSpec& spec) {
  msgpack::sbuffer buffer;
  Packer pk(buffer);
  pk.pack_array(spec.field_count);
  const std::uint32_t fields = std::min<std::uint32_t>(spec.field_count, 10);
  for (std::uint32_t i = 0; i < fields; ++i) {
    switch (i) {
      case 0:
        pk.pack(spec.format_version);
        break;
      case 1:
        if (spec.event_id_as_number) {
          pk.pack(12345);
        } else if (spec.foreign_encodings) {
          buffer.write("\xda\x00\x20", 3);  // str 16 of 32 bytes
          buffer.write(std::string(32, 'a').data(), 32);
        } else {
          pk.pack(std::string(32, 'a'));
        }
        break;
      case 2:
        if (spec.foreign_encodings) {
          const char header[] = {'\xd9', static_cast<char>(spec.type.size())};  // str 8
          buffer.write(header, 2);
          buffer.write(spec.type.data(), spec.type.size());
        } else {
          pk.pack(spec.type);
        }
        break;
      case 3:
        if (spec.source_is_unused_byte)
          buffer.write("\xc1", 1);
        else
          pk.pack(std::string("raw-publisher"));
        break;
      case 4:
        if (spec.foreign_encodings)
          buffer.write("\xd3\0\0\0\0\0\0\0\x07", 9);  // int 64: 7
        else if (spec.negative_sequence)
          pk.pack(std::int64_t{-1});
        else
          pk.pack(std::uint64_t{1});
        break;
      case 5:
        if (spec.foreign_encodings)
          buffer.write("\xd0\xfb", 2);  // int 8: -5
        else
          pk.pack(std::int64_t{1'700'000'000'000'000'000});
        break;
      case 6:
        pk.pack(spec.schema_version);
        break;
      case 7:
        pk.pack(std::string(32, 'c'));
        break;
      case 8:
        pk.pack(std::string());
        break;
      case 9: {
        auto order = eda::test::sample_order(1);
        order.customer = spec.customer;
        pk.pack(order);
        break;
      }
    }
  }
  return std::string(buffer.data(), buffer.size());
}

/// A record: `type`, the zero byte, then `envelope` (the form format 2 sends in one frame).
std::string record(std::string_view type, std::string_view envelope) {
  return std::string(type) + '\0' + std::string(envelope);
}

/// A format 2 envelope array by hand, for the cases the kit's encoder would never write.
struct RecordSpec {
  std::uint64_t format_version = 2;
  std::size_t event_id_bytes = 16;  ///< The event id as binary of this many bytes.
};

std::string build_record_envelope(const RecordSpec& spec) {
  msgpack::sbuffer buffer;
  Packer pk(buffer);
  pk.pack_array(9);
  pk.pack(spec.format_version);
  pk.pack_bin(static_cast<std::uint32_t>(spec.event_id_bytes));
  pk.pack_bin_body(std::string(spec.event_id_bytes, '\x2a').data(),
                   static_cast<std::uint32_t>(spec.event_id_bytes));
  pk.pack(std::string("raw-publisher"));
  pk.pack(std::uint64_t{1});
  pk.pack(std::int64_t{1'700'000'000'000'000'000});
  pk.pack(std::uint32_t{1});
  pk.pack(std::string("not-a-compact-correlation-id"));
  pk.pack(std::string());
  pk.pack(eda::test::sample_order(1));
  return std::string(buffer.data(), buffer.size());
}

struct BadInput {
  std::string name;
  std::vector<std::string> frames;
  eda::WireFault fault;
};

std::vector<BadInput> bad_inputs() {
  const std::string topic = "shop.order.placed";
  const std::string good = build({});
  std::string deep(1000, '\x91');  // 1000 nested one-element arrays
  deep.push_back('\x01');
  return {
      {"garbage bytes", {topic, "\xc1\xc1\xc1 not msgpack"}, eda::WireFault::not_messagepack},
      {"truncated envelope", {topic, good.substr(0, good.size() - 5)}, eda::WireFault::truncated},
      {"empty envelope", {topic, ""}, eda::WireFault::truncated},
      {"bytes after the envelope", {topic, good + "x"}, eda::WireFault::trailing_bytes},
      {"one frame, a type and no zero byte after it", {topic}, eda::WireFault::bad_field},
      {"one frame holding a format 1 envelope", {good}, eda::WireFault::wrong_frame_count},
      {"two frames holding a record",
       {topic, record(topic, build_record_envelope({}))},
       eda::WireFault::wrong_frame_count},
      {"a record holding a format 1 envelope", {record(topic, good)}, eda::WireFault::bad_field},
      {"a record whose envelope says format 1",
       {record(topic, build_record_envelope({.format_version = 1}))},
       eda::WireFault::unknown_format_version},
      {"a record whose event id is 15 bytes of binary",
       {record(topic, build_record_envelope({.event_id_bytes = 15}))},
       eda::WireFault::bad_field},
      {"a record of an invalid type",
       {record("shop order", build_record_envelope({}))},
       eda::WireFault::bad_field},
      {"a record whose type is longer than 200 bytes",
       {record(std::string(201, 'a'), build_record_envelope({}))},
       eda::WireFault::bad_field},
      {"a record with nothing after its type", {record(topic, "")}, eda::WireFault::truncated},
      {"three frames", {topic, good, "extra"}, eda::WireFault::wrong_frame_count},
      {"envelope not an array",
       {topic, eda::encode_value(std::uint64_t{5})},
       eda::WireFault::bad_field},
      {"nine fields", {topic, build({.field_count = 9})}, eda::WireFault::bad_field},
      {"event id is a number",
       {topic, build({.event_id_as_number = true})},
       eda::WireFault::bad_field},
      {"unknown format version",
       {topic, build({.format_version = 2})},
       eda::WireFault::unknown_format_version},
      {"schema version 0",
       {topic, build({.schema_version = 0})},
       eda::WireFault::unknown_schema_version},
      {"invalid event type",
       {"shop order", build({.type = "shop order"})},
       eda::WireFault::bad_field},
      {"topic disagrees with type", {"shop.order.paid", good}, eda::WireFault::topic_mismatch},
      {"oversized envelope",
       {topic, build({.customer = std::string(2000, 'x')})},
       eda::WireFault::oversized},
      {"hostile length prefix",
       {topic, std::string("\xdd\xff\xff\xff\xff", 5)},
       eda::WireFault::truncated},
      {"hostile nesting", {topic, deep}, eda::WireFault::not_messagepack},
      {"cut inside the metadata", {topic, good.substr(0, 20)}, eda::WireFault::truncated},
      {"unused byte as a field",
       {topic, build({.source_is_unused_byte = true})},
       eda::WireFault::not_messagepack},
      {"negative sequence", {topic, build({.negative_sequence = true})}, eda::WireFault::bad_field},
  };
}

std::vector<zmq::message_t> as_frames(const std::vector<std::string>& frames) {
  std::vector<zmq::message_t> out;
  for (const auto& f : frames) out.emplace_back(f.data(), f.size());
  return out;
}

const eda::DecodeLimits test_limits{.max_envelope_bytes = 1024};

}  // namespace

TEST_CASE("a record with a compact id in binary and another id as text decodes", "[wire]") {
  const auto frames = as_frames({record("shop.order.placed", build_record_envelope({}))});
  const auto event = eda::decode_event_frames(frames, frames.size(), test_limits);
  CHECK(event.format_version() == eda::envelope_format_version);
  CHECK(event.event_id() == "2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a");
  CHECK(event.meta().correlation_id == "not-a-compact-correlation-id");
  CHECK(event.meta().causation_id.empty());
  CHECK(event.type() == "shop.order.placed");
  CHECK(event.payload_as<eda::test::OrderPlaced>() == eda::test::sample_order(1));
}

TEST_CASE("a format 1 message (topic frame, then envelope) still decodes", "[wire]") {
  const auto frames = as_frames({"shop.order.placed", build({})});
  const auto event = eda::decode_event_frames(frames, frames.size(), test_limits);
  CHECK(event.format_version() == eda::legacy_envelope_format_version);
  CHECK(event.meta().source == "raw-publisher");
  CHECK(event.payload_as<eda::test::OrderPlaced>().customer == "alice");
}

TEST_CASE(
    "an envelope in encodings other encoders use (signed integers, longer string "
    "headers) decodes to the same metadata",
    "[wire]") {
  const auto frames = as_frames({"shop.order.placed", build({.foreign_encodings = true})});
  const auto event = eda::decode_event_frames(frames, frames.size(), test_limits);
  CHECK(event.meta().event_id == std::string(32, 'a'));
  CHECK(event.meta().type == "shop.order.placed");
  CHECK(event.meta().sequence == 7);
  CHECK(event.meta().timestamp_ns == -5);
  CHECK(event.payload_as<eda::test::OrderPlaced>().customer == "alice");
}

TEST_CASE("every malformed message raises MalformedMessage with the right fault", "[wire]") {
  for (const BadInput& input : bad_inputs()) {
    INFO("case: " << input.name);
    // Like receive_frames(): at most two frames are kept, the count says how many there were.
    const std::size_t kept =
        std::min<std::size_t>(input.frames.size(), eda::legacy_event_frame_count);
    const auto first =
        as_frames({input.frames.begin(), input.frames.begin() + static_cast<long>(kept)});
    try {
      (void)eda::decode_event_frames(first, input.frames.size(), test_limits);
      FAIL("decoded without error");
    } catch (const eda::MalformedMessage& e) {
      CHECK(e.fault() == input.fault);
      CHECK(std::string(e.what()).size() > 10);  // says what was wrong, in words
    }
  }
}

TEST_CASE(
    "every truncation and every one-byte change of an envelope or a record decodes or raises "
    "MalformedMessage, nothing else",
    "[wire]") {
  const std::string good =
      GENERATE(build({}), record("shop.order.placed", build_record_envelope({})));
  std::size_t refused = 0;
  const auto try_decode = [&](const std::string& bytes) {
    try {
      (void)eda::DecodedEvent::decode(bytes, test_limits);
    } catch (const eda::MalformedMessage&) {
      ++refused;
    }  // any other exception fails the test; out-of-bounds reads fail it under ASan
  };
  for (std::size_t size = 0; size < good.size(); ++size) try_decode(good.substr(0, size));
  CHECK(refused == good.size());  // no prefix of an envelope or a record is one
  for (std::size_t at = 0; at < good.size(); ++at) {
    for (int value = 0; value < 256; ++value) {
      std::string changed = good;
      changed[at] = static_cast<char>(value);
      try_decode(changed);
    }
  }
}

TEST_CASE("a subscriber dead-letters malformed messages and keeps going", "[wire][pubsub]") {
  zmq::context_t context;
  eda::DeadLetterBox box;
  eda::test::RawPublisher raw(context);
  eda::Subscriber subscriber(context, {.endpoints = {raw.endpoint()},
                                       .limits = test_limits,
                                       .name = "inventory",
                                       .dead_letters = &box});
  REQUIRE(raw.handshake(subscriber));

  const auto inputs = bad_inputs();
  for (const BadInput& input : inputs) {
    raw.send(input.frames);
  }
  raw.send({"shop.order.placed", build({})});  // one good event after all the bad ones

  auto delivery = subscriber.receive(std::chrono::seconds(10));
  REQUIRE(delivery);
  CHECK(delivery->event.payload_as<eda::test::OrderPlaced>().customer == "alice");
  CHECK(subscriber.stats().delivered == 1);
  CHECK(subscriber.stats().malformed == inputs.size());
  CHECK(box.total() == inputs.size());
  CHECK(box.count(eda::WireFault::wrong_frame_count) == 3);
  CHECK(box.count(eda::WireFault::topic_mismatch) == 1);

  const auto letters = box.recent();
  REQUIRE(letters.size() == inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    INFO("case: " << inputs[i].name);
    CHECK(letters[i].fault == inputs[i].fault);
    CHECK(letters[i].origin == "inventory");
    CHECK_FALSE(letters[i].reason.empty());
    CHECK(letters[i].frames.front() == inputs[i].frames.front());  // raw bytes are kept
    CHECK(eda::to_json(letters[i])["fault"] == std::string(eda::to_string(inputs[i].fault)));
  }
}

TEST_CASE("a consumer can dead-letter an event it cannot handle", "[wire][pubsub]") {
  zmq::context_t context;
  eda::test::RawPublisher raw(context);
  eda::Subscriber subscriber(context, {.endpoints = {raw.endpoint()}});
  REQUIRE(raw.handshake(subscriber));
  raw.send({"shop.order.placed", build({.schema_version = 3})});
  auto delivery = subscriber.receive(std::chrono::seconds(10));
  REQUIRE(delivery);
  try {
    (void)delivery->event.payload_as<eda::test::OrderPlaced>();
    FAIL("expected a schema version error");
  } catch (const eda::MalformedMessage& e) {
    subscriber.dead_letter(delivery->event, e.fault(), e.what());
  }
  CHECK(subscriber.stats().malformed == 1);
  auto& box = dynamic_cast<eda::DeadLetterBox&>(subscriber.dead_letters());
  REQUIRE(box.total() == 1);
  CHECK(box.recent().front().fault == eda::WireFault::unknown_schema_version);
}

TEST_CASE("dead letters can be written to a file as JSON lines", "[wire]") {
  const std::string path = std::filesystem::temp_directory_path() /
                           ("eda-dead-letters-" + eda::new_event_id() + ".jsonl");
  {
    eda::DeadLetterFile file(path);
    file.put(
        {{"shop.order.placed", "\xc1 garbage"}, eda::WireFault::not_messagepack, "bad", "test", 1});
    file.put({{"x"}, eda::WireFault::wrong_frame_count, "one frame", "test", 2});
    CHECK(file.total() == 2);
  }
  std::ifstream in(path);
  std::string line;
  std::vector<nlohmann::json> lines;
  while (std::getline(in, line)) lines.push_back(nlohmann::json::parse(line));
  std::filesystem::remove(path);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["fault"] == "not_messagepack");
  CHECK(lines[0]["frames"][1] == "\\xc1 garbage");
  CHECK(lines[1]["reason"] == "one frame");
  CHECK_THROWS_WITH(eda::DeadLetterFile("/nonexistent-dir/x.jsonl"),
                    Catch::Contains("cannot open"));
}
