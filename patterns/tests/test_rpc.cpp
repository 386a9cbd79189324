// RPC, the baselines' transport: normal calls, error replies, bad requests, and a client that
// survives its server being down and recovers when it comes back.
#include <atomic>
#include <thread>

#include <catch2/catch.hpp>

#include "eda/endpoint.hpp"
#include "eda/rpc.hpp"
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
