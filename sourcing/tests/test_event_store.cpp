// The event store contract (store_contract.inc) over the in-memory and the SQLite store. Then
// what only SQLite adds: durability across reopening, several connections, a file that is not
// an event store.
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include "eda/sourcing/memory_store.hpp"
#include "eda/sourcing/order.hpp"
#include "eda/sourcing/sqlite_store.hpp"
#include "eda/sqlite/database.hpp"
#include "eda_test_support.hpp"
#include "store_fixture.hpp"

using namespace eda::sourcing;
using eda::sourcing::test::TempDatabase;

namespace {

/// The in-memory store. Its events live in the process, out of reach of anything but its own
/// checked appends: nothing at rest to spoil, so no corrupt().
struct MemoryKind {
  static constexpr const char* name = "in memory";
  std::unique_ptr<EventStore> open() { return std::make_unique<InMemoryEventStore>(); }
};

/// The SQLite store, in a file of its own (removed after the test).
struct SqliteKind {
  static constexpr const char* name = "SQLite";
  TempDatabase file;
  std::unique_ptr<EventStore> open() {
    return std::make_unique<SqliteEventStore>(SqliteStoreOptions{.path = file.path()});
  }
  /// Spoils the envelope stored at `position`, through a connection of its own to the file.
  void corrupt(std::uint64_t position) {
    const eda::sqlite::Database spoiler(file.path(), Durability::normal, "event store");
    spoiler.exec(
        ("UPDATE events SET envelope = x'c1c1c1' WHERE position = " + std::to_string(position))
            .c_str());
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
  CHECK(items_of(reopened.read_stream("order-1", 1, 10, Direction::forward)) ==
        std::vector<std::string>{"kept"});
  CHECK(reopened.integrity_check() == "ok");
}

TEST_CASE("events an earlier version stored in format 1 are read as the events they were",
          "[sqlite][format2]") {
  TempDatabase file;
  eda::EventMetadata written;
  {
    SqliteEventStore store({.path = file.path()});
    store.append("order-1", ExpectedVersion::no_stream(), std::vector{item_added(1, "old")});
    const RecordedEvent record = store.read_stream("order-1", 1, 1, Direction::forward).at(0);
    REQUIRE(record.event.format_version() == eda::envelope_format_version);
    written = record.event.meta();
    // Put the same event back in format 1, as a store written before format 2 holds it.
    const std::string format1 =
        eda::encode_format1_envelope(record.event.meta(), record.event.payload());
    std::string hex;
    for (const char byte : format1) {
      const auto c = static_cast<unsigned char>(byte);
      static constexpr char digits[] = "0123456789abcdef";
      hex += digits[c >> 4];
      hex += digits[c & 0x0f];
    }
    const eda::sqlite::Database older(file.path(), Durability::normal, "event store");
    older.exec(("UPDATE events SET envelope = x'" + hex + "' WHERE position = 1").c_str());
  }
  SqliteEventStore reopened({.path = file.path()});
  const RecordedEvent read = reopened.read_stream("order-1", 1, 1, Direction::forward).at(0);
  CHECK(read.event.format_version() == eda::legacy_envelope_format_version);
  CHECK(read.event.meta() == written);
  CHECK(items_of(reopened.read_stream("order-1", 1, 10, Direction::forward)) ==
        std::vector<std::string>{"old"});
  // New events beside it are written as records; both read back in order.
  reopened.append("order-1", ExpectedVersion::exactly(1), std::vector{item_added(1, "new")});
  CHECK(items_of(reopened.read_all(1, 10)) == std::vector<std::string>{"old", "new"});
}

TEST_CASE("two connections to one SQLite file see each other and conflict correctly", "[sqlite]") {
  TempDatabase file;
  SqliteEventStore a({.path = file.path()});
  SqliteEventStore b({.path = file.path()});
  a.append("order-1", ExpectedVersion::no_stream(), std::vector{item_added(1, "from a")});
  CHECK(b.stream_version("order-1") == 1);  // b's next read sees a's commit
  CHECK_THROWS_AS(
      b.append("order-1", ExpectedVersion::no_stream(), std::vector{item_added(1, "b")}),
      ConcurrencyConflict);
  b.append("order-1", ExpectedVersion::exactly(1), std::vector{item_added(1, "from b")});
  CHECK(items_of(a.read_stream("order-1", 1, 10, Direction::forward)) ==
        std::vector<std::string>{"from a", "from b"});
}

TEST_CASE("a file that is not an event store is refused with its name", "[sqlite]") {
  TempDatabase file;
  {
    std::ofstream junk(file.path());
    junk << "this is not a database, just some text that is long enough to have a header";
  }
  CHECK_THROWS_WITH(SqliteEventStore({.path = file.path()}), Catch::Contains(file.path()));
}

namespace {

/// A store whose database fails every append to the stream `broken` (as a full disk would).
class FailingOn final : public ForwardingEventStore {
 public:
  using ForwardingEventStore::ForwardingEventStore;
  AppendResult append(std::string_view stream, const ExpectedVersion& expected,
                      std::span<const EventData> events) override {
    if (stream == "broken") throw StoreError("the disk is full");
    return ForwardingEventStore::append(stream, expected, events);
  }
  std::vector<AppendOutcome> append_all(std::span<const AppendRequest> requests) override {
    return EventStore::append_all(requests);  // append by append, through append() above
  }
};

}  // namespace

TEST_CASE("a store failure in a group is a value of kind `failed` with category storage",
          "[store][errors]") {
  InMemoryEventStore memory;
  FailingOn store(memory);
  std::vector<AppendRequest> group;
  group.push_back({"broken", ExpectedVersion::any(), {item_added(1, "lost")}});
  group.push_back({"order-2", ExpectedVersion::any(), {item_added(2, "kept")}});
  const std::vector<AppendOutcome> outcomes = store.append_all(group);
  REQUIRE(outcomes.size() == 2);
  REQUIRE(outcomes[0].failure);
  CHECK_FALSE(outcomes[0].ok());
  CHECK(outcomes[0].failure->kind == AppendFailure::Kind::failed);
  CHECK(outcomes[0].failure->category == eda::ErrorCategory::storage);
  CHECK(outcomes[0].failure->message == "the disk is full");
  CHECK(outcomes[0].failure->stream == "broken");
  CHECK_THROWS_AS(outcomes[0].value(), StoreError);
  CHECK(outcomes[1].ok());
  CHECK(outcomes[1].value().last_version == 1);
}

TEST_CASE("store errors are eda::Errors a caller can switch on", "[store][errors]") {
  SECTION("a conflict is ErrorCategory::conflict") {
    InMemoryEventStore store;
    store.append("order-1", ExpectedVersion::no_stream(), std::vector{item_added(1, "a")});
    try {
      store.append("order-1", ExpectedVersion::no_stream(), std::vector{item_added(1, "b")});
      FAIL("no conflict");
    } catch (const eda::Error& e) {
      CHECK(e.category() == eda::ErrorCategory::conflict);
      CHECK(dynamic_cast<const ConcurrencyConflict*>(&e) != nullptr);
    }
  }
  SECTION("a corrupt stored event is a wire fault, like a malformed message") {
    SqliteKind kind;
    const std::unique_ptr<EventStore> store = kind.open();
    store->append("order-1", ExpectedVersion::no_stream(), std::vector{item_added(1, "a")});
    kind.corrupt(1);
    try {
      (void)store->read_all(1, 10);
      FAIL("read a corrupt event");
    } catch (const eda::Error& e) {
      CHECK(e.category() == eda::ErrorCategory::wire);
      CHECK(dynamic_cast<const CorruptEvent*>(&e) != nullptr);
    }
  }
  SECTION("a file that is not an event store is a storage error naming it") {
    TempDatabase file;
    {
      std::ofstream out(file.path());
      out << "this is not a database, only text long enough to be read as a header .........";
    }
    try {
      SqliteEventStore store(SqliteStoreOptions{.path = file.path()});
      FAIL("opened a text file as a store");
    } catch (const eda::Error& e) {
      CHECK(e.category() == eda::ErrorCategory::storage);
      CHECK(std::string(e.what()).find(file.path()) != std::string::npos);
    }
  }
  SECTION("a rejected command is an application fault, not a wire fault") {
    const CommandRejected rejected("the order is already shipped");
    CHECK(rejected.category() == eda::ErrorCategory::application);
    CHECK(rejected.category() != eda::ErrorCategory::wire);
  }
}
