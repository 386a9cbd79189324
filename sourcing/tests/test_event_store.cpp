// The event store contract, run unchanged against every store: versions and positions,
// optimistic concurrency, idempotent retries, reads, bad input. Then what only SQLite adds:
// durability across reopening, several connections, corrupt rows.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <thread>

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include "eda/sourcing/memory_store.hpp"
#include "eda/sourcing/sqlite_store.hpp"
#include "store_fixture.hpp"

using namespace eda::sourcing;
using eda::sourcing::test::TempDatabase;

namespace {

struct ItemAdded {
  static constexpr std::string_view event_type = "shop.order.item-added";
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t order_id = 0;
  std::string item;
  MSGPACK_DEFINE(order_id, item)
};

EventData item_added(std::uint64_t order, std::string item) {
  return EventData::of(eda::make_metadata<ItemAdded>("order-service"), ItemAdded{order, std::move(item)});
}

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

std::vector<std::string> items_of(const std::vector<RecordedEvent>& events) {
  std::vector<std::string> items;
  for (const auto& recorded : events) items.push_back(recorded.event.payload_as<ItemAdded>().item);
  return items;
}

}  // namespace

TEMPLATE_TEST_CASE("appends number events by stream version and store position", "[store]",
                   MemoryKind, SqliteKind) {
  TestType kind;
  const std::unique_ptr<EventStore> store = kind.open();
  const std::vector<EventData> first{item_added(42, "widget"), item_added(42, "gadget")};
  const AppendResult a = store->append("order-42", ExpectedVersion::no_stream(), first);
  CHECK(a.first_version == 1);
  CHECK(a.last_version == 2);
  CHECK(a.first_position == 1);
  CHECK(a.last_position == 2);
  CHECK_FALSE(a.already_stored);
  const std::vector<EventData> other{item_added(7, "gizmo")};
  const AppendResult b = store->append("order-7", ExpectedVersion::no_stream(), other);
  CHECK(b.first_version == 1);
  CHECK(b.first_position == 3);
  const std::vector<EventData> more{item_added(42, "doohickey")};
  const AppendResult c = store->append("order-42", ExpectedVersion::exactly(2), more);
  CHECK(c.first_version == 3);
  CHECK(c.first_position == 4);

  CHECK(store->stream_version("order-42") == 3);
  CHECK(store->stream_version("order-7") == 1);
  CHECK(store->stream_version("order-99") == 0);
  CHECK(store->last_position() == 4);

  const auto forward = store->read_stream("order-42", 1, 100, Direction::forward);
  CHECK(items_of(forward) == std::vector<std::string>{"widget", "gadget", "doohickey"});
  CHECK(forward[2].version == 3);
  CHECK(forward[2].position == 4);
  CHECK(forward[0].event.meta().event_id == first[0].event_id);
  CHECK(items_of(store->read_stream("order-42", 2, 1, Direction::forward)) ==
        std::vector<std::string>{"gadget"});
  CHECK(items_of(store->read_stream("order-42", 0, 100, Direction::backward)) ==
        std::vector<std::string>{"doohickey", "gadget", "widget"});
  CHECK(items_of(store->read_stream("order-42", 2, 100, Direction::backward)) ==
        std::vector<std::string>{"gadget", "widget"});
  CHECK(store->read_stream("order-99", 1, 100, Direction::forward).empty());

  const auto all = store->read_all(1, 100);
  REQUIRE(all.size() == 4);
  CHECK(all[2].stream == "order-7");
  CHECK(items_of(store->read_all(3, 2)) == std::vector<std::string>{"gizmo", "doohickey"});
  CHECK(store->read_all(5, 10).empty());
}

TEMPLATE_TEST_CASE("a stale expected version is a conflict naming the actual version, and "
                   "stores nothing", "[store]", MemoryKind, SqliteKind) {
  TestType kind;
  const std::unique_ptr<EventStore> store = kind.open();
  const std::vector<EventData> three{item_added(1, "a"), item_added(1, "b"), item_added(1, "c")};
  store->append("order-1", ExpectedVersion::no_stream(), three);

  const std::vector<EventData> late{item_added(1, "late")};
  try {
    store->append("order-1", ExpectedVersion::exactly(2), late);
    FAIL("no conflict");
  } catch (const ConcurrencyConflict& conflict) {
    CHECK(conflict.stream() == "order-1");
    CHECK(conflict.actual_version() == 3);
    CHECK_THAT(conflict.what(), Catch::Contains("expected version 2") &&
                                    Catch::Contains("at version 3"));
  }
  CHECK_THROWS_AS(store->append("order-1", ExpectedVersion::no_stream(), late),
                  ConcurrencyConflict);
  CHECK_THROWS_AS(store->append("order-2", ExpectedVersion::exactly(1), late),
                  ConcurrencyConflict);
  CHECK(store->stream_version("order-1") == 3);
  CHECK(store->stream_version("order-2") == 0);
  CHECK(store->last_position() == 3);
  // And the same events go in once the writer has caught up.
  CHECK(store->append("order-1", ExpectedVersion::exactly(3), late).last_version == 4);
  CHECK(store->append("order-1", ExpectedVersion::any(), std::vector{item_added(1, "x")})
            .last_version == 5);
}

TEMPLATE_TEST_CASE("a retried append stores nothing twice and returns the original numbers",
                   "[store]", MemoryKind, SqliteKind) {
  TestType kind;
  const std::unique_ptr<EventStore> store = kind.open();
  const std::vector<EventData> batch{item_added(5, "a"), item_added(5, "b")};
  const AppendResult first = store->append("order-5", ExpectedVersion::no_stream(), batch);
  store->append("order-5", ExpectedVersion::exactly(2), std::vector{item_added(5, "c")});

  // The acknowledgement was lost; the writer sends the same events with the same expectation.
  const AppendResult retry = store->append("order-5", ExpectedVersion::no_stream(), batch);
  CHECK(retry.already_stored);
  CHECK(retry.first_version == first.first_version);
  CHECK(retry.last_version == first.last_version);
  CHECK(retry.first_position == first.first_position);
  CHECK(retry.last_position == first.last_position);
  CHECK(store->stream_version("order-5") == 3);
  CHECK(store->last_position() == 3);

  // Only some of them, or the same ids for another stream: not a retry, an error.
  CHECK_THROWS_AS(store->append("order-5", ExpectedVersion::any(),
                                std::vector{batch[1], item_added(5, "new")}),
                  std::invalid_argument);
  CHECK_THROWS_AS(store->append("order-6", ExpectedVersion::any(), batch), std::invalid_argument);
  CHECK(store->last_position() == 3);
}

TEMPLATE_TEST_CASE("bad appends are refused at the boundary with a reason", "[store]",
                   MemoryKind, SqliteKind) {
  TestType kind;
  const std::unique_ptr<EventStore> store = kind.open();
  const std::vector<EventData> one{item_added(1, "a")};
  CHECK_THROWS_AS(store->append("", ExpectedVersion::any(), one), std::invalid_argument);
  CHECK_THROWS_AS(store->append("order-1", ExpectedVersion::any(), std::vector<EventData>{}),
                  std::invalid_argument);
  CHECK_THROWS_AS(store->append("order-1", ExpectedVersion::any(), std::vector{one[0], one[0]}),
                  std::invalid_argument);
  EventData garbage = one[0];
  garbage.envelope = "\xc1 not an envelope";
  CHECK_THROWS_WITH(store->append("order-1", ExpectedVersion::any(), std::vector{garbage}),
                    Catch::Contains("not a valid envelope"));
  EventData mislabelled = one[0];
  mislabelled.type = "shop.order.paid";
  CHECK_THROWS_AS(store->append("order-1", ExpectedVersion::any(), std::vector{mislabelled}),
                  std::invalid_argument);
  CHECK_THROWS_AS(ExpectedVersion::exactly(0), std::invalid_argument);
  CHECK(store->last_position() == 0);
}

TEMPLATE_TEST_CASE("writers racing on one stream: versions 1..K with no hole or duplicate, "
                   "losers get conflicts, nothing is lost", "[store]", MemoryKind, SqliteKind) {
  TestType kind;
  const std::unique_ptr<EventStore> store = kind.open();
  constexpr int writers = 4;
  constexpr int appends_each = 25;
  std::atomic<int> conflicts{0};
  {
    std::vector<std::jthread> threads;
    for (int w = 0; w < writers; ++w) {
      threads.emplace_back([&, w] {
        for (int n = 0; n < appends_each; ++n) {
          const std::vector<EventData> event{item_added(1, std::to_string(w) + "/" + std::to_string(n))};
          for (int attempt = 0; attempt < 10'000; ++attempt) {  // bounded
            const std::uint64_t seen = store->stream_version("order-1");
            const ExpectedVersion expected =
                seen == 0 ? ExpectedVersion::no_stream() : ExpectedVersion::exactly(seen);
            try {
              store->append("order-1", expected, event);
              break;
            } catch (const ConcurrencyConflict&) {
              ++conflicts;  // someone else won: look again and retry
            }
          }
        }
      });
    }
  }
  const auto events = store->read_stream("order-1", 1, 1000, Direction::forward);
  REQUIRE(events.size() == writers * appends_each);
  std::set<std::string> items;
  for (std::size_t i = 0; i < events.size(); ++i) {
    CHECK(events[i].version == i + 1);
    items.insert(events[i].event.payload_as<ItemAdded>().item);
  }
  CHECK(items.size() == writers * appends_each);  // every append, exactly once
  INFO("conflicts: " << conflicts.load());
}

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

TEMPLATE_TEST_CASE("a group of appends succeeds and fails append by append", "[store]",
                   MemoryKind, SqliteKind) {
  TestType kind;
  const std::unique_ptr<EventStore> store = kind.open();
  const std::vector<EventData> earlier{item_added(3, "earlier")};
  store->append("order-3", ExpectedVersion::no_stream(), earlier);

  std::vector<AppendRequest> group;
  group.push_back({"order-1", ExpectedVersion::no_stream(), {item_added(1, "a")}});
  group.push_back({"order-3", ExpectedVersion::no_stream(), {item_added(3, "conflict")}});
  group.push_back({"", ExpectedVersion::any(), {item_added(4, "no stream name")}});
  group.push_back({"order-3", ExpectedVersion::no_stream(), earlier});  // a retry
  group.push_back({"order-1", ExpectedVersion::exactly(1), {item_added(1, "b")}});  // sees the 1st
  const auto outcomes = store->append_all(group);
  REQUIRE(outcomes.size() == 5);
  REQUIRE(outcomes[0].result);
  CHECK(outcomes[0].result->last_version == 1);
  CHECK_THROWS_AS(std::rethrow_exception(outcomes[1].error), ConcurrencyConflict);
  CHECK_FALSE(outcomes[1].result);
  CHECK_THROWS_AS(std::rethrow_exception(outcomes[2].error), std::invalid_argument);
  REQUIRE(outcomes[3].result);
  CHECK(outcomes[3].result->already_stored);
  REQUIRE(outcomes[4].result);
  CHECK(outcomes[4].result->last_version == 2);
  CHECK(items_of(store->read_stream("order-1", 1, 10, Direction::forward)) ==
        std::vector<std::string>{"a", "b"});
  CHECK(items_of(store->read_stream("order-3", 1, 10, Direction::forward)) ==
        std::vector<std::string>{"earlier"});
  CHECK(store->last_position() == 3);
}
