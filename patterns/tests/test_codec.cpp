// The envelope and the codec: every field survives a round trip; bad bytes raise typed errors.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "eda/codec.hpp"
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

TEST_CASE("event ids are unique and timestamps come from the wall clock", "[codec]") {
  std::set<std::string> ids;
  for (int i = 0; i < 10000; ++i) {
    ids.insert(eda::new_event_id());
  }
  CHECK(ids.size() == 10000);
  const auto meta = eda::make_metadata<OrderPlaced>("s");
  CHECK(meta.timestamp_ns > 1'600'000'000'000'000'000LL);  // after September 2020
}

TEST_CASE("event ids start with the time in milliseconds, so later ids sort later",
          "[codec]") {
  const auto millis_of = [](const std::string& id) { return std::stoull(id.substr(0, 12), nullptr, 16); };
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
  const auto millis_of = [](const std::string& id) { return std::stoull(id.substr(0, 12), nullptr, 16); };
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
  const nlohmann::json json = received.to_json();
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
  CHECK_FALSE(eda::is_valid_event_type("\xff" "eda.hello"));
  CHECK_FALSE(eda::is_valid_event_type(std::string(201, 'a')));
}
