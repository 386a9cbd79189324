// The PostgreSQL store's parameters in the binary wire format (postgres_params.hpp): what the
// server receives for each kind of value, and a bigint that does not fit refused rather than
// sent as something else. No server needed.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "postgres_params.hpp"

using namespace eda::sourcing::postgres;

namespace {

/// Parameter `index` as the bytes libpq would send.
std::string sent(const Params& params, int index) {
  const auto i = static_cast<std::size_t>(index);
  return params.values()[i] == nullptr
             ? std::string("NULL")
             : std::string(params.values()[i], static_cast<std::size_t>(params.lengths()[i]));
}

std::string bytes(std::initializer_list<unsigned char> list) {
  std::string out;
  for (const unsigned char byte : list) out += static_cast<char>(byte);
  return out;
}

}  // namespace

TEST_CASE("a bigint is sent as 8 bytes in network order", "[postgres-params]") {
  Params params;
  params.int8(0).int8(1).int8(0x0102030405060708ULL).int8(largest_bigint);
  REQUIRE(params.count() == 4);
  CHECK(sent(params, 0) == bytes({0, 0, 0, 0, 0, 0, 0, 0}));
  CHECK(sent(params, 1) == bytes({0, 0, 0, 0, 0, 0, 0, 1}));
  CHECK(sent(params, 2) == bytes({1, 2, 3, 4, 5, 6, 7, 8}));
  CHECK(sent(params, 3) == bytes({0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}));
  const std::uint64_t values[] = {0, 1, 0x0102030405060708ULL, largest_bigint};
  for (int i = 0; i < 4; ++i) CHECK(int8_from_binary(sent(params, i)) == values[i]);  // and back
}

TEST_CASE("a value above the largest bigint is refused, naming it, instead of sent clamped",
          "[postgres-params]") {
  for (const std::uint64_t value :
       {largest_bigint + 1, std::uint64_t{18'446'744'073'709'551'615ULL}}) {
    Params params;
    CHECK_THROWS_AS(params.int8(value), std::out_of_range);
    CHECK_THROWS_WITH(params.int8(value), Catch::Contains(std::to_string(value)) &&
                                              Catch::Contains("bigint") &&
                                              Catch::Contains("9223372036854775807"));
    CHECK(params.count() == 0);  // nothing was added
  }
}

TEST_CASE("text, bytes and NULL are sent as they are, every parameter in binary",
          "[postgres-params]") {
  const std::string envelope("\x00\x01\xff", 3);
  Params params;
  params.text("order-42").bytes(envelope).null().text("");
  REQUIRE(params.count() == 4);
  CHECK(sent(params, 0) == "order-42");
  CHECK(sent(params, 1) == envelope);
  CHECK(params.values()[1] == envelope.data());  // the envelope is not copied
  CHECK(sent(params, 2) == "NULL");
  CHECK(params.lengths()[2] == 0);
  CHECK(params.values()[3] != nullptr);  // empty text is not NULL
  CHECK(sent(params, 3).empty());
  for (int i = 0; i < params.count(); ++i) CHECK(params.formats()[i] == 1);
}

TEST_CASE("an array is sent in PostgreSQL's binary array format", "[postgres-params]") {
  const std::vector<std::string> ids{"a", "bc"};
  Params params;
  params.array(oid::text, ids, [](const std::string& id) -> std::string_view { return id; });
  CHECK(sent(params, 0) == bytes({0, 0, 0, 1,                // one dimension
                                  0, 0, 0, 0,                // no NULL elements
                                  0, 0, 0, 25,               // of text
                                  0, 0, 0, 2,                // two elements
                                  0, 0, 0, 1,                // counted from 1
                                  0, 0, 0, 1,  'a',          // "a"
                                  0, 0, 0, 2,  'b', 'c'}));  // "bc"
  const std::vector<std::string> none;
  params.array(oid::bytea, none, [](const std::string& id) -> std::string_view { return id; });
  CHECK(sent(params, 1) == bytes({0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 17, 0, 0, 0, 0, 0, 0, 0, 1}));
}

TEST_CASE("values stay where they are while more parameters are added", "[postgres-params]") {
  Params params;
  params.int8(42);
  const char* first = params.values()[0];
  for (std::uint64_t i = 0; i < 1000; ++i) params.int8(i);
  CHECK(params.values()[0] == first);
  CHECK(int8_from_binary(sent(params, 0)) == 42);
  CHECK(int8_from_binary(sent(params, 1000)) == 999);
}

TEST_CASE("a bigint read back must be 8 bytes", "[postgres-params]") {
  CHECK(int8_from_binary(bytes({0, 0, 0, 0, 0, 0, 1, 0})) == 256);
  CHECK_THROWS_WITH(int8_from_binary("1234"), Catch::Contains("expected a bigint, got 4 bytes"));
}
