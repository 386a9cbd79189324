// The command side over ZeroMQ: accepted commands answer with the position to wait for,
// rejections and conflicts are answers (not failures), bad requests never stop the service.

#include <atomic>
#include <thread>

#include <catch2/catch.hpp>

#include "eda/cqrs/command_service.hpp"
#include "eda/endpoint.hpp"
#include "shop_fixture.hpp"

using namespace eda::cqrs;
using namespace eda::cqrs::test;
using namespace eda::sourcing;
using namespace std::chrono_literals;

namespace {

/// A store whose appends always lose the race: every writer "got there first".
class AlwaysConflicting final : public ForwardingEventStore {
 public:
  using ForwardingEventStore::ForwardingEventStore;
  AppendResult append(std::string_view stream, const ExpectedVersion& expected,
                      std::span<const EventData>) override {
    ++attempts;
    throw ConcurrencyConflict(std::string(stream), expected, 99);
  }
  std::atomic<int> attempts{0};
};

/// A command service answering on its own thread until destroyed.
class ServiceThread {
 public:
  ServiceThread(zmq::context_t& context, EventStore& store, int max_attempts = 3)
      : service_(context, store,
                 {.endpoints = {eda::ephemeral_endpoint(eda::Transport::inproc, "commands")},
                  .repository = {.max_attempts = max_attempts}}) {
    thread_ = std::thread([this] { service_.serve_while([this] { return !stop_.load(); }, 10ms); });
  }
  ~ServiceThread() {
    stop_ = true;
    thread_.join();
  }
  ServiceThread(const ServiceThread&) = delete;
  ServiceThread& operator=(const ServiceThread&) = delete;
  [[nodiscard]] const std::string& endpoint() const { return service_.endpoints().front(); }

 private:
  CommandService service_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace

TEST_CASE("an accepted command answers with the order's version and the position to wait for",
          "[command-service]") {
  zmq::context_t context;
  InMemoryEventStore store;
  ServiceThread service(context, store);
  CommandClient commands(context, {.endpoint = service.endpoint()});

  const CommandAccepted placed = commands.execute(7, PlaceOrder{"alice"});
  CHECK(placed.order_id == 7);
  CHECK(placed.version == 1);
  CHECK(placed.position == 1);
  CHECK(placed.events == std::vector<std::string>{"shop.order.placed"});
  CHECK(placed.attempts == 1);

  commands.execute(8, PlaceOrder{"bob"});
  const CommandAccepted added = commands.execute(7, AddItem{"widget", 2, 1250});
  CHECK(added.version == 2);
  CHECK(added.position == 3);
  commands.execute(7, RemoveItem{"widget"});
  commands.execute(7, AddItem{"gadget", 1, 500});
  commands.execute(7, Pay{500});
  commands.execute(7, Ship{"courier"});
  commands.execute(8, Cancel{"no longer needed"});

  // What the service stored is what the commands asked for.
  OrderRepository orders(store);
  const LoadedOrder seven = orders.load(7);
  CHECK(seven.state.status == OrderStatus::shipped);
  CHECK(seven.state.carrier == "courier");
  CHECK(seven.state.paid_cents == 500);
  CHECK(seven.state.lines.size() == 1);
  CHECK(orders.load(8).state.status == OrderStatus::cancelled);
  CHECK(store.last_position() == 8);
}

TEST_CASE("a command the order's rules forbid is refused with the reason, and nothing is stored",
          "[command-service]") {
  zmq::context_t context;
  InMemoryEventStore store;
  ServiceThread service(context, store);
  CommandClient commands(context, {.endpoint = service.endpoint()});
  commands.execute(1, PlaceOrder{"alice"});
  try {
    commands.execute(1, Pay{100});
    FAIL("expected a refusal");
  } catch (const CommandRefused& e) {
    CHECK(e.status() == "rejected");
    CHECK(e.category() == eda::ErrorCategory::application);  // a domain rule said no
    CHECK_THAT(e.what(), Catch::Contains("empty order"));
  }
  CHECK_THROWS_WITH(commands.execute(2, Ship{"post"}), Catch::Contains("not placed"));
  CHECK(store.last_position() == 1);
  CHECK(commands.execute(1, AddItem{"widget", 1, 100}).version == 2);  // still serving
}

TEST_CASE("a command that keeps conflicting is refused as a conflict after the retries",
          "[command-service]") {
  zmq::context_t context;
  InMemoryEventStore inner;
  AlwaysConflicting store(inner);
  ServiceThread service(context, store, 3);
  CommandClient commands(context, {.endpoint = service.endpoint()});
  try {
    commands.execute(1, PlaceOrder{"alice"});
    FAIL("expected a refusal");
  } catch (const CommandRefused& e) {
    CHECK(e.status() == "conflict");
    CHECK(e.category() == eda::ErrorCategory::conflict);
    CHECK_THAT(e.what(), Catch::Contains("order-1"));
  }
  CHECK(store.attempts == 3);
}

TEST_CASE("malformed requests and unknown commands get clear errors, the service goes on",
          "[command-service]") {
  zmq::context_t context;
  InMemoryEventStore store;
  ServiceThread service(context, store);
  eda::RpcClient raw(context, {.endpoint = service.endpoint()});
  const auto status_of = [&](std::string_view method, std::string_view body) {
    try {
      (void)raw.call(method, body);
      return std::string("ok");
    } catch (const eda::RpcError& e) {
      return e.status();
    }
  };
  CHECK(status_of("PlaceOrder", "\xc1") == "bad_request");                 // not MessagePack
  CHECK(status_of("PlaceOrder", eda::encode_value(42)) == "bad_request");  // wrong shape
  CHECK(status_of("AddItem", eda::encode_value(std::tuple{1, "widget"})) == "bad_request");
  CHECK(status_of("Refund", eda::encode_value(std::tuple{1, 100})) == "unknown_method");
  CHECK(store.last_position() == 0);

  CommandClient commands(context, {.endpoint = service.endpoint()});
  CHECK(commands.execute(1, PlaceOrder{"alice"}).position == 1);
}

TEST_CASE("a command client whose service is down times out once, without a retry",
          "[command-service]") {
  zmq::context_t context;
  CommandClient commands(context,
                         {.endpoint = "tcp://127.0.0.1:1", .timeout = 100ms, .attempts = 5});
  CHECK_THROWS_AS(commands.execute(1, PlaceOrder{"alice"}), eda::RpcTimeout);
}
