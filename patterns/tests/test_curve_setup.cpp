// CURVE said per socket: a CurveSetup hands each socket the Security it is given, a socket
// given none stays plaintext beside CURVE sockets, CURVE never falls back to plaintext, two
// contexts keep their own settings.
#include <atomic>
#include <optional>
#include <thread>

#include <catch2/catch.hpp>

#include "eda/clock.hpp"
#include "eda/pubsub.hpp"
#include "eda/rpc.hpp"
#include "eda/security.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;

namespace {

using Keys = eda::test::CurveTestKeys;

/// The keys of a process that both serves and connects, as `--curve-keys` gives them.
eda::CurveKeys both_halves(const Keys& keys) {
  return {.server_keys = keys.server,
          .allowed_clients = keys.allowed(),
          .client_keys = keys.client,
          .server_public_key = keys.server.public_key};
}

/// Publishes until `subscriber` received `count` events or 10 s passed; how many it received.
std::size_t deliver(eda::Publisher& publisher, eda::Subscriber& subscriber, std::size_t count) {
  for (std::uint64_t id = 1; id <= count; ++id) {
    (void)publisher.publish(eda::test::sample_order(id));
  }
  std::size_t received = 0;
  const eda::Deadline deadline(10s);
  while (received < count && !deadline.expired()) {
    if (subscriber.receive(100ms)) ++received;
  }
  return received;
}

int mechanism_of(zmq::socket_t& socket) { return socket.get(zmq::sockopt::mechanism); }

}  // namespace

TEST_CASE("socket security: a socket given no Security is plaintext beside CURVE sockets",
          "[security]") {
  const Keys keys;
  zmq::context_t context;
  const eda::CurveSetup curve(context, both_halves(keys));
  eda::Publisher secured(
      context,
      {.source = "order-service", .endpoints = {"tcp://127.0.0.1:*"}, .security = curve.server()});
  eda::RpcServer secured_api(context,
                             {.endpoints = {"tcp://127.0.0.1:*"}, .security = curve.server()});
  CHECK(mechanism_of(secured.socket()) == ZMQ_CURVE);

  // Nothing in the context makes these CURVE: only their own options could.
  eda::Publisher open(context, {.source = "public-feed", .endpoints = {"tcp://127.0.0.1:*"}});
  eda::Subscriber reader(context, {.endpoints = open.endpoints()});
  CHECK(mechanism_of(open.socket()) == ZMQ_NULL);
  CHECK(mechanism_of(reader.socket()) == ZMQ_NULL);
  REQUIRE(eda::test::handshake(open, reader));
  CHECK(deliver(open, reader, 5) == 5);

  eda::RpcServer open_api(context, {.endpoints = {"tcp://127.0.0.1:*"}});
  open_api.handle("Echo", [](std::string_view body) { return std::string(body); });
  std::atomic<bool> stop{false};
  std::thread serving([&] { open_api.serve_while([&] { return !stop.load(); }, 10ms); });
  eda::RpcClient caller(context, {.endpoint = open_api.endpoints().front(), .timeout = 5s});
  CHECK(caller.call("Echo", "plain") == "plain");
  stop = true;
  serving.join();
  CHECK(curve.authenticator()->stats().allowed == 0);  // no plaintext peer went through ZAP
}

TEST_CASE("socket security: a socket asked for CURVE runs CURVE or throws, never plaintext",
          "[security]") {
  const Keys keys;
  zmq::context_t context;
  const eda::CurveSetup curve(context, both_halves(keys));
  eda::Publisher publisher(
      context,
      {.source = "order-service", .endpoints = {"tcp://127.0.0.1:*"}, .security = curve.server()});
  eda::Subscriber subscriber(context,
                             {.endpoints = publisher.endpoints(), .security = curve.client()});
  eda::RpcServer server(context, {.endpoints = {"tcp://127.0.0.1:*"}, .security = curve.server()});
  server.handle("Echo", [](std::string_view body) { return std::string(body); });
  eda::RpcClient client(context, {.endpoint = server.endpoints().front(),
                                  .timeout = 300ms,
                                  .attempts = 1,
                                  .security = curve.client()});
  CHECK(mechanism_of(publisher.socket()) == ZMQ_CURVE);
  CHECK(mechanism_of(subscriber.socket()) == ZMQ_CURVE);
  CHECK(mechanism_of(server.socket()) == ZMQ_CURVE);
  REQUIRE(eda::test::handshake(publisher, subscriber));
  CHECK(deliver(publisher, subscriber, 5) == 5);

  SECTION("a plaintext peer of a CURVE socket gets nothing through") {
    eda::Subscriber plaintext(context, {.endpoints = publisher.endpoints()});
    CHECK_FALSE(eda::test::handshake(publisher, plaintext, 500ms));
    eda::RpcClient plaintext_client(
        context, {.endpoint = server.endpoints().front(), .timeout = 300ms, .attempts = 1});
    (void)server.serve_once(300ms);
    CHECK_THROWS_AS(plaintext_client.call("Echo", "x"), eda::RpcTimeout);
  }
  SECTION("a half the process does not hold is an error, not plaintext") {
    zmq::context_t server_context;
    const eda::CurveSetup server_only(
        server_context, {.server_keys = keys.server, .allowed_clients = keys.allowed()});
    CHECK_THROWS_AS(server_only.client(), eda::SecurityError);
    CHECK_THROWS_WITH(eda::Subscriber(server_context, {.endpoints = publisher.endpoints(),
                                                       .security = server_only.both()}),
                      Catch::Contains("needs client keys"));
    const eda::CurveSetup client_only(
        context, {.client_keys = keys.client, .server_public_key = keys.server.public_key});
    CHECK(client_only.authenticator() == nullptr);
    CHECK_THROWS_AS(client_only.server(), eda::SecurityError);
    CHECK_THROWS_AS(eda::CurveSetup(context, {}), eda::SecurityError);
  }
  SECTION("only a CurveSetup that is off hands out plaintext") {
    const eda::CurveSetup off;
    CHECK_FALSE(off.is_on());
    CHECK(off.server().is_plaintext());
    CHECK(off.client().is_plaintext());
    CHECK(curve.is_on());
    CHECK_FALSE(curve.server().is_plaintext());
    CHECK_FALSE(curve.client().is_plaintext());
  }
}

TEST_CASE("socket security: two contexts in one process keep their own CURVE settings",
          "[security]") {
  const Keys keys_a;
  const Keys keys_b;
  zmq::context_t a;
  zmq::context_t b;
  zmq::context_t c;  // no CurveSetup at all
  const eda::CurveSetup curve_a(a, both_halves(keys_a));
  const eda::CurveSetup curve_b(b, both_halves(keys_b));  // a ZAP handler of its own
  eda::Publisher publisher_a(
      a, {.source = "a", .endpoints = {"tcp://127.0.0.1:*"}, .security = curve_a.server()});
  eda::Publisher publisher_b(
      b, {.source = "b", .endpoints = {"tcp://127.0.0.1:*"}, .security = curve_b.server()});
  eda::Publisher publisher_c(c, {.source = "c", .endpoints = {"tcp://127.0.0.1:*"}});
  eda::Subscriber subscriber_a(
      a, {.endpoints = publisher_a.endpoints(), .security = curve_a.client()});
  eda::Subscriber subscriber_b(
      b, {.endpoints = publisher_b.endpoints(), .security = curve_b.client()});
  eda::Subscriber subscriber_c(c, {.endpoints = publisher_c.endpoints()});
  REQUIRE(eda::test::handshake(publisher_a, subscriber_a));
  REQUIRE(eda::test::handshake(publisher_b, subscriber_b));
  REQUIRE(eda::test::handshake(publisher_c, subscriber_c));
  CHECK(deliver(publisher_a, subscriber_a, 5) == 5);
  CHECK(deliver(publisher_b, subscriber_b, 5) == 5);
  CHECK(deliver(publisher_c, subscriber_c, 5) == 5);
  CHECK(mechanism_of(publisher_c.socket()) == ZMQ_NULL);

  // b's handler lets in b's clients only: a's client key, trusting b's server, is refused.
  eda::Subscriber from_a(
      b, {.endpoints = publisher_b.endpoints(),
          .security = eda::Security::client(keys_a.client, keys_b.server.public_key)});
  CHECK_FALSE(eda::test::handshake(publisher_b, from_a, 500ms));
  CHECK(curve_b.authenticator()->stats().denied >= 1);
  CHECK(curve_a.authenticator()->stats().denied == 0);
  // A server Security made from a's handler cannot secure a socket of b: nobody would check.
  CHECK_THROWS_WITH(
      eda::Publisher(
          b, {.source = "b", .endpoints = {"tcp://127.0.0.1:*"}, .security = curve_a.server()}),
      Catch::Contains("without a running ZAP handler"));
}
