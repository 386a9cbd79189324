// The partitioned consumer group at work, in one process: members on threads, the coordinator
// service on its own, over tcp loopback. Every event is charged exactly once and in order per
// order, through joins, clean stops, a coordinator restart and a poison event; bad messages on
// the coordinator's socket get typed refusals and are counted.
#include <algorithm>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "eda/endpoint.hpp"
#include "eda/scaling/group_socket.hpp"
#include "eda/wire.hpp"
#include "scaling_test_support.hpp"

using namespace eda::scaling;
using namespace std::chrono_literals;
using scaling_test::check_exactly_once_in_order;
using scaling_test::eventually;
using scaling_test::MemberThread;
using scaling_test::Shop;

namespace {

std::uint64_t charges(const Shop& shop) { return shop.gateway().charges(); }

bool owns(const MemberThread& member, std::size_t count) {
  return member.status().owned.size() == count;
}

/// Order 7 on a 4-partition log: placed, then an amendment the gateway declines every time,
/// then (with `cancelled`) its cancellation; then `orders` orders from 100 of `steps` events.
void produce_with_poison(const Shop& shop, bool cancelled, std::uint64_t orders,
                         std::uint32_t steps) {
  PartitionLog log(shop.log_file.path(), 4);
  KeyedProducer producer(log, "order-service");
  producer.add("order-7", OrderPlaced{"order-7", 1, 500});
  producer.add("order-7", OrderAmended{"order-7", 2, -1});  // declined every time
  if (cancelled) producer.add("order-7", OrderCancelled{"order-7", 3});
  for (std::uint64_t n = 100; n < 100 + orders; ++n) scaling_test::add_order(producer, n, steps);
  producer.flush();
}

}  // namespace

TEST_CASE("runtime: one member gets every partition and charges every event once, in order",
          "[scaling][runtime]") {
  Shop shop(8);
  zmq::context_t context;
  CoordinatorService coordinator(context, shop.coordinator());
  const std::uint64_t events = shop.produce(1, 300, 3);
  MemberThread member(context, shop.member(coordinator.endpoint()));
  REQUIRE(eventually([&] { return owns(member, 8); }));
  check_exactly_once_in_order(shop, events);
  REQUIRE(eventually([&] { return member.status().processed == events; }));
  const auto status = member.status();
  CHECK(status.charged == events);
  CHECK(status.already_charged == 0);
  CHECK(status.joins == 1);
  // Caught up: no partition is behind (lag is measured every 20 ms).
  REQUIRE(eventually([&] {
    const auto lag = member.status().lag;
    return lag.size() == 8 &&
           std::all_of(lag.begin(), lag.end(), [](const auto& entry) { return entry.second == 0; });
  }));
}

TEST_CASE("runtime: lag per partition shows the events a member has not processed yet",
          "[scaling][runtime]") {
  Shop shop(4);
  zmq::context_t context;
  CoordinatorService coordinator(context, shop.coordinator());
  shop.produce(1, 400, 1);
  auto options = shop.member(coordinator.endpoint());
  options.gateway_call_time = 2ms;  // slow: it cannot be done with 400 events in a moment
  options.turn = 4;
  MemberThread member(context, options);
  REQUIRE(eventually([&] {
    const auto lag = member.status().lag;
    std::uint64_t behind = 0;
    for (const auto& entry : lag) behind += entry.second;
    return lag.size() == 4 && behind > 0;
  }));
  const auto status = member.status();
  std::uint64_t behind = 0;
  for (const auto& entry : status.lag) behind += entry.second;
  // Lag and progress add up to the log (within what was processed between the two readings).
  CHECK(behind <= 400);
  CHECK(behind + status.processed >= 400 - 4 * options.turn);
}

TEST_CASE(
    "runtime: a member that joins while events flow gets partitions, nothing lost or repeated",
    "[scaling][runtime]") {
  Shop shop(16);
  zmq::context_t context;
  CoordinatorService coordinator(context, shop.coordinator());
  std::uint64_t events = shop.produce(1, 200, 3);
  MemberThread first(context, shop.member(coordinator.endpoint()));
  REQUIRE(eventually([&] { return owns(first, 16); }));
  REQUIRE(eventually([&] { return charges(shop) > 0; }));
  MemberThread second(context, shop.member(coordinator.endpoint()));
  // More events while the partitions move.
  for (std::uint64_t batch = 0; batch < 10; ++batch)
    events += shop.produce(1000 + batch * 50, 50, 3);
  REQUIRE(eventually([&] { return owns(first, 8) && owns(second, 8); }));
  events += shop.produce(9000, 100, 3);  // and after: half of them are the newcomer's alone
  check_exactly_once_in_order(shop, events);
  REQUIRE(
      eventually([&] { return first.status().processed + second.status().processed == events; }));
  const auto a = first.status();
  const auto b = second.status();
  CHECK(a.partitions_revoked == 8);
  CHECK(b.partitions_started == 8);
  CHECK(b.charged > 0);  // the newcomer did take a share of the work
  std::set<PartitionId> all(a.owned.begin(), a.owned.end());
  all.insert(b.owned.begin(), b.owned.end());
  CHECK(all.size() == 16);
  // Handed over at a committed checkpoint: nothing was delivered twice.
  CHECK(a.already_charged + b.already_charged == 0);
  CHECK(coordinator.status().fences_failed == 0);
}

TEST_CASE("runtime: a member stopped cleanly hands every partition over, nothing lost or repeated",
          "[scaling][runtime]") {
  Shop shop(16);
  zmq::context_t context;
  CoordinatorService coordinator(context, shop.coordinator());
  std::uint64_t events = shop.produce(1, 300, 3);
  MemberThread first(context, shop.member(coordinator.endpoint()));
  MemberThread second(context, shop.member(coordinator.endpoint()));
  REQUIRE(eventually([&] { return owns(first, 8) && owns(second, 8); }));
  REQUIRE(eventually([&] { return charges(shop) > 0; }));
  first.stop();  // commits, leaves with its checkpoints
  events += shop.produce(5000, 300, 3);
  REQUIRE(eventually([&] { return owns(second, 16); }));
  check_exactly_once_in_order(shop, events);
  CHECK(first.status().owned.empty());
  CHECK(second.status().already_charged == 0);
  REQUIRE(eventually([&] { return coordinator.status().group.leaves == 1; }));
  const auto status = coordinator.status();
  CHECK(status.group.leaves == 1);
  CHECK(status.members.size() == 1);
}

TEST_CASE(
    "runtime: a poison event is retried with backoff, dead-lettered, and its partition moves on",
    "[scaling][runtime]") {
  Shop shop(4);
  zmq::context_t context;
  CoordinatorService coordinator(context, shop.coordinator());
  produce_with_poison(shop, true, 40, 2);
  auto box = std::make_shared<eda::DeadLetterBox>();
  auto options = shop.member(coordinator.endpoint());
  options.dead_letters = box;
  options.max_attempts = 3;
  MemberThread member(context, options);
  auto gateway = shop.gateway();
  const std::uint64_t good_events = 2 + 40 * 2;
  REQUIRE(eventually([&] { return gateway.charges() >= good_events; }));
  CHECK(gateway.charges() == good_events);
  CHECK(gateway.order_violations() == 0);
  // The status is a copy the member publishes every 20 ms: wait until it has seen every event
  // (the last charges may be newer than its last copy), then check what it counted.
  REQUIRE(eventually([&] {
    const auto seen = member.status();
    return seen.dead_lettered == 1 && seen.processed >= good_events + 1;
  }));
  const auto status = member.status();
  CHECK(status.dead_lettered == 1);
  CHECK(status.retries == 2);  // three attempts: two retried, the third dead-lettered
  CHECK(status.processed == good_events + 1);
  REQUIRE(box->total() == 1);
  const auto letter = box->recent().front();
  CHECK(letter.fault == eda::WireFault::unprocessable);
  CHECK(letter.reason.find("negative amount") != std::string::npos);
  CHECK(order_step_of(eda::DecodedEvent::decode(letter.frames.at(0))).step == 2);
}

TEST_CASE("runtime: an event that does not decode is dead-lettered at once", "[scaling][runtime]") {
  Shop shop(1);
  zmq::context_t context;
  CoordinatorService coordinator(context, shop.coordinator());
  {
    PartitionLog log(shop.log_file.path(), 1);
    (void)log.append({{0, "order-1", "garbage"}});
  }
  shop.produce(1, 5, 2);
  auto box = std::make_shared<eda::DeadLetterBox>();
  auto options = shop.member(coordinator.endpoint());
  options.dead_letters = box;
  MemberThread member(context, options);
  REQUIRE(eventually([&] { return member.status().processed == 11; }));
  CHECK(member.status().retries == 0);
  CHECK(box->total() == 1);
  CHECK(charges(shop) == 10);
}

TEST_CASE("runtime: a restarted coordinator keeps every committed checkpoint, and members go on",
          "[scaling][runtime]") {
  Shop shop(8);
  zmq::context_t context;
  auto coordinator = std::make_unique<CoordinatorService>(context, shop.coordinator());
  const std::string endpoint = coordinator->endpoint();
  std::uint64_t events = shop.produce(1, 200, 3);
  MemberThread member(context, shop.member(endpoint));
  REQUIRE(eventually([&] { return member.status().processed == events; }));
  REQUIRE(eventually([&] { return member.status().commits > 0; }));
  const std::uint64_t generation_before = coordinator->status().generation;
  coordinator->stop();
  coordinator.reset();

  // While it is away, the member keeps working on what it owns.
  events += shop.produce(1000, 100, 3);
  REQUIRE(eventually([&] { return member.status().processed == events; }));
  CHECK(member.status().owned.size() == 8);
  CHECK(member.status().joins == 1);
  REQUIRE(eventually([&] {
    CheckpointStore store(shop.checkpoint_file.path());
    std::uint64_t committed = 0;
    for (const auto& checkpoint : store.read_all("billing")) committed += checkpoint.offset;
    return committed == events;
  }));

  coordinator = std::make_unique<CoordinatorService>(context, shop.coordinator(endpoint));
  // It holds joins for one session timeout; the member hears unknown_member and joins again.
  REQUIRE(
      eventually([&] { return member.status().joins == 2 && member.status().owned.size() == 8; }));
  REQUIRE(eventually([&] { return coordinator->status().members.size() == 1; }));
  const auto status = coordinator->status();
  CHECK(status.restarted);
  CHECK(status.generation > generation_before);
  CHECK(status.group.unknown_member >= 1);
  CHECK(status.joins_held >= 1);  // the rejoin waited for the grace period
  events += shop.produce(2000, 100, 3);
  check_exactly_once_in_order(shop, events);
  // Resumed from the checkpoints the first coordinator's members committed: nothing again.
  CHECK(member.status().already_charged == 0);
}

TEST_CASE("runtime: malformed, unknown-member and wrong-generation messages get typed refusals",
          "[scaling][runtime]") {
  Shop shop(4);
  zmq::context_t context;
  CoordinatorService coordinator(context, shop.coordinator());
  zmq::socket_t peer(context, zmq::socket_type::dealer);
  peer.set(zmq::sockopt::linger, 0);
  eda::connect_endpoint(peer, coordinator.endpoint());

  std::vector<zmq::message_t> frames;
  int receive_timeout = -1;
  const auto answer = [&]() -> GroupMessage {
    const std::size_t count = eda::receive_frames_within(peer, frames, 3, 5s, receive_timeout);
    REQUIRE(count == 2);
    return decode_group_message(eda::view_of(frames[0]), eda::view_of(frames[1]));
  };
  const auto reason = [&]() -> std::string {
    const GroupMessage message = answer();
    REQUIRE(std::holds_alternative<GroupRefused>(message));
    return std::get<GroupRefused>(message).reason;
  };
  const auto send_raw = [&](std::vector<std::string> parts) {
    for (std::size_t i = 0; i < parts.size(); ++i) {
      peer.send(zmq::buffer(parts[i]),
                i + 1 < parts.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }
  };

  send_raw({"group.join"});  // one frame
  CHECK(reason() == "malformed_message");
  send_raw({"group.join",
            "\x91\xa7"
            "billing",
            "extra"});  // three frames
  CHECK(reason() == "malformed_message");
  send_raw({"group.dance",
            "\x91\xa7"
            "billing"});  // unknown kind
  CHECK(reason() == "malformed_message");
  send_raw({"group.join", "\xc1"});  // not MessagePack
  CHECK(reason() == "malformed_message");
  REQUIRE(send_group_message(peer, RevokeRequest{1, {0}}));  // a coordinator's message
  CHECK(reason() == "malformed_message");

  REQUIRE(send_group_message(peer, Heartbeat{"billing-99", 0}));
  CHECK(reason() == "unknown_member");
  REQUIRE(send_group_message(peer, RevokedPartitions{"billing-99", 0, {{0, 5}}}));
  CHECK(reason() == "unknown_member");

  REQUIRE(send_group_message(peer, JoinGroup{"billing"}));
  const GroupMessage joined = answer();
  REQUIRE(std::holds_alternative<MemberAssignment>(joined));
  const auto first = std::get<MemberAssignment>(joined);
  CHECK(first.owned.size() == 4);
  REQUIRE(send_group_message(peer, Heartbeat{first.member_id, first.generation + 5}));
  CHECK(reason() == "future_generation");
  REQUIRE(send_group_message(peer, JoinGroup{"billing"}));  // a second member, same socket
  const auto second = std::get<MemberAssignment>(answer());
  REQUIRE(send_group_message(peer, Heartbeat{second.member_id, first.generation}));
  CHECK(reason() == "stale_generation");  // older than its own join

  // Its status is published after the answers are sent: wait for all eleven messages.
  REQUIRE(eventually([&] { return coordinator.status().messages == 11; }));
  const auto status = coordinator.status();
  CHECK(status.malformed == 5);
  CHECK(status.refused == 4);
  CHECK(status.group.unknown_member == 2);
  CHECK(status.group.future_generation == 1);
  CHECK(status.group.stale_generation == 1);
  CHECK(status.checkpoints_refused == 1);  // billing-99's checkpoint: not its partition
  CHECK(status.members.size() == 2);       // and the group goes on
}

TEST_CASE(
    "runtime: a member ignores and counts what a coordinator sends that is not a group "
    "message",
    "[scaling][runtime]") {
  Shop shop(4);
  CheckpointStore(shop.checkpoint_file.path()).register_group("billing", 4);
  zmq::context_t context;
  // A coordinator played by hand: a ROUTER that answers the join with garbage first, then
  // grants a partition the group has and one it has not.
  zmq::socket_t fake(context, zmq::socket_type::router);
  fake.set(zmq::sockopt::linger, 0);
  const std::string endpoint = eda::bind_endpoint(fake, "tcp://127.0.0.1:*");
  MemberThread member(context, shop.member(eda::connectable_endpoint(endpoint)));
  std::vector<zmq::message_t> frames;
  int receive_timeout = -1;
  REQUIRE(eda::receive_frames_within(fake, frames, 3, 5s, receive_timeout) == 3);
  CHECK(eda::view_of(frames[1]) == group_join);
  const std::string routing_id(eda::view_of(frames[0]));
  fake.send(zmq::buffer(routing_id), zmq::send_flags::sndmore);
  fake.send(zmq::str_buffer("one frame"), zmq::send_flags::none);
  fake.send(zmq::buffer(routing_id), zmq::send_flags::sndmore);
  fake.send(zmq::str_buffer("group.assignment"), zmq::send_flags::sndmore);
  fake.send(zmq::str_buffer("\xc1"), zmq::send_flags::none);
  REQUIRE(send_group_message(fake, MemberAssignment{"billing-1", 1, {2, 9}, {}, {}}, routing_id));
  REQUIRE(eventually([&] { return member.status().refusals == 3; }));
  const auto status = member.status();
  CHECK(status.joins == 1);
  CHECK(status.member_id == "billing-1");
  CHECK(status.owned == std::vector<PartitionId>{2});
}

TEST_CASE(
    "runtime: on_charged is called once per charge, on its partition, and not for a "
    "re-delivery already charged nor for a dead letter",
    "[scaling][runtime]") {
  Shop shop(4);
  zmq::context_t context;
  CoordinatorService coordinator(context, shop.coordinator());
  produce_with_poison(shop, false, 20, 3);
  // Order 7's first event was charged before (as a crashed owner would have): re-delivered.
  const PartitionId order_7 = Partitioner(4).partition_of("order-7");
  const std::string earlier =
      PartitionLog(shop.log_file.path(), 4).read(order_7, 0, 1).at(0).envelope;
  {
    auto gateway = shop.gateway();
    REQUIRE(bill(gateway, earlier, "earlier-owner") == BillingOutcome::charged);
  }
  struct Charged {
    MemberId member;
    PartitionId partition;
    std::string event_id;
    std::string order_id;
  };
  std::mutex lock;
  std::vector<Charged> seen;
  auto options = shop.member(coordinator.endpoint());
  options.max_attempts = 2;
  options.on_charged = [&](const MemberId& member, PartitionId partition,
                           std::string_view envelope) {
    const auto event = eda::DecodedEvent::decode(envelope);
    const std::lock_guard guard(lock);
    seen.push_back({member, partition, event.meta().event_id, order_step_of(event).order_id});
  };
  MemberThread member(context, options);
  const std::uint64_t total = 2 + 20 * 3;
  REQUIRE(eventually([&] { return member.status().processed == total; }));
  const auto status = member.status();
  CHECK(status.already_charged == 1);
  CHECK(status.dead_lettered == 1);
  const std::lock_guard guard(lock);
  CHECK(seen.size() == status.charged);
  CHECK(seen.size() == total - 2);
  std::set<std::string> ids;
  for (const Charged& charged : seen) {
    ids.insert(charged.event_id);
    CHECK(charged.member == status.member_id);
    CHECK(charged.partition == Partitioner(4).partition_of(charged.order_id));
    CHECK(charged.order_id != "order-7");  // its first was charged before, its second declined
  }
  CHECK(ids.size() == seen.size());  // none twice
}
