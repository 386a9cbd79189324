// The read side as a service: read-your-writes with consistency tokens, tokens that cannot
// be reached, waiting queries that do not block others, and bad requests.

#include <atomic>
#include <functional>
#include <future>
#include <thread>
#include <tuple>

#include <catch2/catch.hpp>

#include "eda/cqrs/command_service.hpp"
#include "eda/cqrs/projector.hpp"
#include "eda/cqrs/query_service.hpp"
#include "eda/codec.hpp"
#include "eda/endpoint.hpp"
#include "eda/wire.hpp"
#include "eda/sourcing/subscription.hpp"
#include "raw_tcp.hpp"
#include "shop_fixture.hpp"

using namespace eda::cqrs;
using namespace eda::cqrs::test;
using namespace eda::sourcing;
using namespace std::chrono_literals;

namespace {

/// Runs `loop(keep_going)` on its own thread until destroyed.
class Background {
 public:
  explicit Background(std::function<void(const std::function<bool()>&)> loop)
      : thread_([this, loop = std::move(loop)] { loop([this] { return !stop_.load(); }); }) {}
  ~Background() {
    stop_ = true;
    thread_.join();
  }
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::string inproc(const char* name) {
  return eda::ephemeral_endpoint(eda::Transport::inproc, name);
}

/// The whole CQRS shop in one process: a store with notifications, the command service, a
/// projector into a read-model file, and the query service woken by the projector.
struct ShopServices {
  explicit ShopServices(bool run_projector = true,
                        eda::Transport transport = eda::Transport::inproc)
      : notifying(store, context, eda::ephemeral_endpoint(transport, "appended")),
        commands_service(context, notifying,
                         {.endpoints = {eda::ephemeral_endpoint(transport, "commands")}}),
        read({.path = read_file.path()}),
        projector(notifying, read, context,
                  {.store_notifications = notifying.endpoint(),
                   .announce = {eda::ephemeral_endpoint(transport, "advanced")}}),
        queries_service(context, read,
                        {.endpoints = {eda::ephemeral_endpoint(transport, "queries")},
                         .projector = *projector.announce_endpoint()}) {
    command_loop.emplace([this](const auto& go) { commands_service.serve_while(go, 10ms); });
    query_loop.emplace([this](const auto& go) { queries_service.serve_while(go, 10ms); });
    if (run_projector) start_projector();
  }
  void start_projector() {
    projector_loop.emplace([this](const auto& go) { projector.run_while(go, 10ms); });
  }

  zmq::context_t context;
  InMemoryEventStore store;
  NotifyingEventStore notifying;
  CommandService commands_service;
  TempDatabase read_file;
  ReadModels read;
  Projector projector;
  QueryService queries_service;
  std::optional<Background> command_loop, query_loop, projector_loop;
};

}  // namespace

TEST_CASE("read-your-writes: a query carrying a command's position never returns older data",
          "[query-service]") {
  ShopServices shop;
  CommandClient commands(shop.context, {.endpoint = shop.commands_service.endpoints().front()});
  QueryClient queries(shop.context, {.endpoint = shop.queries_service.endpoints().front()});

  for (std::uint64_t order = 1; order <= 30; ++order) {
    const CommandAccepted placed = commands.execute(order, PlaceOrder{"alice"});
    const auto mine =
        queries.customer_orders("alice", {.min_position = placed.position, .wait = 10s});
    CHECK(mine.position >= placed.position);
    REQUIRE(mine.rows.size() == order);  // the order just placed is there, every time
    CHECK(mine.rows.back().order_id == order);

    commands.execute(order, AddItem{"widget", 2, 100});
    const CommandAccepted paid = commands.execute(order, Pay{200});
    const auto waiting =
        queries.awaiting_shipment(100, {.min_position = paid.position, .wait = 10s});
    REQUIRE(waiting.rows.size() == order);
    CHECK(waiting.rows.back().order_id == order);
    const auto sales = queries.sales_by_day("2000-01-01", "2999-12-31", {paid.position, 10s});
    std::uint64_t widgets = 0;
    for (const ProductDaySales& day : sales.rows) widgets += day.quantity;
    CHECK(widgets == 2 * order);
  }
}

TEST_CASE("a token the read model cannot reach times out with a clear error, the service goes on",
          "[query-service]") {
  ShopServices shop(/*run_projector=*/false);  // nobody projects: the read model stays at 0
  CommandClient commands(shop.context, {.endpoint = shop.commands_service.endpoints().front()});
  QueryClient queries(shop.context, {.endpoint = shop.queries_service.endpoints().front()});
  const CommandAccepted placed = commands.execute(1, PlaceOrder{"alice"});

  CHECK_THROWS_WITH(
      queries.customer_orders("alice", {.min_position = placed.position, .wait = 200ms}),
      Catch::Contains("position 0") && Catch::Contains("not 1") && Catch::Contains("projector"));
  CHECK_THROWS_AS(queries.awaiting_shipment(5, {.min_position = placed.position}),
                  ConsistencyTimeout);
  try {
    (void)queries.awaiting_shipment(5, {.min_position = placed.position, .wait = 50ms});
    FAIL("the read model was not expected to reach the token");
  } catch (const eda::Error& e) {
    CHECK(e.category() == eda::ErrorCategory::timeout);
  }

  // Without a token the answer comes at once, and says how stale it is.
  const auto now = queries.customer_orders("alice");
  CHECK(now.position == 0);
  CHECK(now.rows.empty());

  // Once the projector runs, the same token is reached.
  shop.start_projector();
  const auto later =
      queries.customer_orders("alice", {.min_position = placed.position, .wait = 10s});
  CHECK(later.position >= 1);
  CHECK(later.rows.size() == 1);
}

TEST_CASE("a query waiting for its token does not hold up the others", "[query-service]") {
  // Everything but the clients runs on this thread, one step at a time.
  zmq::context_t context;
  InMemoryEventStore store;
  OrderRepository(store).execute(1, PlaceOrder{"alice"});
  TempDatabase read_file;
  ReadModels read({.path = read_file.path()});
  QueryService service(context, read, {.endpoints = {inproc("queries")}});
  const std::string endpoint = service.endpoints().front();
  const auto serve_until = [&](const std::function<bool()>& done) {
    for (int i = 0; i < 2000 && !done(); ++i) service.serve_once(5ms);
    return done();
  };

  auto patient = std::async(std::launch::async, [&] {
    QueryClient queries(context, {.endpoint = endpoint});
    return queries.customer_orders("alice", {.min_position = 1, .wait = 60s});
  });
  REQUIRE(serve_until([&] { return service.waiting() == 1; }));

  auto others = std::async(std::launch::async, [&] {
    QueryClient queries(context, {.endpoint = endpoint});
    std::uint64_t answered = 0;
    for (int i = 0; i < 20; ++i)
      answered += queries.customer_orders("alice").position == 0 ? 1U : 0U;
    return answered;
  });
  REQUIRE(serve_until([&] { return others.wait_for(0ms) == std::future_status::ready; }));
  CHECK(others.get() == 20);      // answered at once, from position 0...
  CHECK(service.waiting() == 1);  // ...while the patient query still waits

  read.apply(store.read_all(1, 10));  // the projection reaches the token
  REQUIRE(serve_until([&] { return service.waiting() == 0; }));
  const auto answer = patient.get();
  CHECK(answer.position == 1);
  CHECK(answer.rows.size() == 1);
  CHECK(service.stats().waited == 1);
  CHECK(service.stats().answered == 21);
}

TEST_CASE("too many waiting queries are told the service is busy", "[query-service]") {
  zmq::context_t context;
  TempDatabase read_file;
  ReadModels read({.path = read_file.path()});
  QueryService service(context, read, {.endpoints = {inproc("queries")}, .max_waiting = 1});
  const std::string endpoint = service.endpoints().front();
  auto first = std::async(std::launch::async, [&] {
    QueryClient queries(context, {.endpoint = endpoint});
    return queries.awaiting_shipment(1, {.min_position = 5, .wait = 300ms});
  });
  for (int i = 0; i < 2000 && service.waiting() == 0; ++i) service.serve_once(5ms);
  REQUIRE(service.waiting() == 1);
  auto second = std::async(std::launch::async, [&] {
    QueryClient queries(context, {.endpoint = endpoint, .attempts = 1});
    try {
      (void)queries.awaiting_shipment(1, {.min_position = 5, .wait = 300ms});
      return std::string("answered");
    } catch (const eda::RpcError& e) {
      return e.status();
    }
  });
  for (int i = 0; i < 2000 && second.wait_for(0ms) != std::future_status::ready; ++i) {
    service.serve_once(5ms);
  }
  CHECK(second.get() == "busy");
  for (int i = 0; i < 2000 && first.wait_for(0ms) != std::future_status::ready; ++i) {
    service.serve_once(5ms);
  }
  CHECK_THROWS_AS(first.get(), ConsistencyTimeout);
  CHECK(service.stats().timeouts == 1);
}

TEST_CASE("one connection cannot take every waiting slot", "[query-service]") {
  zmq::context_t context;
  TempDatabase read_file;
  ReadModels read({.path = read_file.path()});
  QueryService service(
      context, read,
      {.endpoints = {inproc("queries")}, .max_waiting = 10, .max_waiting_per_client = 2});
  // A peer that sends queries without waiting for answers (a DEALER speaking REQ's envelope).
  zmq::socket_t greedy(context, zmq::socket_type::dealer);
  greedy.connect(service.endpoints().front());
  const std::string body =
      eda::encode_value(std::tuple<std::uint64_t, std::uint32_t, std::uint64_t>{5, 300, 1});
  const auto send_query = [&] {
    greedy.send(zmq::const_buffer(nullptr, 0), zmq::send_flags::sndmore);
    greedy.send(zmq::buffer(std::string_view("AwaitingShipment")), zmq::send_flags::sndmore);
    greedy.send(zmq::buffer(body), zmq::send_flags::none);
  };
  for (int i = 0; i < 3; ++i) send_query();
  for (int i = 0; i < 200 && service.waiting() < 2; ++i) service.serve_once(5ms);
  for (int i = 0; i < 10; ++i) service.serve_once(5ms);
  CHECK(service.waiting() == 2);  // the third was refused
  std::vector<zmq::message_t> reply;
  greedy.set(zmq::sockopt::rcvtimeo, 2000);
  REQUIRE(eda::receive_frames(greedy, reply, 3) == 3);  // empty delimiter, status, body
  CHECK(eda::view_of(reply[1]) == "busy");
  CHECK_THAT(std::string(eda::view_of(reply[2])), Catch::Contains("this connection"));

  // Another client still gets a slot (and its wait runs out as the token is never reached).
  auto other = std::async(std::launch::async, [&] {
    QueryClient queries(context, {.endpoint = service.endpoints().front(), .attempts = 1});
    return queries.awaiting_shipment(1, {.min_position = 5, .wait = 100ms});
  });
  for (int i = 0; i < 2000 && other.wait_for(0ms) != std::future_status::ready; ++i)
    service.serve_once(5ms);
  CHECK_THROWS_AS(other.get(), ConsistencyTimeout);
  // The greedy peer's two time out as well, and leave no count behind: it may park again.
  for (int i = 0; i < 2000 && service.waiting() > 0; ++i) service.serve_once(5ms);
  CHECK(service.waiting() == 0);
  for (int i = 0; i < 2; ++i) REQUIRE(eda::receive_frames(greedy, reply, 3) == 3);
  send_query();
  send_query();
  for (int i = 0; i < 200 && service.waiting() < 2; ++i) service.serve_once(5ms);
  CHECK(service.waiting() == 2);
}

TEST_CASE("bad queries get clear errors and the service goes on", "[query-service]") {
  ShopServices shop;
  QueryClient queries(shop.context, {.endpoint = shop.queries_service.endpoints().front()});
  CHECK_THROWS_WITH(queries.sales_by_day("2026-02-30", "2026-03-01"),
                    Catch::Contains("2026-02-30") && Catch::Contains("YYYY-MM-DD"));
  CHECK_THROWS_AS(queries.sales_by_day("2026-02-01", "March"), std::invalid_argument);

  eda::RpcClient raw(shop.context, {.endpoint = shop.queries_service.endpoints().front()});
  const auto status_of = [&](std::string_view method, std::string_view body) {
    try {
      (void)raw.call(method, body);
      return std::string("ok");
    } catch (const eda::RpcError& e) {
      return e.status();
    }
  };
  CHECK(status_of("CustomerOrders", "\xc1") == "bad_request");
  CHECK(status_of("CustomerOrders", eda::encode_value(std::tuple{1, 2})) == "bad_request");
  CHECK(status_of("TopCustomers", eda::encode_value(std::tuple{0, 0, 10})) == "unknown_method");
  CHECK(status_of("AwaitingShipment", eda::encode_value(std::tuple{0, 0, 10})) == "ok");
  CHECK(queries.awaiting_shipment(10).rows.empty());
}

TEST_CASE("the projector's announcement is caused by the store's: the hop is the projection lag",
          "[query-service]") {
  ShopServices shop(/*run_projector=*/false);
  eda::Subscriber appended(shop.context,
                           {.endpoints = {shop.notifying.endpoint()}, .name = "witness"});
  eda::Subscriber advanced(shop.context,
                           {.endpoints = {*shop.projector.announce_endpoint()}, .name = "witness"});
  const eda::Deadline joining(10s);
  bool joined = false;
  while (!joined && !joining.expired()) {  // the store's publisher answers while served
    shop.notifying.serve(5ms);
    joined = appended.await_handshake(5ms) && shop.projector.await_notifications(5ms);
  }
  REQUIRE(joined);
  shop.start_projector();  // from here on its thread serves its announcer
  REQUIRE(advanced.await_handshake(10s));

  CommandClient commands(shop.context, {.endpoint = shop.commands_service.endpoints().front()});
  for (std::uint64_t order = 1; order <= 3; ++order) {
    const CommandAccepted placed = commands.execute(order, PlaceOrder{"alice"});
    const auto store_said = appended.receive(10s);
    const auto projector_said = advanced.receive(10s);
    REQUIRE(store_said);
    REQUIRE(projector_said);
    CHECK(store_said->event.payload_as<EventsAppended>().last_position == placed.position);
    CHECK(projector_said->event.payload_as<ProjectionAdvanced>().position == placed.position);
    const eda::EventMetadata& cause = store_said->event.meta();
    const eda::EventMetadata& effect = projector_said->event.meta();
    CHECK(effect.causation_id == cause.event_id);
    CHECK(effect.correlation_id ==
          (cause.correlation_id.empty() ? cause.event_id : cause.correlation_id));
  }
}

TEST_CASE("over CURVE, an allow-listed client is answered, a stranger gets nothing",
          "[query-service][security]") {
  const eda::test::CurveTestKeys keys;
  zmq::context_t context;
  eda::ZapHandler zap(context, keys.allowed());
  TempDatabase read_file;
  ReadModels read({.path = read_file.path()});
  QueryService service(context, read,
                       {.endpoints = {"tcp://127.0.0.1:*"}, .security = keys.server_side(zap)});
  {
    Background serving([&](const auto& go) { service.serve_while(go, 10ms); });
    QueryClient trusted(
        context,
        {.endpoint = service.endpoints().front(), .timeout = 5s, .security = keys.client_side()});
    const auto answer = trusted.awaiting_shipment(10);
    CHECK(answer.rows.empty());
    CHECK(answer.position == 0);

    QueryClient outsider(context, {.endpoint = service.endpoints().front(),
                                   .timeout = 300ms,
                                   .attempts = 1,
                                   .security = keys.stranger_side()});
    CHECK_THROWS_AS(outsider.awaiting_shipment(10), eda::RpcTimeout);
  }
  CHECK(zap.stats().denied >= 1);
  CHECK(service.stats().answered == 1);
}

TEST_CASE("hostile bytes on every CQRS port drop that peer, commands and queries go on",
          "[query-service][hostile]") {
  using eda::test::Hostility;
  ShopServices shop(/*run_projector=*/true, eda::Transport::tcp);
  for (const Hostility how : {Hostility::garbage, Hostility::oversized_message}) {
    INFO("hostility " << static_cast<int>(how));
    CHECK(eda::test::hostile_peer_is_dropped(shop.commands_service.endpoints().front(), how,
                                             "DEALER"));
    CHECK(eda::test::hostile_peer_is_dropped(shop.queries_service.endpoints().front(), how,
                                             "DEALER"));
    CHECK(eda::test::hostile_peer_is_dropped(shop.notifying.endpoint(), how, "SUB"));
    CHECK(eda::test::hostile_peer_is_dropped(*shop.projector.announce_endpoint(), how, "SUB"));
  }
  CommandClient commands(shop.context,
                         {.endpoint = shop.commands_service.endpoints().front(), .timeout = 5s});
  QueryClient queries(shop.context,
                      {.endpoint = shop.queries_service.endpoints().front(), .timeout = 5s});
  const CommandAccepted placed = commands.execute(1, PlaceOrder{"alice"});
  const auto mine =
      queries.customer_orders("alice", {.min_position = placed.position, .wait = 10s});
  REQUIRE(mine.rows.size() == 1);
  CHECK(mine.rows.front().order_id == 1);
}
