// The Customer service: every change is published whole, snapshots arrive in chunks and say
// what they are current to, bad snapshot requests are refused and the service goes on.
#include <catch2/catch.hpp>

#include "eda/state_transfer/snapshot_protocol.hpp"
#include "eda/wire.hpp"
#include "raw_tcp.hpp"
#include "replica_fixture.hpp"

using namespace eda::state_transfer;
using namespace eda::state_transfer::test;

TEST_CASE("every change is published as the whole record, removals as tombstones", "[service]") {
  zmq::context_t context;
  CustomerService service(context, service_options(), CustomerGenerator(1).table(3));
  eda::Subscriber inbox(context, {.endpoints = service.update_endpoints(),
                                  .topics = {std::string(customer_topic_prefix)}});
  eda::Deadline deadline(std::chrono::seconds(10));
  while (!inbox.handshake_complete() && !deadline.expired()) {
    service.serve(5ms);
    (void)inbox.await_handshake(5ms);
  }
  REQUIRE(inbox.handshake_complete());

  Customer moved = *service.find(2);
  moved.city = "Edinburgh";
  const std::uint64_t updated_at = service.upsert(moved);
  const auto removed_at = service.remove(3);
  REQUIRE(removed_at);
  CHECK(*removed_at == updated_at + 1);
  CHECK_FALSE(service.remove(99));
  CHECK(service.sequence() == *removed_at);

  std::vector<eda::DecodedEvent> events;
  while (events.size() < 2 && !deadline.expired()) {
    if (auto delivery = inbox.receive(100ms); delivery && !delivery->event.is<SourceHeartbeat>()) {
      events.push_back(delivery->event);
    }
  }
  REQUIRE(events.size() == 2);
  CHECK(events[0].payload_as<CustomerUpdated>().customer == moved);
  CHECK(events[0].meta().sequence == updated_at);
  CHECK(events[1].payload_as<CustomerRemoved>().customer_id == 3);
  CHECK(service.stats().updates == 1);
  CHECK(service.stats().removals == 1);
}

TEST_CASE("a large snapshot travels in chunks and arrives whole", "[service]") {
  zmq::context_t context;
  auto options = service_options();
  options.snapshot_chunk_records = 7;  // 100 records: 14 full chunks and one of 2
  CustomerServiceThread source(context, options, CustomerGenerator(1).table(100));
  Replica replica(context, replica_options(source, "shipping"));
  REQUIRE(pump_until(replica, [&] { return replica.status().state == ReplicaState::live; }));
  CHECK(replica.copy() == source_state(source).records);
  CHECK(replica.stats().snapshot_records == 100);
  CHECK(source.call([](CustomerService& service) { return service.stats().snapshots_served; }) ==
        1);
}

namespace {
/// Sends `frames` to the snapshot server and returns the frames of its first reply.
std::vector<std::string> ask(zmq::socket_t& dealer, const std::vector<std::string>& frames) {
  for (std::size_t i = 0; i < frames.size(); ++i) {
    dealer.send(zmq::buffer(frames[i]),
                i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
  std::vector<zmq::message_t> reply;
  const std::size_t count = eda::receive_frames(dealer, reply, 4);
  std::vector<std::string> texts;
  for (std::size_t i = 0; i < std::min<std::size_t>(count, 4); ++i) {
    texts.emplace_back(eda::view_of(reply[i]));
  }
  return texts;
}
}  // namespace

TEST_CASE("malformed snapshot requests are refused with a reason, the service goes on",
          "[service]") {
  zmq::context_t context;
  CustomerServiceThread source(context, service_options(), CustomerGenerator(1).table(5));
  zmq::socket_t dealer(context, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::rcvtimeo, 10'000);
  dealer.set(zmq::sockopt::linger, 0);
  dealer.connect(source.snapshot_endpoints().front());

  const auto unknown = ask(dealer, {"GIVE ME EVERYTHING", ""});
  REQUIRE(unknown.size() == 2);
  CHECK(unknown[0] == snapshot_refused);
  CHECK_THAT(unknown[1], Catch::Contains("unknown command"));

  const auto garbage = ask(dealer, {std::string(snapshot_request), "\xc1\xc1"});
  REQUIRE(garbage.size() == 2);
  CHECK(garbage[0] == snapshot_refused);

  const auto one_frame = ask(dealer, {std::string(snapshot_request)});
  REQUIRE(one_frame.size() == 2);
  CHECK(one_frame[0] == snapshot_refused);
  CHECK_THAT(one_frame[1], Catch::Contains("2 frames"));

  CHECK(source.call([](CustomerService& service) { return service.stats().bad_requests; }) == 3);
  Replica replica(context, replica_options(source, "after-the-garbage"));
  REQUIRE(pump_until(replica, [&] { return replica.status().state == ReplicaState::live; }));
  CHECK(replica.status().records == 5);
}

TEST_CASE("the Customer service checks its options and its input", "[service]") {
  zmq::context_t context;
  auto options = service_options();
  options.snapshot_chunk_records = 0;
  CHECK_THROWS_AS(CustomerService(context, options), std::invalid_argument);
  options = service_options();
  options.snapshot_endpoints.clear();
  CHECK_THROWS_AS(CustomerService(context, options), std::invalid_argument);
  options = service_options();
  options.heartbeat_interval = 0ms;
  CHECK_THROWS_AS(CustomerService(context, options), std::invalid_argument);
  CHECK_THROWS_AS(CustomerService(context, service_options(), CustomerTable{{5, Customer{}}}),
                  std::invalid_argument);  // keyed 5, but its id is 0

  CustomerService service(context, service_options());
  CHECK_THROWS_AS(service.upsert(Customer{}), std::invalid_argument);
  CHECK(service.sequence() == 0);
}

TEST_CASE("the service thread reports a failed start and refuses work once stopped", "[service]") {
  zmq::context_t context;
  CustomerServiceThread source(context, service_options());
  auto clash = service_options();
  clash.update_endpoints = source.update_endpoints();  // already bound by the first
  CHECK_THROWS_AS(CustomerServiceThread(context, clash), std::runtime_error);

  (void)source.stop();
  CHECK_THROWS_AS(source.call([](CustomerService& service) { return service.sequence(); }),
                  std::logic_error);
}

TEST_CASE("make_random_change signs up, moves, re-tiers and removes customers", "[service]") {
  zmq::context_t context;
  CustomerService service(context, service_options(), CustomerGenerator(1).table(20));
  CustomerGenerator generator(11);
  std::map<std::string, int> kinds;
  for (int i = 0; i < 400; ++i) {
    const std::string change = make_random_change(service, generator);
    for (const char* kind : {"signed up", "moved to", "is now", "closed"}) {
      if (change.find(kind) != std::string::npos) ++kinds[kind];
    }
  }
  CHECK(kinds.size() == 4);
  CHECK(service.stats().updates + service.stats().removals == 400);
}

TEST_CASE(
    "hostile bytes on the Customer service's ports drop that peer, a fresh replica "
    "synchronises",
    "[service][hostile]") {
  using eda::test::Hostility;
  zmq::context_t context;
  CustomerServiceThread source(context, service_options(eda::Transport::tcp),
                               CustomerGenerator(1).table(50));
  LossyLink link(context, {.upstream = source.update_endpoints().front()});  // the demo's --lose
  for (const Hostility how : {Hostility::garbage, Hostility::oversized_message}) {
    INFO("hostility " << static_cast<int>(how));
    CHECK(eda::test::hostile_peer_is_dropped(source.update_endpoints().front(), how, "SUB"));
    CHECK(eda::test::hostile_peer_is_dropped(source.snapshot_endpoints().front(), how, "DEALER"));
    CHECK(eda::test::hostile_peer_is_dropped(link.endpoint(), how, "SUB"));
  }
  ReplicaOptions through_link = replica_options(source, "after-the-strangers");
  through_link.updates_endpoint = link.endpoint();
  RunningReplica replica(context, through_link);
  CHECK(converged(*replica, source));
  CHECK(replica->status().records == 50);
}
