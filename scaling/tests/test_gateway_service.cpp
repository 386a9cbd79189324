// The stand-in payment gateway as a service: a key charged once whoever calls, declined and
// malformed calls answered without stopping it, calls recorded together, a late answer not
// taken for the next one, and a group charging through it exactly once and in order.
#include <atomic>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <catch2/catch.hpp>

#include "eda/endpoint.hpp"
#include "eda/scaling/gateway_service.hpp"
#include "eda/wire.hpp"
#include "scaling_test_support.hpp"

using namespace eda::scaling;
using namespace std::chrono_literals;
using scaling_test::eventually;
using scaling_test::MemberThread;
using scaling_test::Shop;

namespace {

ChargeRequest charge_of(const std::string& key, const std::string& order, std::uint32_t step,
                        std::int64_t amount = 1000) {
  ChargeRequest request;
  request.idempotency_key = key;
  request.order_id = order;
  request.step = step;
  request.kind = "charge";
  request.amount_cents = amount;
  request.charged_by = "test-1";
  return request;
}

/// A gateway service on a new record.
struct ServedGateway {
  eda::test::TempDatabase record;
  zmq::context_t context;
  GatewayService service{context, options(record.path())};

  static GatewayServiceOptions options(const std::string& path) {
    GatewayServiceOptions options;
    options.record_path = path;
    return options;
  }
  RemoteGateway client(std::chrono::milliseconds timeout = 5s) {
    return RemoteGateway(context, service.endpoint(), 0us, timeout);
  }
};

}  // namespace

TEST_CASE("gateway record: requests recorded in one call are each checked against the key", "[gateway]") {
  const eda::test::TempDatabase file;
  BillingGateway gateway(file.path());
  const auto recorded = gateway.record(
      {charge_of("k1", "order-1", 1), charge_of("k1", "order-1", 1), charge_of("k2", "order-1", 2)});
  CHECK(recorded == std::vector<bool>{true, false, true});
  CHECK(gateway.charges() == 2);
  CHECK(gateway.double_charges() == 0);
  // A negative amount in the lot: nothing of it is recorded.
  CHECK_THROWS_AS(gateway.record({charge_of("k3", "order-2", 1), charge_of("k4", "order-2", 2, -5)}),
                  ChargeDeclined);
  CHECK(gateway.charges() == 2);
}

TEST_CASE("gateway service: a key is charged once, whichever client asks", "[gateway]") {
  ServedGateway gateway;
  auto first = gateway.client();
  auto second = gateway.client();
  CHECK(first.charge(charge_of("event-1", "order-1", 1)));
  CHECK_FALSE(second.charge(charge_of("event-1", "order-1", 1)));
  CHECK(second.charge(charge_of("event-2", "order-1", 2)));
  const BillingGateway record(gateway.record.path());
  CHECK(record.charges() == 2);
  CHECK(record.double_charges() == 0);
  // The status is published after each turn's answers are sent: it may lag them a moment.
  REQUIRE(eventually([&] { return gateway.service.status().calls == 3; }));
  const auto status = gateway.service.status();
  CHECK(status.charged == 2);
  CHECK(status.already_charged == 1);
}

TEST_CASE("gateway service: a negative amount is declined with its reason, and not recorded", "[gateway]") {
  ServedGateway gateway;
  auto client = gateway.client();
  try {
    (void)client.charge(charge_of("event-1", "order-7", 2, -300));
    FAIL("a negative amount was charged");
  } catch (const ChargeDeclined& declined) {
    const std::string message = declined.what();
    CHECK(message.find("negative amount") != std::string::npos);
    CHECK(message.find("charge declined: charge declined") == std::string::npos);
  }
  CHECK(BillingGateway(gateway.record.path()).charges() == 0);
  CHECK(client.charge(charge_of("event-2", "order-8", 1)));  // and it goes on serving
}

TEST_CASE("gateway service: a message that is no call is refused and counted, and it goes on", "[gateway]") {
  ServedGateway gateway;
  zmq::socket_t stranger(gateway.context, zmq::socket_type::dealer);
  stranger.set(zmq::sockopt::linger, 0);
  eda::connect_endpoint(stranger, gateway.service.endpoint());
  (void)stranger.send(zmq::str_buffer("\xc1 not msgpack"), zmq::send_flags::none);
  REQUIRE(eda::wait_readable(stranger, 5000ms));
  zmq::message_t answer;
  REQUIRE(stranger.recv(answer));
  const auto handle =
      msgpack::unpack(static_cast<const char*>(answer.data()), answer.size());
  const auto [id, outcome, message] = handle.get().as<std::tuple<std::uint64_t, int, std::string>>();
  CHECK(outcome == 3);  // refused
  CHECK(message == "not a gateway call");
  // Two frames where one is expected: counted, not answered.
  (void)stranger.send(zmq::str_buffer("a"), zmq::send_flags::sndmore);
  (void)stranger.send(zmq::str_buffer("b"), zmq::send_flags::none);
  REQUIRE(eventually([&] { return gateway.service.status().malformed == 2; }));
  auto client = gateway.client();
  CHECK(client.charge(charge_of("event-1", "order-1", 1)));
}

TEST_CASE("gateway service: calls from many clients at once are all answered and recorded once", "[gateway]") {
  ServedGateway gateway;
  constexpr int clients = 8;
  constexpr int calls = 50;
  std::vector<std::jthread> threads;
  std::atomic<int> charged{0};
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      auto client = gateway.client();
      for (int i = 0; i < calls; ++i) {
        const std::string key = std::to_string(c) + "-" + std::to_string(i);
        if (client.charge(charge_of(key, "order-" + key, 1))) ++charged;
        // Each call again: already charged (a re-delivery).
        if (client.charge(charge_of(key, "order-" + key, 1))) ++charged;
      }
    });
  }
  threads.clear();
  CHECK(charged == clients * calls);
  const BillingGateway record(gateway.record.path());
  CHECK(record.charges() == clients * calls);
  CHECK(record.double_charges() == 0);
  REQUIRE(eventually([&] { return gateway.service.status().calls == 2 * clients * calls; }));
  const auto status = gateway.service.status();
  CHECK(status.charged == clients * calls);
  CHECK(status.commits <= status.calls);
}

TEST_CASE("remote gateway: no answer in time is an error, and a late answer is not taken for the next call's", "[gateway]") {
  zmq::context_t context;
  zmq::socket_t fake(context, zmq::socket_type::router);  // a gateway played by hand
  fake.set(zmq::sockopt::linger, 0);
  const std::string endpoint =
      eda::connectable_endpoint(eda::bind_endpoint(fake, "tcp://127.0.0.1:*"));
  RemoteGateway client(context, endpoint, 0us, 300ms);
  CHECK_THROWS_AS(client.charge(charge_of("event-1", "order-1", 1)), eda::TransportError);

  std::vector<zmq::message_t> frames;
  int timeout_ms = -1;
  REQUIRE(eda::receive_frames_within(fake, frames, 2, 5000ms, timeout_ms) == 2);  // call 1
  const auto reply = [&](const zmq::message_t& route, std::uint64_t id, int outcome) {
    msgpack::sbuffer buffer;
    msgpack::pack(buffer, std::tuple<std::uint64_t, int, std::string>{id, outcome, ""});
    (void)fake.send(zmq::message_t(route.data(), route.size()), zmq::send_flags::sndmore);
    (void)fake.send(zmq::message_t(buffer.data(), buffer.size()), zmq::send_flags::none);
  };
  bool second_charged = false;
  std::jthread caller([&] { second_charged = client.charge(charge_of("event-2", "order-1", 2)); });
  std::vector<zmq::message_t> second;
  REQUIRE(eda::receive_frames_within(fake, second, 2, 5000ms, timeout_ms) == 2);
  reply(second[0], 1, 1);  // the late answer to call 1: "already charged"
  reply(second[0], 2, 0);  // call 2's: "charged"
  caller.join();
  CHECK(second_charged);
}

TEST_CASE("group through the gateway service: every event charged once and in order", "[gateway][runtime]") {
  Shop shop;
  zmq::context_t context;
  GatewayServiceOptions options;
  options.record_path = shop.gateway_file.path();
  GatewayService gateway(context, options);
  CoordinatorService coordinator(context, shop.coordinator());
  const std::uint64_t events = shop.produce(0, 100);
  auto member_options = shop.member(coordinator.endpoint());
  member_options.gateway_endpoint = gateway.endpoint();
  MemberThread first(context, member_options);
  MemberThread second(context, member_options);
  REQUIRE(eventually([&] { return first.status().processed + second.status().processed >= events; }));
  const BillingGateway record(shop.gateway_file.path());
  CHECK(record.charges() == events);
  CHECK(record.double_charges() == 0);
  CHECK(record.order_violations() == 0);
  CHECK(eventually([&] { return gateway.status().charged == events; }));
}
