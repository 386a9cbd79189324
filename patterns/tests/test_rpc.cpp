// RPC, the baselines' transport: normal calls, error replies, bad requests, and a client that
// survives its server being down and recovers when it comes back.
#include <atomic>
#include <csignal>
#include <thread>

#include <pthread.h>

#include <catch2/catch.hpp>

#include "eda/endpoint.hpp"
#include "eda/rpc.hpp"
#include "eda/wire.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;

namespace {

/// An RPC server answering on its own thread until the object is destroyed.
class ServerThread {
 public:
  ServerThread(zmq::context_t& context, const std::string& endpoint)
      : server_(context, {.endpoints = {endpoint}}) {
    server_.handle_typed<std::uint64_t>("GetOrder", [](std::uint64_t id) {
      if (id == 0) throw std::invalid_argument("order 0 does not exist");
      return eda::test::sample_order(id);
    });
    server_.handle("Echo", [](std::string_view body) { return std::string(body); });
    server_.handle("Slow", [](std::string_view body) {
      std::this_thread::sleep_for(300ms);  // a server that holds the request (a waiting query)
      return std::string(body);
    });
    server_.handle("Refuse", [](std::string_view body) -> std::string {
      throw eda::RpcError("rejected", "Refuse", "no, because " + std::string(body));
    });
    thread_ = std::thread([this] { server_.serve_while([this] { return !stop_.load(); }, 10ms); });
  }
  ~ServerThread() {
    stop_ = true;
    thread_.join();
  }
  ServerThread(const ServerThread&) = delete;
  ServerThread& operator=(const ServerThread&) = delete;

  [[nodiscard]] const std::string& endpoint() const { return server_.endpoints().front(); }
  [[nodiscard]] eda::RpcServerStats stats() const { return server_.stats(); }

 private:
  eda::RpcServer server_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace

TEST_CASE("a typed call returns the typed reply", "[rpc]") {
  const auto transport = GENERATE(eda::Transport::inproc, eda::Transport::ipc, eda::Transport::tcp);
  zmq::context_t context;
  ServerThread server(context, eda::ephemeral_endpoint(transport, "orders"));
  eda::RpcClient client(context, {.endpoint = server.endpoint()});
  CHECK(client.call<eda::test::OrderPlaced>("GetOrder", std::uint64_t{7}) ==
        eda::test::sample_order(7));
  CHECK(client.call("Echo", "raw bytes \x01\x02") == "raw bytes \x01\x02");
  CHECK(client.reconnects() == 0);
}

TEST_CASE("error replies raise RpcError and the server keeps serving", "[rpc]") {
  zmq::context_t context;
  ServerThread server(context, "tcp://127.0.0.1:*");
  eda::RpcClient client(context, {.endpoint = server.endpoint()});

  SECTION("a handler that throws") {
    try {
      (void)client.call<eda::test::OrderPlaced>("GetOrder", std::uint64_t{0});
      FAIL("expected RpcError");
    } catch (const eda::RpcError& e) {
      CHECK(e.status() == "error");
      CHECK_THAT(e.what(), Catch::Contains("order 0 does not exist"));
    }
  }
  SECTION("an unknown method") {
    try {
      (void)client.call("Nope", "");
      FAIL("expected RpcError");
    } catch (const eda::RpcError& e) {
      CHECK(e.status() == "unknown_method");
      CHECK_THAT(e.what(), Catch::Contains("Nope"));
    }
  }
  SECTION("a handler that answers with a status of its protocol") {
    try {
      (void)client.call("Refuse", "it is Sunday");
      FAIL("expected RpcError");
    } catch (const eda::RpcError& e) {
      CHECK(e.status() == "rejected");
      CHECK(e.body() == "no, because it is Sunday");
    }
  }
  SECTION("a body that does not decode") {
    try {
      (void)client.call("GetOrder", "\xc1");
      FAIL("expected RpcError");
    } catch (const eda::RpcError& e) {
      CHECK(e.status() == "bad_request");
    }
  }
  // Whatever went wrong before, the next good call works.
  CHECK(client.call<eda::test::OrderPlaced>("GetOrder", std::uint64_t{3}).order_id == 3);
}

TEST_CASE("a call may allow the server to hold it longer than the client's timeout", "[rpc]") {
  zmq::context_t context;
  ServerThread server(context, "inproc://slow-rpc");
  eda::RpcClient client(context, {.endpoint = server.endpoint(), .timeout = 100ms, .attempts = 1});
  CHECK(client.call("Slow", "held", 2s) == "held");
  CHECK_THROWS_AS(client.call("Slow", "not held"), eda::RpcTimeout);
  // (the server first finishes the abandoned request, so this one may wait for it)
  CHECK(client.call("Echo", "after a timeout", 2s) == "after a timeout");
}

TEST_CASE("a request with the wrong number of frames gets a bad_request reply", "[rpc]") {
  zmq::context_t context;
  ServerThread server(context, "tcp://127.0.0.1:*");
  zmq::socket_t raw(context, zmq::socket_type::req);
  raw.set(zmq::sockopt::linger, 0);
  raw.set(zmq::sockopt::rcvtimeo, 10000);
  raw.connect(server.endpoint());
  (void)raw.send(zmq::str_buffer("GetOrder"), zmq::send_flags::sndmore);
  (void)raw.send(zmq::str_buffer("a"), zmq::send_flags::sndmore);
  (void)raw.send(zmq::str_buffer("b"), zmq::send_flags::none);
  zmq::message_t status;
  REQUIRE(raw.recv(status));
  CHECK(status.to_string() == "bad_request");
  zmq::message_t body;
  REQUIRE(raw.recv(body));
  CHECK_THAT(body.to_string(), Catch::Contains("3 frames"));

  eda::RpcClient client(context, {.endpoint = server.endpoint()});
  CHECK(client.call("Echo", "still here") == "still here");
}

TEST_CASE("a client whose server is down times out, then recovers when it returns", "[rpc]") {
  zmq::context_t context;
  // ipc: the server can come back on exactly the same endpoint.
  const std::string endpoint = eda::ephemeral_endpoint(eda::Transport::ipc, "down-then-up");
  eda::RpcClient client(context, {.endpoint = endpoint, .timeout = 100ms, .attempts = 2});

  try {
    (void)client.call("Echo", "anyone?");
    FAIL("expected RpcTimeout");
  } catch (const eda::RpcTimeout& e) {
    CHECK_THAT(e.what(), Catch::Contains(endpoint));
    CHECK_THAT(e.what(), Catch::Contains("2 attempt(s)"));
  }
  CHECK(client.reconnects() == 2);

  ServerThread server(context, endpoint);
  CHECK(client.call("Echo", "back?") == "back?");
}

TEST_CASE("a server that stops mid-run turns into a timeout, not a hang", "[rpc]") {
  zmq::context_t context;
  const std::string endpoint = eda::ephemeral_endpoint(eda::Transport::ipc, "stops");
  eda::RpcClient client(context, {.endpoint = endpoint, .timeout = 100ms, .attempts = 3});
  {
    ServerThread server(context, endpoint);
    CHECK(client.call("Echo", "1") == "1");
  }
  CHECK_THROWS_AS(client.call("Echo", "2"), eda::RpcTimeout);
  ServerThread again(context, endpoint);
  CHECK(client.call("Echo", "3") == "3");
}

TEST_CASE("bad RPC options are refused with a clear message", "[rpc]") {
  zmq::context_t context;
  CHECK_THROWS_WITH(eda::RpcClient(context, {.endpoint = "localhost:5555"}),
                    Catch::Contains("must start with"));
  CHECK_THROWS_AS(eda::RpcClient(context, {.endpoint = "tcp://127.0.0.1:5555", .attempts = 0}),
                  std::invalid_argument);
  CHECK_THROWS_WITH(eda::RpcServer(context, {}), Catch::Contains("at least one endpoint"));
}

namespace {

/// Counts SIGUSR1 deliveries; installed without SA_RESTART, like any handler that means "stop".
std::atomic<int> signals_seen{0};
void count_signal(int) { signals_seen.fetch_add(1); }

/// Sends SIGUSR1 to the thread that made it, every 50 ms, until finished() or 10 s: the first
/// signal may arrive before that thread is waiting, so it goes on until the wait has ended.
class Interrupter {
 public:
  Interrupter() : target_(pthread_self()) {
    struct sigaction action {};
    action.sa_handler = count_signal;
    sigemptyset(&action.sa_mask);
    REQUIRE(sigaction(SIGUSR1, &action, &previous_) == 0);
    thread_ = std::thread([this] {
      for (int i = 0; i < 200 && !finished_.load(); ++i) {
        std::this_thread::sleep_for(50ms);
        if (!finished_.load()) pthread_kill(target_, SIGUSR1);
      }
    });
  }
  ~Interrupter() {
    finished();
    sigaction(SIGUSR1, &previous_, nullptr);
  }
  Interrupter(const Interrupter&) = delete;
  Interrupter& operator=(const Interrupter&) = delete;

  /// Stops signalling (the wait under test has ended).
  void finished() {
    finished_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  pthread_t target_;
  struct sigaction previous_ {};
  std::atomic<bool> finished_{false};
  std::thread thread_;
};

/// A bound ROUTER socket that takes requests and never answers, and its endpoint.
struct SilentServer {
  explicit SilentServer(zmq::context_t& context) : socket(context, zmq::socket_type::router) {
    socket.set(zmq::sockopt::linger, 0);
    socket.bind("tcp://127.0.0.1:*");
    endpoint = socket.get(zmq::sockopt::last_endpoint);
  }
  zmq::socket_t socket;  ///< The server's socket.
  std::string endpoint;  ///< Where clients connect.
};

}  // namespace

TEST_CASE("a signal ends a call at once, without sending the request again", "[rpc][signal]") {
  zmq::context_t context;
  SilentServer silent(context);  // only a resend could make it see a second request
  eda::RpcClient client(context, {.endpoint = silent.endpoint, .timeout = 20s, .attempts = 3});
  const int signals_before = signals_seen.load();
  std::string failure;
  {
    Interrupter interrupter;
    try {
      (void)client.call("Echo", "hello");
    } catch (const eda::RpcTimeout& e) {
      failure = e.what();
    }
  }
  CHECK(signals_seen.load() > signals_before);
  CHECK_THAT(failure, Catch::Contains("interrupted by a signal"));
  std::size_t requests = 0;
  std::vector<zmq::message_t> frames;
  while (requests < 10 && eda::wait_readable(silent.socket, 200ms)) {
    (void)eda::receive_frames(silent.socket, frames, 8);
    ++requests;
  }
  CHECK(requests == 1);
  CHECK(client.reconnects() == 1);  // a fresh socket, ready for the next call
}

TEST_CASE("a signal ends poll_within as a timeout would, with nothing marked ready",
          "[wire][signal]") {
  zmq::context_t context;
  SilentServer silent(context);
  zmq::pollitem_t items[] = {{silent.socket.handle(), 0, ZMQ_POLLIN, ZMQ_POLLIN}};
  const int signals_before = signals_seen.load();
  int ready = -1;
  {
    Interrupter interrupter;
    ready = eda::poll_within(items, 20s);  // nothing ever arrives: only a signal ends it early
  }
  CHECK(signals_seen.load() > signals_before);
  CHECK(ready == 0);
  CHECK(items[0].revents == 0);
}
