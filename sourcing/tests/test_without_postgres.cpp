// A program that links the event store without its PostgreSQL part (eda::sourcing alone, as
// this test binary does): memory and SQLite specs open as always, and a PostgreSQL spec is
// refused with what to link, before anything is connected to. (CTest also checks that this
// binary needs no libpq: sourcing/tests/CMakeLists.txt.)
#include <memory>
#include <stdexcept>
#include <string>

#include <catch2/catch.hpp>

#include "eda/sourcing/memory_store.hpp"
#include "eda/sourcing/open_store.hpp"
#include "eda/sourcing/sqlite_store.hpp"
#include "store_fixture.hpp"

using namespace eda::sourcing;
using eda::sourcing::test::TempDatabase;

TEST_CASE("without eda::sourcing_postgres, memory and SQLite specs still open",
          "[open-store][no-postgres]") {
  CHECK(can_open(StoreKind::memory));
  CHECK(can_open(StoreKind::sqlite));
  CHECK_FALSE(can_open(StoreKind::postgres));
  CHECK(dynamic_cast<InMemoryEventStore*>(open_event_store("memory:").get()) != nullptr);
  TempDatabase file;
  CHECK(dynamic_cast<SqliteEventStore*>(open_event_store("sqlite:" + file.path()).get()) !=
        nullptr);
}

TEST_CASE("without eda::sourcing_postgres, a PostgreSQL spec is refused naming the target to link",
          "[open-store][no-postgres]") {
  const std::string spec = "postgresql://shop:s3cret-pw@127.0.0.1:1/shop";
  try {
    (void)open_event_store(spec);
    FAIL("a PostgreSQL store opened without the PostgreSQL store linked");
  } catch (const std::invalid_argument& e) {
    FAIL(std::string("refused as a bad spec: ") + e.what());
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    CHECK_THAT(message, Catch::Contains("eda::sourcing_postgres") && Catch::Contains("libpq"));
    CHECK_THAT(message, Catch::Contains("postgresql://shop@127.0.0.1:1/shop"));  // which spec
    CHECK(message.find("s3cret-pw") == std::string::npos);
  }
  // The spec itself is still understood: only opening it needs the PostgreSQL store.
  CHECK(parse_store_spec(spec).kind == StoreKind::postgres);
  CHECK(describe_store_spec(spec) == "postgresql://shop@127.0.0.1:1/shop");
}
