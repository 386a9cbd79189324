// Untrusted bytes on the kit's listening ports: a peer that sends junk where the greeting's
// mechanism should be, or that announces a message larger than the socket's limit, is
// dropped at once, and the next legitimate peer is served as if nothing happened.

#include <atomic>
#include <thread>

#include <catch2/catch.hpp>

#include "eda/pubsub.hpp"
#include "eda/rpc.hpp"
#include "eda_test_support.hpp"
#include "raw_tcp.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using eda::test::hostile_peer_is_dropped;
using eda::test::Hostility;

TEST_CASE(
    "hostile bytes on a publisher's or an RPC server's port drop that peer, the next "
    "legitimate peer is served",
    "[hostile]") {
  zmq::context_t context;
  eda::Publisher publisher(context,
                           {.source = "order-service", .endpoints = {"tcp://127.0.0.1:*"}});
  eda::RpcServer server(context, {.endpoints = {"tcp://127.0.0.1:*"}});
  server.handle("Echo", [](std::string_view body) { return std::string(body); });
  std::atomic<bool> stop{false};
  std::thread serving([&] { server.serve_while([&] { return !stop.load(); }, 10ms); });

  for (const Hostility how : {Hostility::garbage, Hostility::oversized_message}) {
    INFO("hostility " << static_cast<int>(how));
    // A publisher receives only subscriptions: a 256 MiB one is refused, not allocated.
    CHECK(hostile_peer_is_dropped(publisher.endpoints().front(), how, "SUB"));
    CHECK(hostile_peer_is_dropped(server.endpoints().front(), how, "DEALER"));
  }

  eda::Subscriber subscriber(context, {.endpoints = publisher.endpoints()});
  REQUIRE(eda::test::handshake(publisher, subscriber));
  (void)publisher.publish(eda::test::sample_order(1));
  const auto delivery = subscriber.receive(10s);
  REQUIRE(delivery);
  CHECK(delivery->event.meta().sequence == 1);
  eda::RpcClient client(context, {.endpoint = server.endpoints().front(), .timeout = 5s});
  CHECK(client.call("Echo", "still here") == "still here");
  stop = true;
  serving.join();
}

TEST_CASE("a publisher's subscription limit is checked", "[hostile]") {
  zmq::context_t context;
  CHECK_THROWS_WITH(eda::Publisher(context, {.source = "order-service",
                                             .endpoints = {"tcp://127.0.0.1:*"},
                                             .max_subscription_bytes = 10}),
                    Catch::Contains("max_subscription_bytes must be at least 256"));
}
