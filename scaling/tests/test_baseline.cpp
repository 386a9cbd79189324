// The synchronous baseline: a pool of Billing servers called round-robin charges every event
// once and in order (one call at a time); a declined charge comes back as an error; a server
// that is down makes the caller wait for its timeout and fail.
#include <memory>
#include <thread>

#include <catch2/catch.hpp>

#include "eda/scaling/baseline/billing_pool.hpp"
#include "scaling_test_support.hpp"

using namespace eda::scaling;
using namespace eda::scaling::baseline;
using namespace std::chrono_literals;
using scaling_test::Shop;

namespace {

/// A Billing server serving on a thread of its own.
struct RunningServer {
  RunningServer(zmq::context_t& context, const Shop& shop, const std::string& name)
      : server(context,
               BillingServerOptions{.name = name, .gateway_path = shop.gateway_file.path()}),
        thread([this](const std::stop_token& stop) { server.serve(stop); }) {}
  BillingServer server;
  std::jthread thread;
};

}  // namespace

TEST_CASE("baseline: a pool called round-robin charges every event once and in order",
          "[scaling][baseline]") {
  Shop shop;
  zmq::context_t context;
  std::vector<std::unique_ptr<RunningServer>> servers;
  std::vector<std::string> endpoints;
  for (int i = 0; i < 3; ++i) {
    servers.push_back(
        std::make_unique<RunningServer>(context, shop, "server-" + std::to_string(i)));
    endpoints.push_back(servers.back()->server.endpoint());
  }
  BillingPool pool(context, endpoints);
  for (std::uint64_t n = 1; n <= 100; ++n) {
    const std::string id = "order-" + std::to_string(n);
    CHECK(pool.charge(OrderPlaced{id, 1, 1000}) == BillingOutcome::charged);
    CHECK(pool.charge(OrderAmended{id, 2, 1200}) == BillingOutcome::charged);
    CHECK(pool.charge(OrderCancelled{id, 3}) == BillingOutcome::charged);
  }
  auto gateway = shop.gateway();
  CHECK(gateway.charges() == 300);
  CHECK(gateway.double_charges() == 0);
  CHECK(gateway.order_violations() == 0);
  CHECK(gateway.charges_by("server") == 300);
  for (const auto& running : servers) {
    running->thread.request_stop();  // stopped before their counters are read
    running->thread.join();
    CHECK(running->server.stats().served == 100);  // in turn
  }
}

TEST_CASE("baseline: a declined charge comes back to the caller as an error",
          "[scaling][baseline]") {
  Shop shop;
  zmq::context_t context;
  RunningServer server(context, shop, "server");
  BillingPool pool(context, {server.server.endpoint()});
  CHECK_THROWS_AS(pool.charge(OrderAmended{"order-1", 2, -10}), eda::RpcError);
  CHECK(pool.charge(OrderPlaced{"order-2", 1, 10}) == BillingOutcome::charged);  // goes on
  CHECK(shop.gateway().charges() == 1);
}

TEST_CASE("baseline: a server that is down makes the caller time out", "[scaling][baseline]") {
  Shop shop;
  zmq::context_t context;
  std::string endpoint;
  {
    BillingServer gone(context, BillingServerOptions{.gateway_path = shop.gateway_file.path()});
    endpoint = gone.endpoint();
  }  // closed: nobody answers there now
  BillingPool pool(context, {endpoint}, 100ms, 1);
  CHECK_THROWS_AS(pool.charge(OrderPlaced{"order-1", 1, 10}), eda::RpcTimeout);
  CHECK(shop.gateway().charges() == 0);
}
