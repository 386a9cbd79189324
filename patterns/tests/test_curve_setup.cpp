// CURVE said per socket: a CurveSetup hands each socket the Security it is given, a socket
// given none stays plaintext beside CURVE sockets, CURVE never falls back to plaintext, two
// contexts keep their own settings, and the ZAP handler survives a signal.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

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

std::atomic<int> signals_seen{0};

extern "C" void count_signal(int) { signals_seen.fetch_add(1); }

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

TEST_CASE("socket security: the ZAP handler still authenticates after a signal interrupts it",
          "[security]") {
  const Keys keys;
  zmq::context_t context;
  // A handler without SA_RESTART: the signal makes the ZAP thread's poll() fail with EINTR.
  struct sigaction action {};
  action.sa_handler = count_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;
  struct sigaction previous {};
  REQUIRE(::sigaction(SIGUSR1, &action, &previous) == 0);
  signals_seen = 0;
  eda::ZapHandler zap(context, keys.allowed());  // its thread leaves SIGUSR1 unblocked
  // Block SIGUSR1 here: the kernel then hands a signal sent to the process to the one thread
  // that takes it, the ZAP handler's (libzmq's own threads block every signal).
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigset_t before;
  REQUIRE(::pthread_sigmask(SIG_BLOCK, &usr1, &before) == 0);

  eda::Publisher publisher(context, {.source = "order-service",
                                     .endpoints = {"tcp://127.0.0.1:*"},
                                     .security = eda::Security::server(zap, keys.server)});
  eda::Subscriber first(context,
                        {.endpoints = publisher.endpoints(), .security = keys.client_side()});
  REQUIRE(eda::test::handshake(publisher, first));  // the handler now waits in poll()
  const std::uint64_t allowed_before = zap.stats().allowed;

  REQUIRE(::kill(::getpid(), SIGUSR1) == 0);
  const eda::Deadline deadline(10s);
  while (signals_seen.load() == 0 && !deadline.expired()) std::this_thread::yield();
  CHECK(signals_seen.load() == 1);

  eda::Subscriber second(context,
                         {.endpoints = publisher.endpoints(), .security = keys.client_side()});
  CHECK(eda::test::handshake(publisher, second));
  CHECK(zap.stats().allowed > allowed_before);
  CHECK(deliver(publisher, second, 5) == 5);

  (void)::pthread_sigmask(SIG_SETMASK, &before, nullptr);
  (void)::sigaction(SIGUSR1, &previous, nullptr);
}
