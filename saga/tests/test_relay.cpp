// The outbox relay: in position order, bounded batches, records its progress after sending,
// restarts after the last row recorded (sending again, and counting, what an earlier relay sent
// unrecorded; everything when its progress file is gone), stops at a bad row instead of skipping
// it, refuses a database or a progress file it cannot trust, wakes on a doorbell and finds rows
// nobody rang for by its fallback poll.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <stop_token>
#include <thread>

#include <catch2/catch.hpp>

#include "eda/saga/inventory.hpp"
#include "eda/saga/outbox_relay.hpp"
#include "eda/saga/relay_progress.hpp"
#include "eda_test_support.hpp"
#include "saga_test_support.hpp"

using namespace eda::saga;
using namespace std::chrono_literals;

namespace {

/// A publisher and a subscriber of everything it sends, handshake done, duplicates delivered
/// (so that the consumer, not the kit, is what removes them).
struct Wire {
  zmq::context_t context;
  eda::Publisher publisher{context, {.source = "inventory", .endpoints = {"tcp://127.0.0.1:*"}}};
  eda::Subscriber inbox{context, {.endpoints = publisher.endpoints(), .drop_duplicates = false}};
  Wire() { REQUIRE(eda::test::handshake(publisher, inbox)); }

  /// The sequences of the events received until none comes for a short while.
  std::vector<std::uint64_t> received(std::size_t at_least) {
    std::vector<std::uint64_t> sequences;
    const eda::Deadline deadline(10s);
    while (!deadline.expired()) {
      auto delivery = inbox.receive(sequences.size() < at_least ? 100ms : 50ms);
      if (delivery) {
        sequences.push_back(delivery->event.sequence());
      } else if (sequences.size() >= at_least) {
        break;
      }
    }
    return sequences;
  }
};

std::vector<std::uint64_t> one_to(std::uint64_t n) {
  std::vector<std::uint64_t> all;
  for (std::uint64_t i = 1; i <= n; ++i) all.push_back(i);
  return all;
}

void reserve_orders(Inventory& inventory, std::uint64_t first, std::uint64_t count) {
  for (std::uint64_t order = first; order < first + count; ++order) {
    (void)inventory.reserve(order, "SKU-1", 1);
  }
}

/// An inventory that has reserved orders 1 to 3, a wire, and a consumer of what comes over it.
struct ThreeOrdersAndAConsumer {
  eda::test::TempDatabase file;
  eda::test::TempDatabase consumer_file;
  Inventory inventory{file.path()};
  Wire wire;
  test::ReservationLog log{consumer_file.path()};
  ThreeOrdersAndAConsumer() {
    inventory.stock_up("SKU-1", 10);
    reserve_orders(inventory, 1, 3);
  }
};

/// Drains a restarted `relay` that sends orders 1 to `orders`, the first `again` of them for the
/// second time, and checks that the consumer applied each once.
void check_sent_again_and_applied_once(OutboxRelay& relay, test::ReservationLog& log,
                                       eda::Subscriber& inbox, std::uint64_t again,
                                       std::uint64_t orders) {
  REQUIRE(relay.drain(10s));
  CHECK(relay.counters().published == orders);
  CHECK(relay.counters().published_through == orders);
  const eda::Deadline deadline(10s);
  while (log.deliveries < orders + again && !deadline.expired()) (void)log.pump(inbox, 100ms);
  CHECK(log.deliveries == orders + again);
  CHECK(log.consumer().counters().duplicates == again);
  CHECK(log.applied_orders() == one_to(orders));
}

}  // namespace

TEST_CASE("the relay publishes the outbox in position order and marks what it sent",
          "[saga][relay]") {
  eda::test::TempDatabase file;
  Inventory inventory(file.path());
  inventory.stock_up("SKU-1", 3);
  reserve_orders(inventory, 1, 5);  // three reserved, two rejected
  Wire wire;
  OutboxRelay relay(wire.context, file.path(), wire.publisher);
  REQUIRE(relay.drain(10s));

  CHECK(wire.received(5) == one_to(5));
  const RelayCounters counters = relay.counters();
  CHECK(counters.published_through == 5);
  CHECK(RelayProgress(relay_progress_path(file.path())).published_through() == 5);
  CHECK(counters.published == 5);
  CHECK(counters.marked == 5);
  CHECK(counters.republished == 0);
  CHECK(counters.next_position == 6);
  CHECK(counters.max_lag_ns >= counters.last_lag_ns);
  CHECK(counters.last_lag_ns >= 0);
}

TEST_CASE("the relay sends bounded batches", "[saga][relay]") {
  eda::test::TempDatabase file;
  Inventory inventory(file.path());
  inventory.stock_up("SKU-1", 10);
  reserve_orders(inventory, 1, 5);
  Wire wire;
  OutboxRelay relay(wire.context, file.path(), wire.publisher, {.batch_size = 2});
  CHECK(relay.relay_batch() == 2);
  CHECK(relay.relay_batch() == 2);
  CHECK(relay.relay_batch() == 1);
  CHECK(relay.relay_batch() == 0);
  CHECK(relay.counters().batches == 3);
  CHECK(wire.received(5) == one_to(5));
  CHECK_THROWS_AS(OutboxRelay(wire.context, file.path(), wire.publisher, {.batch_size = 0}),
                  std::invalid_argument);
}

TEST_CASE("a restarted relay goes on after the last row marked published", "[saga][relay]") {
  eda::test::TempDatabase file;
  Inventory inventory(file.path());
  inventory.stock_up("SKU-1", 10);
  reserve_orders(inventory, 1, 3);
  Wire wire;
  {
    OutboxRelay first(wire.context, file.path(), wire.publisher);
    REQUIRE(first.drain(10s));
  }
  CHECK(wire.received(3) == one_to(3));
  reserve_orders(inventory, 4, 2);
  OutboxRelay second(wire.context, file.path(), wire.publisher);
  CHECK(second.counters().next_position == 4);
  REQUIRE(second.drain(10s));
  CHECK(wire.received(2) == std::vector<std::uint64_t>{4, 5});
  CHECK(second.counters().published == 2);
  CHECK(second.counters().republished == 0);
}

TEST_CASE(
    "rows sent but not marked when the relay stopped are sent again, counted, and applied "
    "once",
    "[saga][relay]") {
  ThreeOrdersAndAConsumer shop;
  auto& [file, consumer_file, inventory, wire, log] = shop;
  {
    // It stops before its batch has settled: sent, never marked (as a crash would leave it).
    OutboxRelay first(wire.context, file.path(), wire.publisher, {.settle = 1h});
    CHECK(first.relay_batch() == 3);
    CHECK(first.relay_batch() == 0);
    CHECK(first.counters().marked == 0);
  }
  const RelayProgress left(relay_progress_path(file.path()));
  CHECK(left.sent_through() == 3);
  CHECK(left.published_through() == 0);
  reserve_orders(inventory, 4, 1);
  OutboxRelay second(wire.context, file.path(), wire.publisher);
  check_sent_again_and_applied_once(second, log, wire.inbox, 3, 4);
  CHECK(second.counters().republished == 3);  // 1..3 again, 4 for the first time
}

TEST_CASE("a row the relay cannot send stops it there, reported, and nothing after it overtakes",
          "[saga][relay]") {
  eda::test::TempDatabase file;
  Inventory inventory(file.path());
  inventory.stock_up("SKU-1", 10);
  reserve_orders(inventory, 1, 3);
  std::string good_envelope;
  {
    eda::sqlite::Database db(file.path(), eda::sqlite::Durability::full, "test");
    eda::sqlite::Statement read(db.handle(), "SELECT envelope FROM outbox WHERE position = 2");
    REQUIRE(read.step());
    good_envelope = std::string(read.blob(0));
    read.done();
    std::string bad = GENERATE(as<std::string>{}, "\xc1 not MessagePack", "");
    if (bad.empty()) {
      // Well-formed, but another row's envelope: an event the row does not describe.
      eda::sqlite::Statement other(db.handle(), "SELECT envelope FROM outbox WHERE position = 3");
      REQUIRE(other.step());
      bad = std::string(other.blob(0));
      other.done();
    }
    eda::sqlite::Statement spoil(db.handle(), "UPDATE outbox SET envelope = ? WHERE position = 2");
    spoil.bind(eda::sqlite::Statement::as_blob(bad));
    spoil.run();
  }
  Wire wire;
  OutboxRelay relay(wire.context, file.path(), wire.publisher);
  try {
    (void)relay.relay_batch();
    FAIL("a bad row was not reported");
  } catch (const OutboxRowError& e) {
    CHECK(e.position() == 2);
    CHECK(e.category() == eda::ErrorCategory::wire);
    CHECK_THAT(e.what(), Catch::Contains("outbox row 2"));
  }
  REQUIRE(relay.stalled().has_value());
  CHECK_THAT(*relay.stalled(), Catch::Contains("outbox row 2"));
  CHECK_THROWS_AS(relay.relay_batch(), OutboxRowError);  // tried again, not skipped
  CHECK(relay.counters().errors == 2);
  CHECK(wire.received(1) == std::vector<std::uint64_t>{1});  // row 3 did not overtake

  // Repaired, the relay goes on where it stopped.
  {
    eda::sqlite::Database db(file.path(), eda::sqlite::Durability::full, "test");
    eda::sqlite::Statement repair(db.handle(), "UPDATE outbox SET envelope = ? WHERE position = 2");
    repair.bind(eda::sqlite::Statement::as_blob(good_envelope));
    repair.run();
  }
  REQUIRE(relay.drain(10s));
  CHECK_FALSE(relay.stalled().has_value());
  CHECK(wire.received(2) == std::vector<std::uint64_t>{2, 3});
}

TEST_CASE("the relay refuses a database it cannot read, saying which and why", "[saga][relay]") {
  eda::test::TempDatabase file;
  zmq::context_t context;
  eda::Publisher publisher(context,
                           {.source = "inventory", .endpoints = {"inproc://relay-errors"}});
  SECTION("no such file") {
    try {
      OutboxRelay relay(context, file.path(), publisher);
      FAIL("no error");
    } catch (const eda::StorageError& e) {
      CHECK_THAT(e.what(), Catch::Contains(file.path()) && Catch::Contains("no such database"));
    }
    CHECK_FALSE(std::filesystem::exists(file.path()));  // and it made none
  }
  SECTION("not a SQLite database") {
    std::ofstream(file.path()) << std::string(4096, 'x');
    try {
      OutboxRelay relay(context, file.path(), publisher);
      FAIL("no error");
    } catch (const eda::StorageError& e) {
      CHECK_THAT(e.what(), Catch::Contains(file.path()));
    }
  }
  SECTION("a database without an outbox") {
    { eda::sqlite::Database db(file.path(), eda::sqlite::Durability::full, "test"); }
    try {
      OutboxRelay relay(context, file.path(), publisher);
      FAIL("no error");
    } catch (const eda::StorageError& e) {
      CHECK_THAT(e.what(), Catch::Contains(file.path()) && Catch::Contains("no outbox table"));
    }
  }
}

TEST_CASE("a writer's doorbell wakes the running relay", "[saga][relay]") {
  eda::test::TempDatabase file;
  eda::test::TempDatabase consumer_file;
  Inventory setup(file.path());
  setup.stock_up("SKU-1", 10);
  Wire wire;
  // The fallback poll is an hour away: only the doorbell can make it send within the test.
  OutboxRelay relay(wire.context, file.path(), wire.publisher, {.fallback_poll = 1h});
  std::jthread relaying([&](const std::stop_token& stop) { relay.run(stop); });
  OutboxDoorbell doorbell(wire.context, relay.doorbell_endpoint());
  Inventory inventory(file.path(), {.committed = [&](const Reservation&) { doorbell.ring(); }});
  test::ReservationLog log(consumer_file.path());
  // Nothing was sent before, so no settle timer runs either: only the doorbell can wake it.
  (void)inventory.reserve(1, "SKU-1", 1);
  REQUIRE(log.pump_until_applied(wire.inbox, 1, 10s));
  CHECK(relay.counters().doorbells == 1);
  CHECK(relay.counters().found_by_poll == 0);
  for (std::uint64_t order = 2; order <= 3; ++order) {
    (void)inventory.reserve(order, "SKU-1", 1);
    REQUIRE(log.pump_until_applied(wire.inbox, order, 10s));
  }
  relaying.request_stop();
  relaying.join();  // the stop rings too: no hour-long wait
  CHECK(log.applied_orders() == std::vector<std::uint64_t>{1, 2, 3});
}

TEST_CASE("the fallback poll finds rows whose writer never rang", "[saga][relay]") {
  eda::test::TempDatabase file;
  eda::test::TempDatabase consumer_file;
  Inventory inventory(file.path());  // no doorbell: like a writer that died before ringing
  inventory.stock_up("SKU-1", 10);
  (void)inventory.reserve(1, "SKU-1", 1);  // before the relay starts
  Wire wire;
  OutboxRelay relay(wire.context, file.path(), wire.publisher, {.fallback_poll = 20ms});
  std::jthread relaying([&](const std::stop_token& stop) { relay.run(stop); });
  test::ReservationLog log(consumer_file.path());
  REQUIRE(log.pump_until_applied(wire.inbox, 1, 10s));
  (void)inventory.reserve(2, "SKU-1", 1);  // while it runs
  REQUIRE(log.pump_until_applied(wire.inbox, 2, 10s));
  relaying.request_stop();
  relaying.join();
  CHECK(log.applied_orders() == std::vector<std::uint64_t>{1, 2});
  CHECK(relay.counters().found_by_poll == 2);
  CHECK(relay.counters().doorbells == 0);
}

TEST_CASE("a running relay waits at a bad row and goes on once it is repaired", "[saga][relay]") {
  eda::test::TempDatabase file;
  eda::test::TempDatabase consumer_file;
  Inventory inventory(file.path());
  inventory.stock_up("SKU-1", 10);
  reserve_orders(inventory, 1, 2);
  eda::sqlite::Database db(file.path(), eda::sqlite::Durability::full, "test");
  std::string good_envelope;
  {
    eda::sqlite::Statement read(db.handle(), "SELECT envelope FROM outbox WHERE position = 1");
    REQUIRE(read.step());
    good_envelope = std::string(read.blob(0));
    read.done();
    eda::sqlite::Statement spoil(db.handle(),
                                 "UPDATE outbox SET envelope = x'c1' WHERE position = 1");
    spoil.run();
  }
  Wire wire;
  OutboxRelay relay(wire.context, file.path(), wire.publisher,
                    {.fallback_poll = std::chrono::milliseconds(20)});
  CHECK_THROWS_AS(relay.relay_batch(), OutboxRowError);  // stalled before run() starts
  REQUIRE(relay.stalled().has_value());
  test::ReservationLog log(consumer_file.path());
  std::jthread relaying([&](const std::stop_token& stop) { relay.run(stop); });
  CHECK_FALSE(log.pump(wire.inbox, 100ms));  // nothing passes the bad row
  {
    eda::sqlite::Statement repair(db.handle(), "UPDATE outbox SET envelope = ? WHERE position = 1");
    repair.bind(eda::sqlite::Statement::as_blob(good_envelope));
    repair.run();
  }
  REQUIRE(log.pump_until_applied(wire.inbox, 2, 10s));
  relaying.request_stop();
  relaying.join();
  CHECK(log.applied_orders() == std::vector<std::uint64_t>{1, 2});
  CHECK_FALSE(relay.stalled().has_value());
  CHECK(relay.counters().errors >= 1);
}

TEST_CASE("a relay whose progress file is gone starts again at the first row, applied once",
          "[saga][relay]") {
  ThreeOrdersAndAConsumer shop;
  auto& [file, consumer_file, inventory, wire, log] = shop;
  {
    OutboxRelay first(wire.context, file.path(), wire.publisher);
    REQUIRE(first.drain(10s));
  }
  // Gone (deleted by an operator, or never there: a new relay): nothing says what was sent,
  // so everything is sent again, and the consumer's deduplication keeps it to once.
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(relay_progress_path(file.path()) + suffix);
  }
  reserve_orders(inventory, 4, 1);
  OutboxRelay second(wire.context, file.path(), wire.publisher);
  CHECK(second.counters().next_position == 1);
  check_sent_again_and_applied_once(second, log, wire.inbox, 3, 4);
}

TEST_CASE("a relay refuses a progress file it cannot trust, saying which and how to start again",
          "[saga][relay]") {
  eda::test::TempDatabase file;
  Inventory inventory(file.path());
  inventory.stock_up("SKU-1", 10);
  reserve_orders(inventory, 1, 2);
  const std::string progress = relay_progress_path(file.path());
  SECTION("not a SQLite file") { std::ofstream(progress) << std::string(4096, 'x'); }
  SECTION("published past what it sent") {
    eda::sqlite::Database db(progress, eda::sqlite::Durability::full, "test");
    db.exec(
        "CREATE TABLE relay_progress (id INTEGER PRIMARY KEY, sent_through INTEGER NOT NULL,"
        " published_through INTEGER NOT NULL); INSERT INTO relay_progress VALUES (1, 1, 2)");
  }
  SECTION("the progress of another outbox: more rows than this one holds") {
    RelayProgress other(progress);
    other.record(9, 9);
  }
  zmq::context_t context;
  eda::Publisher publisher(context,
                           {.source = "inventory", .endpoints = {"inproc://relay-progress"}});
  try {
    OutboxRelay relay(context, file.path(), publisher);
    FAIL("no error");
  } catch (const eda::StorageError& e) {
    CHECK_THAT(e.what(), Catch::Contains(progress) && Catch::Contains("Delete"));
  }
  // Deleted, as the error says: the relay starts again at the first row.
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(progress + suffix);
  }
  OutboxRelay relay(context, file.path(), publisher);
  CHECK(relay.counters().next_position == 1);
}
