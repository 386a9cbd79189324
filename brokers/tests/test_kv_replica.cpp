// Event-carried state transfer on the JetStream KV bucket: a late replica converges, changes
// flow, history is there on request, an optimistic update can conflict, bad values are skipped,
// and a server that is not there is a clear error.
#include <catch2/catch.hpp>

#include <nats/nats.h>

#include <chrono>
#include <stop_token>
#include <thread>

#include "broker_fixtures.hpp"
#include "eda/brokers/kv_replica.hpp"
#include "eda/brokers/loopback.hpp"
#include "eda/codec.hpp"

namespace {

using namespace std::chrono_literals;
using eda::brokers::CustomerBucket;
using eda::brokers::KvReplica;
using eda::state_transfer::Customer;
using eda::state_transfer::CustomerGenerator;
using eda::state_transfer::CustomerTable;

/// A replica following the bucket on a thread of its own.
class Following {
 public:
  explicit Following(eda::brokers::KvReplicaOptions options)
      : replica_(std::move(options)),
        thread_([this](const std::stop_token& stop) { replica_.run(stop, 20ms); }) {}
  KvReplica& operator*() { return replica_; }
  KvReplica* operator->() { return &replica_; }

 private:
  KvReplica replica_;
  std::jthread thread_;  // last: stops before the replica goes
};

/// `count` customers put in `bucket`; returns what the bucket then holds.
CustomerTable put_customers(CustomerBucket& bucket, std::size_t count) {
  CustomerTable table = CustomerGenerator(7).table(count);
  for (const auto& [id, customer] : table) bucket.upsert(customer);
  return table;
}

/// A put of raw bytes under `key`, past CustomerBucket's checks (what a buggy or hostile
/// writer could put).
void put_raw(const std::string& url, const std::string& key, const std::string& bytes) {
  natsConnection* connection = nullptr;
  REQUIRE(natsConnection_ConnectTo(&connection, url.c_str()) == NATS_OK);
  jsCtx* js = nullptr;
  REQUIRE(natsConnection_JetStream(&js, connection, nullptr) == NATS_OK);
  kvStore* kv = nullptr;
  REQUIRE(js_KeyValue(&kv, js, "customers") == NATS_OK);
  CHECK(kvStore_Put(nullptr, kv, key.c_str(), bytes.data(), static_cast<int>(bytes.size())) ==
        NATS_OK);
  kvStore_Destroy(kv);
  jsCtx_Destroy(js);
  natsConnection_Destroy(connection);
}

}  // namespace

TEST_CASE("a KV replica started late converges to the Customer service's records, deletes included",
          "[brokers][kv]") {
  const auto program = eda::brokers::testing::nats_server_or_skip();
  if (!program) return;
  const eda::brokers::JetStreamServer server(*program);
  CustomerBucket bucket(server.url());
  CustomerTable expected = put_customers(bucket, 300);
  CustomerGenerator changes(11);
  for (eda::state_transfer::CustomerId id = 1; id <= 40; ++id) {
    expected[id] = changes.moved(expected[id]);
    bucket.upsert(expected[id]);
  }
  for (eda::state_transfer::CustomerId id = 250; id <= 260; ++id) {
    bucket.remove(id);
    expected.erase(id);
  }

  Following replica({.url = server.url()});
  REQUIRE(replica->await_live(20s));
  CHECK(replica->copy() == expected);
  CHECK(eda::state_transfer::fingerprint(replica->copy()) ==
        eda::state_transfer::fingerprint(expected));
  // The initial values are the latest entry of each key, the delete markers among them.
  CHECK(replica->stats().initial_entries == 300);
  CHECK(replica->stats().removals == 11);
  CHECK(replica->stats().malformed == 0);
  CHECK(replica->revision() == 300 + 40 + 11);
}

TEST_CASE("changes made after a KV replica went live reach it, a delete too", "[brokers][kv]") {
  const auto program = eda::brokers::testing::nats_server_or_skip();
  if (!program) return;
  const eda::brokers::JetStreamServer server(*program);
  CustomerBucket bucket(server.url());
  const CustomerTable first = put_customers(bucket, 20);
  Following replica({.url = server.url()});
  REQUIRE(replica->await_live(20s));

  CustomerGenerator changes(3);
  const Customer moved = changes.moved(first.at(5));
  const std::uint64_t moved_at = bucket.upsert(moved);
  REQUIRE(replica->await_revision(moved_at, 20s));
  CHECK(replica->lookup(5) == moved);

  const Customer newcomer = changes.make(21);
  REQUIRE(replica->await_revision(bucket.upsert(newcomer), 20s));
  CHECK(replica->lookup(21) == newcomer);

  bucket.remove(7);
  // Revisions are applied in order: once a later put is in, so is the delete.
  REQUIRE(replica->await_revision(bucket.upsert(first.at(8)), 20s));
  CHECK_FALSE(replica->lookup(7).has_value());
  CHECK_FALSE(bucket.revision_of(7).has_value());
  CHECK(replica->record_count() == 20);  // 20 + the newcomer - the deleted one
}

TEST_CASE("a KV replica watching with history sees every kept revision and ends at the same state",
          "[brokers][kv]") {
  const auto program = eda::brokers::testing::nats_server_or_skip();
  if (!program) return;
  const eda::brokers::JetStreamServer server(*program);
  CustomerBucket bucket(server.url(), {.history = 3});
  Customer alice = CustomerGenerator(1).make(1);
  CustomerGenerator changes(2);
  for (int move = 0; move < 5; ++move) {  // 5 revisions of customer 1, the bucket keeps 3
    alice = changes.moved(alice);
    bucket.upsert(alice);
  }
  const Customer bob = CustomerGenerator(1).make(2);
  bucket.upsert(bob);

  Following latest({.url = server.url(), .name = "latest"});
  Following history({.url = server.url(), .name = "history", .include_history = true});
  REQUIRE(latest->await_live(20s));
  REQUIRE(history->await_live(20s));
  CHECK(latest->stats().initial_entries == 2);
  CHECK(history->stats().initial_entries == 3 + 1);
  CHECK(history->copy() == latest->copy());
  CHECK(history->lookup(1) == alice);
}

TEST_CASE("an optimistic update of a record changed since it was read is a RevisionConflict",
          "[brokers][kv]") {
  const auto program = eda::brokers::testing::nats_server_or_skip();
  if (!program) return;
  const eda::brokers::JetStreamServer server(*program);
  CustomerBucket bucket(server.url());
  CustomerGenerator changes(5);
  const Customer original = changes.make(1);

  const std::uint64_t created = bucket.update(original, 0);  // 0: only if never written
  const Customer moved = changes.moved(original);
  const std::uint64_t updated = bucket.update(moved, created);
  CHECK(updated > created);

  // A second writer that read revision `created` is too late.
  const Customer retiered = changes.retiered(original);
  try {
    bucket.update(retiered, created);
    FAIL("a stale update was accepted");
  } catch (const eda::brokers::RevisionConflict& conflict) {
    CHECK(conflict.category() == eda::ErrorCategory::conflict);
    CHECK(conflict.key() == "customer.1");
    CHECK(conflict.expected() == created);
  }
  CHECK_THROWS_AS(bucket.update(retiered, 0), eda::brokers::RevisionConflict);  // it exists
  CHECK(bucket.revision_of(1) == updated);  // nothing was written by the refused updates

  Following replica({.url = server.url()});
  REQUIRE(replica->await_live(20s));
  CHECK(replica->lookup(1) == moved);
}

TEST_CASE("a value that is not a record for its key is skipped: the copy keeps the last good one",
          "[brokers][kv]") {
  const auto program = eda::brokers::testing::nats_server_or_skip();
  if (!program) return;
  const eda::brokers::JetStreamServer server(*program);
  CustomerBucket bucket(server.url());
  const CustomerTable good = put_customers(bucket, 3);
  put_raw(server.url(), "customer.1", "not an envelope");
  // A valid CustomerUpdated envelope, but of customer 3, under customer 2's key.
  const auto misfiled =
      eda::make_event<eda::state_transfer::CustomerUpdated>("customer-service", {1, good.at(3)});
  put_raw(server.url(), "customer.2", eda::encode_event(misfiled));
  put_raw(server.url(), "inventory.9", eda::encode_event(misfiled));  // not a customer key

  Following replica({.url = server.url()});
  REQUIRE(replica->await_live(20s));
  CHECK(replica->stats().malformed == 3);
  // Watching only the latest values, it never saw the good ones of 1 and 2: it has none.
  CHECK_FALSE(replica->lookup(1).has_value());
  CHECK_FALSE(replica->lookup(2).has_value());
  CHECK(replica->lookup(3) == good.at(3));

  // A replica that saw the good value first keeps it.
  const Customer fixed = CustomerGenerator(9).moved(good.at(1));
  REQUIRE(replica->await_revision(bucket.upsert(fixed), 20s));
  put_raw(server.url(), "customer.1", "\x91\xc0");
  REQUIRE(replica->await_revision(bucket.upsert(good.at(3)), 20s));
  CHECK(replica->stats().malformed == 4);
  CHECK(replica->lookup(1) == fixed);
}

TEST_CASE("the bucket survives the server's crash: a replica started after the restart converges",
          "[brokers][kv]") {
  const auto program = eda::brokers::testing::nats_server_or_skip();
  if (!program) return;
  eda::brokers::JetStreamServer server(*program);
  CustomerTable expected;
  {
    CustomerBucket bucket(server.url());
    expected = put_customers(bucket, 50);
  }
  server.crash_and_restart();
  Following replica({.url = server.url()});
  REQUIRE(replica->await_live(20s));
  CHECK(replica->copy() == expected);
}

TEST_CASE("no server, or no bucket, at start is a clear BrokerError", "[brokers][kv]") {
  const std::string nowhere =
      "nats://127.0.0.1:" + std::to_string(eda::brokers::free_loopback_port());
  CHECK_THROWS_AS(KvReplica({.url = nowhere}), eda::brokers::BrokerError);
  CHECK_THROWS_WITH(KvReplica({.url = nowhere}),
                    Catch::Matchers::Contains("no NATS server answers at " + nowhere));
  CHECK_THROWS_AS(CustomerBucket(nowhere), eda::brokers::BrokerError);
  CHECK_THROWS_WITH(CustomerBucket(nowhere), Catch::Matchers::Contains(nowhere));

  const auto program = eda::brokers::testing::nats_server_or_skip();
  if (!program) return;
  const eda::brokers::JetStreamServer server(*program);
  CHECK_THROWS_AS(KvReplica({.url = server.url()}), eda::brokers::BrokerError);
  CHECK_THROWS_WITH(KvReplica({.url = server.url()}),
                    Catch::Matchers::Contains("the bucket 'customers' does not exist"));
  CHECK_THROWS_AS(CustomerBucket(server.url(), {.bucket = "no.dots"}), std::invalid_argument);
}

TEST_CASE("a KV replica following through a crash of the server carries on after its restart",
          "[brokers][kv][crash]") {
  const auto program = eda::brokers::testing::nats_server_or_skip();
  if (!program) return;
  eda::brokers::JetStreamServer server(*program);
  CustomerTable expected;
  {
    CustomerBucket bucket(server.url());
    expected = put_customers(bucket, 20);
  }
  Following replica({.url = server.url()});
  REQUIRE(replica->await_live(20s));
  server.crash_and_restart();
  CustomerBucket bucket(server.url());
  const Customer moved = CustomerGenerator(4).moved(expected.at(3));
  const std::uint64_t revision = bucket.upsert(moved);
  expected[3] = moved;
  CHECK(replica->await_revision(revision, 30s));
  CHECK(replica->copy() == expected);
}
