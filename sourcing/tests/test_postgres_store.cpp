// The event store contract (store_contract.inc) over the PostgreSQL store, each test on a new
// empty database. Then what only a server adds: several connections and processes racing on
// one stream, readers following the store while appends commit, reopening, bad servers,
// lost connections. Needs EDA_TEST_POSTGRES (with_postgres.sh sets it).
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "eda/sourcing/open_store.hpp"
#include "eda/sourcing/postgres_store.hpp"
#include "postgres_fixture.hpp"

using namespace eda::sourcing;
using eda::sourcing::test::RawPostgres;
using eda::sourcing::test::TempPostgresDatabase;

namespace {

/// The PostgreSQL store, on a database of its own (dropped after the test).
struct PostgresKind {
  static constexpr const char* name = "PostgreSQL";
  TempPostgresDatabase database;
  std::unique_ptr<EventStore> open() {
    return std::make_unique<PostgresEventStore>(
        PostgresStoreOptions{.connection = database.connection()});
  }
  /// Spoils the envelope stored at `position`, through a connection of its own.
  void corrupt(std::uint64_t position) {
    RawPostgres(database.connection())
        .exec("UPDATE events SET envelope = '\\xc1c1c1'::bytea WHERE position = " +
              std::to_string(position));
  }
};

}  // namespace

#define EDA_STORE_KINDS PostgresKind
#include "store_contract.inc"

namespace {

/// Appends `event` to `stream` at whatever version the stream is, retrying on conflicts;
/// returns the number of conflicts met, or -1 when it gave up.
int append_when_current(EventStore& store, const std::string& stream, const EventData& event) {
  int conflicts = 0;
  for (int attempt = 0; attempt < 10000; ++attempt) {  // bounded
    const std::uint64_t seen = store.stream_version(stream);
    const ExpectedVersion expected =
        seen == 0 ? ExpectedVersion::no_stream() : ExpectedVersion::exactly(seen);
    try {
      store.append(stream, expected, std::vector{event});
      return conflicts;
    } catch (const ConcurrencyConflict& conflict) {
      if (conflict.actual_version() <= seen) return -1;  // a conflict must name a newer version
      ++conflicts;
    }
  }
  return -1;
}

/// Versions 1..count, every item once, positions 1..count: nothing lost, doubled or skipped.
void check_one_stream_of(EventStore& store, const std::string& stream, std::size_t count) {
  const auto events = store.read_stream(stream, 1, count + 10, Direction::forward);
  REQUIRE(events.size() == count);
  std::set<std::string> items;
  std::set<std::uint64_t> positions;
  for (std::size_t i = 0; i < events.size(); ++i) {
    CHECK(events[i].version == i + 1);
    items.insert(item_of(events[i]));
    positions.insert(events[i].position);
  }
  CHECK(items.size() == count);
  CHECK(positions.size() == count);
  CHECK(*positions.begin() == 1);
  CHECK(*positions.rbegin() == count);
  CHECK(store.last_position() == count);
}

}  // namespace

TEST_CASE(
    "two connections: each sees the other's commits, and the loser of a race gets a "
    "conflict naming the winner's version",
    "[postgres]") {
  TempPostgresDatabase database;
  PostgresEventStore a({.connection = database.connection()});
  PostgresEventStore b({.connection = database.connection()});
  a.append("order-1", ExpectedVersion::no_stream(), std::vector{item_added(1, "from a")});
  CHECK(b.stream_version("order-1") == 1);
  try {
    b.append("order-1", ExpectedVersion::no_stream(), std::vector{item_added(1, "b")});
    FAIL("no conflict");
  } catch (const ConcurrencyConflict& conflict) {
    CHECK(conflict.actual_version() == 1);
  }
  b.append("order-1", ExpectedVersion::exactly(1), std::vector{item_added(1, "from b")});
  CHECK(items_of(a.read_stream("order-1", 1, 10, Direction::forward)) ==
        std::vector<std::string>{"from a", "from b"});
  CHECK(a.last_position() == 2);
}

TEST_CASE(
    "writers on separate connections racing on one stream: versions 1..K with no hole "
    "or duplicate, losers get conflicts",
    "[postgres]") {
  TempPostgresDatabase database;
  constexpr int writers = 4;
  constexpr int appends_each = 25;
  std::atomic<int> conflicts{0};
  std::atomic<int> failures{0};
  {
    std::vector<std::unique_ptr<PostgresEventStore>> stores;
    for (int w = 0; w < writers; ++w) {
      stores.push_back(std::make_unique<PostgresEventStore>(
          PostgresStoreOptions{.connection = database.connection()}));
    }
    std::vector<std::jthread> threads;
    for (int w = 0; w < writers; ++w) {
      threads.emplace_back([&, w] {
        for (int n = 0; n < appends_each; ++n) {
          try {
            const int met =
                append_when_current(*stores[static_cast<std::size_t>(w)], "order-1",
                                    item_added(1, std::to_string(w) + "/" + std::to_string(n)));
            if (met < 0)
              ++failures;
            else
              conflicts += met;
          } catch (...) {
            ++failures;
          }
        }
      });
    }
  }
  INFO("conflicts met: " << conflicts.load());
  CHECK(failures == 0);
  PostgresEventStore store({.connection = database.connection()});
  check_one_stream_of(store, "order-1", writers * appends_each);
}

TEST_CASE("writer processes racing on one stream: versions 1..K with no hole or duplicate",
          "[postgres]") {
  TempPostgresDatabase database;
  const std::string connection = database.connection();
  constexpr int processes = 3;
  constexpr int appends_each = 20;
  std::vector<pid_t> children;
  for (int p = 0; p < processes; ++p) {
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      // The child: its own connection, no Catch2 (its results are its exit status).
      int status = 0;
      try {
        PostgresEventStore store({.connection = connection});
        for (int n = 0; n < appends_each && status == 0; ++n) {
          if (append_when_current(store, "order-1",
                                  item_added(1, std::to_string(p) + "/" + std::to_string(n))) < 0) {
            status = 1;
          }
        }
      } catch (...) {
        status = 2;
      }
      _exit(status);
    }
    children.push_back(child);
  }
  for (const pid_t child : children) {
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  PostgresEventStore store({.connection = connection});
  check_one_stream_of(store, "order-1", processes * appends_each);
}

namespace {

/// Waits (up to a generous deadline) until a session of the store waits for a row lock: its
/// insert has met a row that another transaction has not committed yet.
bool store_waits_for_a_lock(RawPostgres& watcher) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (watcher.value("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                      "AND application_name = 'eda-event-store' "
                      "AND wait_event_type = 'Lock'") != "0") {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling a condition
  }
  return false;
}

}  // namespace

TEST_CASE(
    "a version taken behind the store's back (no head lock) still ends as a conflict "
    "naming it, never as a duplicate version",
    "[postgres]") {
  TempPostgresDatabase database;
  PostgresEventStore store({.connection = database.connection()});
  store.append("order-1", ExpectedVersion::no_stream(), std::vector{item_added(1, "first")});
  RawPostgres intruder(database.connection());
  RawPostgres watcher(database.connection());
  const auto intrude = [&](int position, int version) {
    intruder.exec("BEGIN");
    intruder.exec(
        "INSERT INTO events (position, stream, version, event_id, type, envelope) "
        "VALUES (" +
        std::to_string(position) + ", 'order-1', " + std::to_string(version) + ", 'intruder-" +
        std::to_string(version) + "', 'shop.order.item-added', '\\x00'::bytea)");
  };

  // The store checks "exactly 1" (the intruder's version 2 is not committed, so not seen),
  // then its insert of version 2 waits for the intruder's; the intruder commits first.
  intrude(1000, 2);
  std::exception_ptr error;
  {
    std::jthread appender([&] {
      try {
        store.append("order-1", ExpectedVersion::exactly(1), std::vector{item_added(1, "mine")});
      } catch (...) {
        error = std::current_exception();
      }
    });
    CHECK(store_waits_for_a_lock(watcher));
    intruder.exec("COMMIT");
  }
  REQUIRE(error);
  try {
    std::rethrow_exception(error);
  } catch (const ConcurrencyConflict& conflict) {
    CHECK(conflict.actual_version() == 2);
  } catch (const std::exception& other) {
    FAIL("not a conflict: " << other.what());
  }

  // Under "any", the store looks again and appends after the intruder's version.
  intrude(1001, 3);
  std::optional<AppendResult> result;
  {
    std::jthread appender([&] {
      try {
        result = store.append("order-1", ExpectedVersion::any(), std::vector{item_added(1, "any")});
      } catch (...) {
        error = std::current_exception();
      }
    });
    CHECK(store_waits_for_a_lock(watcher));
    intruder.exec("COMMIT");
  }
  REQUIRE(result);
  CHECK(result->first_version == 4);
  CHECK(result->first_position == 2);  // the failed attempts gave their positions back
  CHECK(store.stream_version("order-1") == 4);
  // (The intruder's rows are not envelopes: look at the versions with SQL.)
  CHECK(watcher.value("SELECT string_agg(version::text, ',' ORDER BY version) FROM events "
                      "WHERE stream = 'order-1'") == "1,2,3,4");
}

TEST_CASE(
    "a reader following read_all while appends commit sees every position once, in "
    "order, with no gap (no late commit is ever skipped)",
    "[postgres]") {
  TempPostgresDatabase database;
  constexpr int writers = 4;
  constexpr int appends_each = 60;
  std::size_t total = 0;
  for (int n = 0; n < appends_each; ++n) total += 1 + static_cast<std::size_t>(n % 3);
  total *= writers;

  std::vector<std::uint64_t> seen;   // positions, in the order the reader got them
  std::vector<std::string> seen_at;  // stream@version of each, to spot doubles
  std::atomic<bool> reader_failed{false};
  std::atomic<bool> writers_done{false};
  std::atomic<int> writer_failures{0};
  {
    PostgresEventStore reader_store({.connection = database.connection()});
    std::vector<std::unique_ptr<PostgresEventStore>> stores;
    for (int w = 0; w < writers; ++w) {
      stores.push_back(std::make_unique<PostgresEventStore>(
          PostgresStoreOptions{.connection = database.connection()}));
    }
    // The reader does what a catch-up subscription does: read from one past the last position
    // it got, again and again. It stops once the writers are done and it has read all there
    // is (or at a generous deadline).
    std::jthread reader([&] {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
      std::uint64_t next = 1;
      try {
        while (std::chrono::steady_clock::now() < deadline) {
          const bool last_round = writers_done.load();
          const auto page = reader_store.read_all(next, 50);
          for (const RecordedEvent& event : page) {
            seen.push_back(event.position);
            seen_at.push_back(event.stream + "@" + std::to_string(event.version));
            next = event.position + 1;
          }
          if (page.empty()) {
            if (last_round) break;
            std::this_thread::yield();
          }
        }
      } catch (...) {
        reader_failed = true;
      }
    });
    {
      std::vector<std::jthread> threads;
      for (int w = 0; w < writers; ++w) {
        threads.emplace_back([&, w] {
          EventStore& store = *stores[static_cast<std::size_t>(w)];
          const std::string stream = "order-" + std::to_string(w);
          for (int n = 0; n < appends_each; ++n) {
            std::vector<EventData> batch;
            for (int k = 0; k <= n % 3; ++k) {
              batch.push_back(item_added(static_cast<std::uint64_t>(w),
                                         std::to_string(n) + "." + std::to_string(k)));
            }
            try {
              store.append(stream, ExpectedVersion::any(), batch);
            } catch (...) {
              ++writer_failures;
            }
          }
        });
      }
    }
    writers_done = true;
  }
  CHECK(writer_failures == 0);
  CHECK_FALSE(reader_failed);
  // Every position once, in order: a position that committed after a higher one was read
  // would show here as a gap (the reader had moved past it for good).
  std::size_t skipped = 0;
  std::uint64_t first_gap = 0;
  for (std::size_t i = 0, due = 1; i < seen.size(); ++i, ++due) {
    if (seen[i] != due) {
      if (first_gap == 0) first_gap = due;
      skipped += seen[i] > due ? seen[i] - due : 1;
      due = seen[i];
    }
  }
  INFO("first position skipped: " << first_gap);
  CHECK(skipped == 0);
  CHECK(seen.size() == total);
  CHECK(std::set<std::string>(seen_at.begin(), seen_at.end()).size() == seen.size());
  PostgresEventStore store({.connection = database.connection()});
  CHECK(store.last_position() == total);
  CHECK(store.read_all(1, total + 10).size() == total);  // what the reader missed is there
}

TEST_CASE("the PostgreSQL store keeps what it acknowledged across reopening", "[postgres]") {
  TempPostgresDatabase database;
  std::string first_id;
  {
    PostgresEventStore store({.connection = database.connection()});
    const auto event = item_added(1, "kept");
    first_id = event.event_id;
    store.append("order-1", ExpectedVersion::no_stream(), std::vector{event});
    store.append("order-2", ExpectedVersion::no_stream(), std::vector{item_added(2, "also")});
    store.save_snapshot("order-1", Snapshot{1, 1, "state"});
  }
  PostgresEventStore reopened({.connection = database.connection()});
  const auto events = reopened.read_stream("order-1", 1, 10, Direction::forward);
  REQUIRE(events.size() == 1);
  CHECK(item_of(events[0]) == "kept");
  CHECK(events[0].event.meta().event_id == first_id);
  CHECK(reopened.last_position() == 2);
  CHECK(reopened.load_snapshot("order-1")->state == "state");
  // And it carries on where it was: the next position is 3.
  CHECK(reopened.append("order-1", ExpectedVersion::exactly(1), std::vector{item_added(1, "more")})
            .first_position == 3);
}

TEST_CASE("a postgresql:// store spec opens the PostgreSQL store, and appends and reads there",
          "[postgres][open-store]") {
  TempPostgresDatabase database;
  const std::string spec = database.store_spec();  // postgresql://USER@HOST:PORT/DATABASE
  {
    const std::unique_ptr<EventStore> store = open_event_store(spec);
    REQUIRE(dynamic_cast<PostgresEventStore*>(store.get()) != nullptr);
    store->append("order-7", ExpectedVersion::no_stream(),
                  std::vector{item_added(7, "widget"), item_added(7, "gadget")});
    CHECK(items_of(store->read_stream("order-7", 1, 10, Direction::forward)) ==
          std::vector<std::string>{"widget", "gadget"});
  }
  // The postgres:// spelling reaches the same database.
  const std::unique_ptr<EventStore> again =
      open_event_store("postgres" + spec.substr(std::string("postgresql").size()));
  REQUIRE(dynamic_cast<PostgresEventStore*>(again.get()) != nullptr);
  CHECK(again->last_position() == 2);
  CHECK(items_of(again->read_all(1, 10)) == std::vector<std::string>{"widget", "gadget"});
  CHECK(describe_store_spec(spec) == spec);  // no password to take out here
}

TEST_CASE("connections opening a new database at the same moment all get the one store",
          "[postgres]") {
  TempPostgresDatabase database;
  constexpr int openers = 6;
  std::atomic<int> ready{0};
  std::atomic<int> failures{0};
  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < openers; ++i) {
      threads.emplace_back([&, i] {
        ++ready;
        while (ready.load() < openers) std::this_thread::yield();  // all start together
        try {
          PostgresEventStore store({.connection = database.connection()});
          store.append("order-" + std::to_string(i), ExpectedVersion::no_stream(),
                       std::vector{item_added(1, "first")});
        } catch (...) {
          ++failures;
        }
      });
    }
  }
  CHECK(failures == 0);
  PostgresEventStore store({.connection = database.connection()});
  CHECK(store.last_position() == openers);
  CHECK(store.read_all(1, 100).size() == openers);
}

TEST_CASE(
    "an unreachable server or a bad connection string is a clear error that never "
    "shows the password",
    "[postgres]") {
  try {
    PostgresEventStore store({.connection = "postgresql://shop:s3cret-pw@127.0.0.1:1/orders",
                              .connect_timeout = std::chrono::seconds(5)});
    FAIL("connected to port 1");
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    CHECK_THAT(message, Catch::Contains("127.0.0.1:1/orders") && Catch::Contains("shop") &&
                            Catch::Contains("cannot connect"));
    CHECK_THAT(message, !Catch::Contains("s3cret-pw"));
  }
  try {
    PostgresEventStore store({.connection = "host=127.0.0.1 port=1 password=s3cret-pw",
                              .connect_timeout = std::chrono::seconds(5)});
    FAIL("connected to port 1");
  } catch (const std::runtime_error& e) {
    CHECK_THAT(e.what(), Catch::Contains("127.0.0.1:1") && !Catch::Contains("s3cret-pw"));
  }
  CHECK_THROWS_AS(PostgresEventStore({.connection = "postgresql://shop:s3cret-pw@[::1/orders"}),
                  std::invalid_argument);
  try {
    PostgresEventStore store({.connection = "postgresql://shop:s3cret-pw@[::1/orders"});
  } catch (const std::invalid_argument& e) {
    CHECK_THAT(e.what(), Catch::Contains("connection string") && !Catch::Contains("s3cret-pw"));
  }
  CHECK_THROWS_WITH(PostgresEventStore({.connection = "no-equals-sign here"}),
                    Catch::Contains("connection string"));
}

TEST_CASE("a database holding other tables of the same names is refused with its name",
          "[postgres]") {
  TempPostgresDatabase database;
  RawPostgres(database.connection()).exec("CREATE TABLE events (x integer)");
  CHECK_THROWS_WITH(PostgresEventStore({.connection = database.connection()}),
                    Catch::Contains(database.name()));
}

TEST_CASE("a store whose connection was cut reconnects on the next call", "[postgres]") {
  TempPostgresDatabase database;
  PostgresEventStore store({.connection = database.connection()});
  store.append("order-1", ExpectedVersion::no_stream(), std::vector{item_added(1, "before")});
  RawPostgres(database.connection())
      .exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" +
            database.name() + "' AND pid <> pg_backend_pid()");
  try {
    (void)store.stream_version("order-1");  // the call that finds the connection gone may fail
  } catch (const std::runtime_error&) {
  }
  CHECK(store.stream_version("order-1") == 1);
  CHECK(store.append("order-1", ExpectedVersion::exactly(1), std::vector{item_added(1, "after")})
            .last_position == 2);
}

TEST_CASE("numbers beyond a bigint are no bound, a conflict or a clear error, never clamped",
          "[postgres]") {
  TempPostgresDatabase database;
  PostgresEventStore store({.connection = database.connection()});
  store.append("order-1", ExpectedVersion::no_stream(),
               std::vector{item_added(1, "first"), item_added(1, "second")});
  constexpr std::uint64_t beyond = std::numeric_limits<std::uint64_t>::max();
  // As a bound they mean "no bound": read forward from there, nothing; backward, the newest;
  // as a count, everything.
  CHECK(store.read_stream("order-1", beyond, 10, Direction::forward).empty());
  CHECK(items_of(store.read_stream("order-1", beyond, 1, Direction::backward)) ==
        std::vector<std::string>{"second"});
  CHECK(store.read_stream("order-1", 1, std::numeric_limits<std::size_t>::max(), Direction::forward)
            .size() == 2);
  CHECK(store.read_all(beyond, 10).empty());
  CHECK(store.read_all(1, std::numeric_limits<std::size_t>::max()).size() == 2);
  // A stream is never at such a version: expecting it is a conflict naming the real one.
  try {
    store.append("order-1", ExpectedVersion::exactly(beyond), std::vector{item_added(1, "third")});
    FAIL("appended at an impossible version");
  } catch (const ConcurrencyConflict& e) {
    CHECK(e.actual_version() == 2);
  }
  // A snapshot at a version no bigint holds is refused, not stored at another version.
  CHECK_THROWS_AS(store.save_snapshot("order-1", Snapshot{beyond, 1, "state"}), std::out_of_range);
  CHECK_FALSE(store.load_snapshot("order-1").has_value());
  CHECK(store.last_position() == 2);
}
