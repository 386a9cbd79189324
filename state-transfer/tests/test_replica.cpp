// The replica (Clone pattern): late joiners converge exactly, lost updates are repaired by a
// snapshot and never applied twice, tombstones remove, a silent or restarted source is
// survived, bad messages are dead-lettered.
#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include <catch2/catch.hpp>

#include "eda/state_transfer/lossy_link.hpp"
#include "eda/state_transfer/snapshot_protocol.hpp"
#include "eda/wire.hpp"
#include "eda_test_support.hpp"
#include "eda/state_transfer/shipping.hpp"
#include "replica_fixture.hpp"

using namespace eda::state_transfer;
using namespace eda::state_transfer::test;

TEST_CASE("a late joiner converges to exactly the source's records while updates stream",
          "[replica]") {
  const auto transport = GENERATE(eda::Transport::inproc, eda::Transport::tcp);
  INFO("transport: " << eda::to_string(transport));
  zmq::context_t context;
  CustomerServiceThread source(context, service_options(transport),
                               CustomerGenerator(1).table(2000));
  RunningReplica early(context, replica_options(source, "early"));

  std::atomic<int> rounds{0};
  std::jthread customers([&] {
    CustomerGenerator generator(7);
    for (int round = 0; round < 60; ++round) {
      source.call([&](CustomerService& service) {
        for (int i = 0; i < 50; ++i) {
          (void)make_random_change(service, generator);
        }
        return 0;
      });
      ++rounds;
    }
  });
  REQUIRE(eventually([&] { return rounds.load() >= 10; }));
  RunningReplica late(context, replica_options(source, "late"));  // joins mid-stream
  customers.join();

  CHECK(converged(*early, source));
  CHECK(converged(*late, source));
  CHECK(late->stats().snapshots >= 1);
  // It joined while updates were flowing: some were applied after its snapshot or skipped.
  CHECK(late->stats().updates + late->stats().removals + late->stats().stale_skipped > 0);
  CHECK(late->status().state == ReplicaState::live);
}

TEST_CASE(
    "lost updates: the gap is detected, a snapshot repairs it, nothing at or below it is "
    "applied again",
    "[replica]") {
  zmq::context_t context;
  ReplicaBehindLink fixture(context, 100);  // heartbeats off: only what this test publishes
  REQUIRE(fixture.go_live());
  auto& [source, link, replica] = fixture;
  for (int i = 0; i < 3; ++i) {
    replica.pump(20ms);  // drain anything queued before the snapshot (the first heartbeat)
  }
  const ReplicaStats before = replica.stats();

  CustomerGenerator generator(3);
  const auto move_customers = [&](int count) {
    const std::uint64_t forwarded = link.stats().forwarded;
    const std::uint64_t lost = link.stats().lost;
    source.call([&](CustomerService& service) {
      for (int i = 0; i < count; ++i) {
        service.upsert(generator.moved(*service.find(static_cast<CustomerId>(i % 100 + 1))));
      }
      return 0;
    });
    // Let the link pass them before anything else happens: the loss must hit exactly these.
    return eventually([&] {
      const auto stats = link.stats();
      return stats.forwarded + stats.lost == forwarded + lost + static_cast<std::uint64_t>(count);
    });
  };
  // 10 updates arrive, the next 5 are lost, 30 more arrive; the replica reads none of them
  // until all are queued, so the 29 after the one that reveals the gap are already in the
  // snapshot it fetches.
  REQUIRE(move_customers(10));
  link.lose_next(5);
  REQUIRE(move_customers(5));
  REQUIRE(move_customers(30));
  CHECK(link.stats().lost == 5);

  // Pump until the 29 queued updates behind the gap were read one way or the other.
  const auto [records, sequence, incarnation] = source_state(source);
  REQUIRE(pump_until(replica, [&, sequence = sequence] {
    const ReplicaStats now = replica.stats();
    return replica.status().sequence >= sequence &&
           now.stale_skipped + now.updates - before.stale_skipped - before.updates >= 10 + 29;
  }));
  const ReplicaStats after = replica.stats();
  CHECK(replica.copy() == records);
  CHECK(after.resyncs_after_gap - before.resyncs_after_gap == 1);
  CHECK(after.missed - before.missed == 5);
  CHECK(after.updates - before.updates == 10);  // only those before the gap, one by one
  CHECK(after.stale_skipped - before.stale_skipped == 29);
  CHECK(after.snapshots - before.snapshots == 1);
}

TEST_CASE("an overflowing high-water mark is a gap like any other, and is repaired", "[replica]") {
  zmq::context_t context;
  auto options = service_options(eda::Transport::inproc);
  options.send_high_water_mark = 20;
  options.heartbeat_interval = 20ms;  // the heartbeat after the burst reveals the lost tail
  CustomerServiceThread source(context, options, CustomerGenerator(1).table(500));
  auto replica_opts = replica_options(source, "shipping");
  replica_opts.receive_high_water_mark = 20;
  Replica replica(context, replica_opts);
  REQUIRE(pump_until(replica, [&] { return replica.status().state == ReplicaState::live; }));

  // A burst of 2000 changes while the replica is busy elsewhere (not pumping).
  source.call([](CustomerService& service) {
    CustomerGenerator generator(9);
    for (int i = 0; i < 2000; ++i) {
      (void)make_random_change(service, generator);
    }
    return 0;
  });
  const auto [records, sequence, incarnation] = source_state(source);
  REQUIRE(pump_until(replica,
                     [&, sequence = sequence] { return replica.status().sequence >= sequence; }));
  CHECK(replica.copy() == records);
  CHECK(replica.stats().resyncs_after_gap >= 1);
  CHECK(replica.stats().missed > 0);
}

TEST_CASE("tombstones remove the record on every replica", "[replica]") {
  zmq::context_t context;
  CustomerServiceThread source(context, service_options(), CustomerGenerator(1).table(50));
  RunningReplica first(context, replica_options(source, "first"));
  RunningReplica second(context, replica_options(source, "second"));
  REQUIRE(converged(*first, source));
  REQUIRE(converged(*second, source));
  REQUIRE(first->lookup(7).customer);

  source.call([](CustomerService& service) {
    for (CustomerId id : {7U, 8U, 9U}) {
      REQUIRE(service.remove(id));
    }
    CHECK_FALSE(service.remove(7));  // already gone: nothing published
    return 0;
  });
  for (auto* replica : {&first, &second}) {
    REQUIRE(converged(**replica, source));
    CHECK_FALSE((*replica)->lookup(7).customer);
    CHECK_FALSE((*replica)->lookup(9).customer);
    CHECK((*replica)->status().records == 47);
    CHECK((*replica)->stats().removals == 3);
  }
}

TEST_CASE("read-your-writes: a replica can be asked to reflect a given sequence", "[replica]") {
  zmq::context_t context;
  CustomerServiceThread source(context, service_options(), CustomerGenerator(1).table(20));
  auto options = replica_options(source, "shipping");
  std::vector<std::uint64_t> applied;  // written on the replica's thread, read after await
  std::mutex applied_mutex;
  options.applied = [&](const eda::EventMetadata& meta) {
    std::lock_guard lock(applied_mutex);
    applied.push_back(meta.sequence);
  };
  RunningReplica replica(context, options);
  REQUIRE(converged(*replica, source));

  CustomerGenerator generator(5);
  const auto [moved, sequence] = source.call([&](CustomerService& service) {
    Customer customer = generator.moved(*service.find(3));
    customer.street = "1 Read-Your-Writes Road";
    return std::pair{customer, service.upsert(customer)};
  });
  REQUIRE(replica->await_sequence(sequence, 20s));
  const CustomerView view = replica->lookup(3);
  REQUIRE(view.customer);
  CHECK(*view.customer == moved);
  CHECK(view.sequence >= sequence);
  CHECK_FALSE(replica->await_sequence(sequence + 1'000'000, 50ms));
  // Sequences of another run of the source are not comparable with this one's.
  CHECK_FALSE(replica->await_sequence(1, 50ms, source_state(source).incarnation + 1));
  CHECK(replica->await_sequence(sequence, 50ms, source_state(source).incarnation));
  {
    std::lock_guard lock(applied_mutex);
    REQUIRE_FALSE(applied.empty());
    CHECK(std::find(applied.begin(), applied.end(), sequence) != applied.end());
    CHECK(std::adjacent_find(applied.begin(), applied.end(), [](auto a, auto b) {
            return b != a + 1;
          }) == applied.end());  // told of every message, in order
  }

  // A consistent view of several records: all reflect one sequence.
  const auto [count, at] = replica->read([](const CustomerTable& records, std::uint64_t seq) {
    return std::pair{records.size(), seq};
  });
  CHECK(count == 20);
  CHECK(at >= sequence);
}

TEST_CASE(
    "while the source is down the replica answers and says how stale, when it is back, "
    "the replica re-synchronises",
    "[replica]") {
  zmq::context_t context;
  auto options = service_options();
  options.heartbeat_interval = 20ms;
  auto source =
      std::make_unique<CustomerServiceThread>(context, options, CustomerGenerator(1).table(30));
  options.update_endpoints = source->update_endpoints();  // come back at the same place
  options.snapshot_endpoints = source->snapshot_endpoints();
  auto replica_opts = replica_options(*source, "shipping");
  replica_opts.silence_timeout = 150ms;
  RunningReplica replica(context, replica_opts);
  REQUIRE(converged(*replica, *source));

  CustomerTable records = source->stop();  // the Customer service goes down
  source.reset();
  REQUIRE(replica->await_state(ReplicaState::source_silent, 20s));
  const CustomerView view = replica->lookup(4);
  REQUIRE(view.customer);  // still answering, from what it has
  CHECK(*view.customer == records.at(4));
  CHECK(view.state == ReplicaState::source_silent);
  CHECK(view.staleness >= 150ms);
  const auto label = Shipping(*replica).label_for({.order_id = 1, .customer_id = 4});
  REQUIRE(label);
  CHECK(label->staleness >= 150ms);

  // Back, with a change made while it was away (and a new incarnation).
  records[4].street = "7 Comeback Street";
  source = std::make_unique<CustomerServiceThread>(context, options, records);
  REQUIRE(eventually([&] {
    const auto now = replica->lookup(4);
    return now.customer && now.customer->street == "7 Comeback Street";
  }));
  CHECK(converged(*replica, *source));
  CHECK(replica->await_state(ReplicaState::live, 1s));
  const ReplicaStats stats = replica->stats();
  CHECK(stats.silences >= 1);
  CHECK(stats.resyncs_after_silence + stats.resyncs_after_restart >= 1);
}

TEST_CASE("a restarted source with different records is followed exactly", "[replica]") {
  zmq::context_t context;
  auto options = service_options(eda::Transport::tcp);  // inproc does not reconnect
  options.heartbeat_interval = 20ms;
  auto source =
      std::make_unique<CustomerServiceThread>(context, options, CustomerGenerator(1).table(300));
  options.update_endpoints = source->update_endpoints();
  options.snapshot_endpoints = source->snapshot_endpoints();
  RunningReplica replica(context, replica_options(*source, "shipping"));  // silence: 1 s
  REQUIRE(converged(*replica, *source));

  // Restarted quickly (before the replica would call it silent), with another data set:
  // its numbering starts again at 1; the new incarnation in its heartbeat gives it away.
  (void)source->stop();
  source.reset();
  source =
      std::make_unique<CustomerServiceThread>(context, options, CustomerGenerator(2).table(120));
  REQUIRE(eventually([&] { return replica->status().records == 120; }));
  CHECK(converged(*replica, *source));
  CHECK(replica->stats().resyncs_after_restart + replica->stats().resyncs_after_silence >= 1);
}

namespace {
/// An update of the right type whose payload has the wrong shape.
struct MisshapenUpdate {
  static constexpr std::string_view event_type = CustomerUpdated::event_type;
  static constexpr std::uint32_t schema_version = 1;
  std::string nonsense = "not a customer";
  MSGPACK_DEFINE(nonsense)
};
}  // namespace

TEST_CASE("malformed updates are dead-lettered and the replica keeps going", "[replica]") {
  zmq::context_t context;
  ReplicaBehindLink fixture(context, 10);  // heartbeats off: only what this test publishes
  REQUIRE(fixture.go_live());
  auto& [source, link, replica] = fixture;
  const std::uint64_t next = replica.status().sequence + 1;

  // Bytes that are no envelope at all: the kit dead-letters them.
  link.inject({"shop.customer.updated", "\xc1\xc1 not messagepack"});
  // From a stranger: another source name.
  auto stranger = eda::make_event(
      "impostor",
      CustomerRemoved{.incarnation = source_state(source).incarnation, .customer_id = 1});
  stranger.meta.sequence = next;
  link.inject({eda::encode_event(stranger)});
  // The right type, source and sequence, but a payload that is not a customer: dead-lettered,
  // and the replica fetches a snapshot so that it does not miss what the update meant.
  auto misshapen = eda::make_event("customer-service", MisshapenUpdate{});
  misshapen.meta.sequence = next;
  link.inject({eda::encode_event(misshapen)});

  REQUIRE(pump_until(replica, [&] { return replica.stats().dead_letters >= 3; }));
  CHECK(replica.lookup(1).customer);  // the stranger's tombstone was not applied
  REQUIRE(pump_until(replica, [&] { return replica.stats().resyncs_after_bad_update == 1; }));

  // And it keeps going: the next real change arrives and applies.
  const auto sequence = source.call([](CustomerService& service) {
    Customer customer = *service.find(2);
    customer.city = "Still Working";
    return service.upsert(customer);
  });
  REQUIRE(pump_until(replica, [&] { return replica.status().sequence >= sequence; }));
  CHECK(replica.lookup(2).customer->city == "Still Working");
  CHECK(replica.copy() == source_state(source).records);
}

TEST_CASE("a replica started before its source waits, then synchronises", "[replica]") {
  zmq::context_t context;
  auto options = service_options(eda::Transport::tcp);
  // Reserve real ports by starting a source once, then stop it before the replica starts.
  auto first = std::make_unique<CustomerServiceThread>(context, options);
  options.update_endpoints = first->update_endpoints();
  options.snapshot_endpoints = first->snapshot_endpoints();
  auto replica_opts = replica_options(*first, "early-bird");
  (void)first->stop();
  first.reset();

  RunningReplica replica(context, replica_opts);
  const CustomerView nothing_yet = replica->lookup(1);
  CHECK_FALSE(nothing_yet.customer);
  CHECK(nothing_yet.state == ReplicaState::waiting_for_source);

  CustomerServiceThread source(context, options, CustomerGenerator(1).table(40));
  CHECK(converged(*replica, source));
}

TEST_CASE("replica options are checked", "[replica]") {
  zmq::context_t context;
  CHECK_THROWS_AS(Replica(context, {.updates_endpoint = "tcp://127.0.0.1:5555"}),
                  std::invalid_argument);
  CHECK_THROWS_AS(Replica(context, {.updates_endpoint = "tcp://127.0.0.1:5555",
                                    .snapshot_endpoint = "http://nope"}),
                  std::invalid_argument);
  CHECK_THROWS_AS(Replica(context, {.updates_endpoint = "tcp://127.0.0.1:5555",
                                    .snapshot_endpoint = "tcp://127.0.0.1:5556",
                                    .silence_timeout = std::chrono::milliseconds(0)}),
                  std::invalid_argument);
}

TEST_CASE(
    "a source restarted under load is noticed at its first update, not only at a "
    "heartbeat",
    "[replica]") {
  zmq::context_t context;
  auto options = service_options();
  options.heartbeat_interval = std::chrono::hours(1);  // no heartbeat to give the restart away
  auto source =
      std::make_unique<CustomerServiceThread>(context, options, CustomerGenerator(1).table(200));
  options.update_endpoints = source->update_endpoints();
  options.snapshot_endpoints = source->snapshot_endpoints();
  RunningReplica replica(context, replica_options(*source, "shipping"));  // silence: 1 s
  REQUIRE(converged(*replica, *source));
  source->call([](CustomerService& service) {  // the old run gets to #51 and beyond
    CustomerGenerator generator(4);
    for (int i = 0; i < 50; ++i) (void)make_random_change(service, generator);
    return 0;
  });
  REQUIRE(converged(*replica, *source));

  (void)source->stop();
  source.reset();
  source =
      std::make_unique<CustomerServiceThread>(context, options, CustomerGenerator(2).table(80));
  // The new run publishes at once; its numbers (1, 2, ...) overlap the old run's.
  CustomerGenerator generator(5);
  const eda::Deadline deadline(20s);
  SourceState state;
  do {
    state = source->call([&](CustomerService& service) {
      for (int i = 0; i < 5; ++i) (void)make_random_change(service, generator);
      return SourceState{service.records(), service.sequence(), service.incarnation()};
    });
  } while (!replica->await_sequence(state.sequence, 20ms, state.incarnation) &&
           !deadline.expired());
  CHECK(converged(*replica, *source));
  CHECK(replica->stats().resyncs_after_restart >= 1);
}

namespace {
/// A CustomerUpdated whose record lacks every field but the id.
struct TruncatedUpdate {
  static constexpr std::string_view event_type = CustomerUpdated::event_type;
  static constexpr std::uint32_t schema_version = 1;
  Incarnation incarnation = 0;
  std::vector<std::uint64_t> customer{5};
  MSGPACK_DEFINE(incarnation, customer)
};
}  // namespace

TEST_CASE("an update whose record lacks fields never blanks the replica's copy", "[replica]") {
  zmq::context_t context;
  ReplicaBehindLink fixture(context, 10);  // heartbeats off: only what this test publishes
  REQUIRE(fixture.go_live());
  auto& [source, link, replica] = fixture;
  const Customer before = *replica.lookup(5).customer;

  auto truncated = eda::make_event(
      "customer-service", TruncatedUpdate{.incarnation = source_state(source).incarnation});
  truncated.meta.sequence = replica.status().sequence + 1;
  link.inject({eda::encode_event(truncated)});
  REQUIRE(pump_until(replica, [&] { return replica.stats().resyncs_after_bad_update == 1; }));
  CHECK(replica.stats().dead_letters == 1);
  CHECK(*replica.lookup(5).customer == before);
}

TEST_CASE(
    "bad snapshot replies fail the attempt, the replica backs off, retries and "
    "synchronises when a good one comes",
    "[replica]") {
  zmq::context_t context;
  eda::test::RawPublisher updates(context);
  zmq::socket_t snapshots(context, zmq::socket_type::router);
  snapshots.set(zmq::sockopt::linger, 0);
  const std::string snapshot_endpoint = eda::bind_endpoint(snapshots, "tcp://127.0.0.1:*");
  RunningReplica replica(context, {.name = "shipping",
                                   .updates_endpoint = updates.endpoint(),
                                   .snapshot_endpoint = snapshot_endpoint,
                                   .snapshot_timeout = 2s});

  const Customer alice = CustomerGenerator(1).make(1);
  const std::string good_chunk = eda::encode_value(SnapshotChunk{{alice}});
  const std::vector<std::vector<std::string>> replies = {
      {std::string(snapshot_refused), "not today"},
      {std::string(snapshot_chunk), "\xc1 garbage"},
      {std::string(snapshot_chunk), good_chunk, std::string(snapshot_end),
       eda::encode_value(SnapshotEnd{7, 2, 99, "customer-service"})},  // 2 announced, 1 sent
      {"snapshot.whatever", ""},
      {std::string(snapshot_chunk), good_chunk, std::string(snapshot_end),
       eda::encode_value(SnapshotEnd{7, 1, 99, "customer-service"})},  // finally, a good one
  };
  // Why each bad reply failed the attempt, as the replica reports it.
  using Reason = eda::state_transfer::SnapshotFailure::Reason;
  const std::vector<Reason> reasons = {Reason::refused, Reason::malformed, Reason::incomplete,
                                       Reason::malformed};
  CHECK_FALSE(replica->last_snapshot_failure());
  std::size_t answered = 0;
  const eda::Deadline deadline(30s);
  while (answered < replies.size() && !deadline.expired()) {
    updates.answer_handshakes();
    zmq::pollitem_t item{snapshots.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, 10ms);
    if ((item.revents & ZMQ_POLLIN) == 0) continue;
    std::vector<zmq::message_t> request;
    const std::size_t frames = eda::receive_frames(snapshots, request, 3);
    REQUIRE(frames == 3);
    CHECK(eda::view_of(request[1]) == snapshot_request);
    const auto& reply = replies[answered++];
    for (std::size_t i = 0; i < reply.size(); i += 2) {  // one message per (command, body)
      snapshots.send(zmq::buffer(eda::view_of(request[0])), zmq::send_flags::sndmore);
      snapshots.send(zmq::buffer(reply[i]), zmq::send_flags::sndmore);
      snapshots.send(zmq::buffer(reply[i + 1]), zmq::send_flags::none);
    }
    if (answered < replies.size()) {
      REQUIRE(eventually([&] { return replica->stats().failed_snapshots == answered; }));
      CHECK(replica->status().state == ReplicaState::waiting_for_source);
      CHECK(replica->status().records == 0);
      const auto failure = replica->last_snapshot_failure();
      REQUIRE(failure);
      CHECK(failure->reason == reasons[answered - 1]);
      CHECK_FALSE(failure->detail.empty());
    }
  }
  REQUIRE(answered == replies.size());
  REQUIRE(replica->await_sequence(7, 10s, 99));
  CHECK(replica->copy() == CustomerTable{{1, alice}});
  CHECK(replica->stats().failed_snapshots == 4);
  CHECK_FALSE(replica->last_snapshot_failure());  // cleared by the good snapshot
}

TEST_CASE("work handed to a Customer service that is stopping returns (fails by hanging)",
          "[service]") {
  zmq::context_t context;
  for (int round = 0; round < 20; ++round) {
    CustomerServiceThread source(context, service_options(eda::Transport::inproc));
    std::jthread caller([&] {
      for (int i = 0; i < 100'000; ++i) {
        try {
          (void)source.call([](CustomerService& service) { return service.sequence(); });
        } catch (const std::logic_error&) {  // stopped (or its promise broken): done
          return;
        }
      }
    });
    (void)source.stop();
  }  // a hang here is the failure (CTest's timeout)
  SUCCEED();
}

TEST_CASE("over CURVE, an allow-listed replica synchronises, a stranger's gets nothing",
          "[replica][security]") {
  const eda::test::CurveTestKeys keys;
  zmq::context_t context;
  eda::ZapHandler zap(context, keys.allowed());
  CustomerServiceOptions options = service_options(eda::Transport::tcp);
  options.security = keys.server_side(zap);
  CustomerServiceThread source(context, options, CustomerGenerator(3).table(300));

  ReplicaOptions trusted = replica_options(source, "trusted");
  trusted.security = keys.client_side();
  RunningReplica replica(context, trusted);
  ReplicaOptions unknown = replica_options(source, "stranger");
  unknown.security = keys.stranger_side();
  unknown.snapshot_timeout = 200ms;
  RunningReplica outsider(context, unknown);

  source.call([](CustomerService& service) {
    CustomerGenerator generator(9);
    for (int i = 0; i < 20; ++i) (void)make_random_change(service, generator);
    return 0;
  });
  CHECK(converged(*replica, source));  // snapshot and updates, both over CURVE
  CHECK(replica->stats().snapshots >= 1);
  // The stranger's handshakes are refused by the ZAP handler: no snapshot, no update.
  REQUIRE(eventually([&] { return zap.stats().denied >= 2; }));  // both of its connections
  CHECK(outsider->stats().snapshots == 0);
  CHECK(outsider->stats().updates == 0);
  CHECK(outsider->status().state == ReplicaState::waiting_for_source);
}
