// The event store contract (store_contract.inc) over the in-memory and the SQLite store. Then
// what only SQLite adds: durability across reopening, several connections, corrupt rows.
#include <filesystem>
#include <fstream>
#include <memory>

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include "eda/sourcing/memory_store.hpp"
#include "eda/sourcing/sqlite_store.hpp"
#include "store_fixture.hpp"

using namespace eda::sourcing;
using eda::sourcing::test::TempDatabase;

namespace {

/// Each store kind the contract runs against.
struct MemoryKind {
  static constexpr const char* name = "in memory";
  std::unique_ptr<EventStore> open() { return std::make_unique<InMemoryEventStore>(); }
};
struct SqliteKind {
  static constexpr const char* name = "SQLite";
  TempDatabase file;
  std::unique_ptr<EventStore> open() {
    return std::make_unique<SqliteEventStore>(SqliteStoreOptions{.path = file.path()});
  }
};

}  // namespace

#define EDA_STORE_KINDS MemoryKind, SqliteKind
#include "store_contract.inc"

TEST_CASE("the SQLite store keeps what it acknowledged across reopening", "[sqlite]") {
  TempDatabase file;
  {
    SqliteEventStore store({.path = file.path()});
    store.append("order-1", ExpectedVersion::no_stream(), std::vector{item_added(1, "kept")});
  }
  SqliteEventStore reopened({.path = file.path(), .durability = Durability::normal});
  const auto events = reopened.read_stream("order-1", 1, 10, Direction::forward);
  REQUIRE(events.size() == 1);
  CHECK(events[0].event.payload_as<ItemAdded>().item == "kept");
  CHECK(reopened.integrity_check() == "ok");
}

TEST_CASE("two connections to one SQLite file see each other and conflict correctly",
          "[sqlite]") {
  TempDatabase file;
  SqliteEventStore a({.path = file.path()});
  SqliteEventStore b({.path = file.path()});
  a.append("order-1", ExpectedVersion::no_stream(), std::vector{item_added(1, "from a")});
  CHECK(b.stream_version("order-1") == 1);  // b's next read sees a's commit
  CHECK_THROWS_AS(b.append("order-1", ExpectedVersion::no_stream(), std::vector{item_added(1, "b")}),
                  ConcurrencyConflict);
  b.append("order-1", ExpectedVersion::exactly(1), std::vector{item_added(1, "from b")});
  CHECK(items_of(a.read_stream("order-1", 1, 10, Direction::forward)) ==
        std::vector<std::string>{"from a", "from b"});
}

TEST_CASE("a corrupt stored event is reported with its stream and position, not a crash",
          "[sqlite]") {
  TempDatabase file;
  SqliteEventStore store({.path = file.path()});
  store.append("order-1", ExpectedVersion::no_stream(),
               std::vector{item_added(1, "good"), item_added(1, "will rot")});
  {
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(file.path().c_str(), &raw) == SQLITE_OK);
    REQUIRE(sqlite3_exec(raw, "UPDATE events SET envelope = x'c1c1c1' WHERE position = 2",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(raw);
  }
  CHECK_THROWS_WITH(store.read_stream("order-1", 1, 10, Direction::forward),
                    Catch::Contains("position 2") && Catch::Contains("order-1"));
  CHECK_THROWS_AS(store.read_all(1, 10), CorruptEvent);
  CHECK(store.read_stream("order-1", 1, 1, Direction::forward).size() == 1);  // still usable
}

TEST_CASE("a file that is not an event store is refused with its name", "[sqlite]") {
  TempDatabase file;
  {
    std::ofstream junk(file.path());
    junk << "this is not a database, just some text that is long enough to have a header";
  }
  CHECK_THROWS_WITH(SqliteEventStore({.path = file.path()}), Catch::Contains(file.path()));
}
