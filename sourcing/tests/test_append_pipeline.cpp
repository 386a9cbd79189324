// Pipelined appends (AppendPipeline): many appends in flight on one connection, outcomes in
// the order the appends were sent, the window never exceeded, appends to one stream in
// flight together checked exactly, a service that does not answer reported as unknown, and
// answers that match no append dropped.
#include <atomic>
#include <map>
#include <thread>

#include <catch2/catch.hpp>

#include "eda/clock.hpp"
#include "eda/sourcing/append_pipeline.hpp"
#include "eda/sourcing/memory_store.hpp"
#include "eda/sourcing/store_service.hpp"
#include "eda/wire.hpp"
#include "store_fixture.hpp"

using namespace std::chrono_literals;
using namespace eda::sourcing;

namespace {

struct Line {
  static constexpr std::string_view event_type = "test.line";
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t number = 0;
  MSGPACK_DEFINE(number)
};

std::vector<EventData> line(std::uint64_t number) {
  return {EventData::of(eda::make_metadata<Line>("pipeline-test"), Line{number})};
}

/// Every outcome the pipeline delivered, in delivery order.
struct Outcomes {
  std::vector<PipelinedOutcome> seen;
  AppendPipeline::OutcomeHandler handler() {
    return [this](const PipelinedOutcome& o) { seen.push_back(o); };
  }
};

/// A StoreService serving `store` on `endpoint` from its own thread until destroyed.
class Serving {
 public:
  Serving(zmq::context_t& context, EventStore& store, std::string endpoint,
          std::size_t max_group = 256)
      : service_(context, store, {.endpoints = {std::move(endpoint)}, .max_group = max_group}),
        thread_([this](const std::stop_token& stop) {
          while (!stop.stop_requested()) (void)service_.serve_once(5ms);
        }) {}
  [[nodiscard]] const std::string& endpoint() const { return service_.endpoints().front(); }

 private:
  StoreService service_;
  std::jthread thread_;
};

}  // namespace

TEST_CASE("pipelined appends: every outcome in the order sent, the window never exceeded",
          "[service][pipeline]") {
  zmq::context_t context;
  InMemoryEventStore store;
  Serving serving(context, store, "tcp://127.0.0.1:*");
  Outcomes outcomes;
  AppendPipeline pipeline(context, {.endpoint = serving.endpoint(), .max_in_flight = 8},
                          outcomes.handler());
  constexpr std::uint64_t appends = 600;
  std::size_t most_in_flight = 0;
  for (std::uint64_t n = 1; n <= appends; ++n) {
    CHECK(pipeline.append("line-" + std::to_string(n % 3), ExpectedVersion::any(), line(n)) == n);
    most_in_flight = std::max(most_in_flight, pipeline.in_flight());
  }
  pipeline.flush();
  CHECK(most_in_flight == 8);
  CHECK(pipeline.in_flight() == 0);
  REQUIRE(outcomes.seen.size() == appends);
  std::uint64_t last_position = 0;
  for (std::uint64_t n = 1; n <= appends; ++n) {
    const PipelinedOutcome& o = outcomes.seen[n - 1];
    CHECK(o.ticket == n);
    REQUIRE(o.outcome.ok());
    // One connection's appends are committed in the order they were sent.
    CHECK(o.outcome.value().first_position > last_position);
    last_position = o.outcome.value().first_position;
  }
  CHECK(store.last_position() == appends);
  CHECK(pipeline.stats().sent == appends);
  CHECK(pipeline.stats().answered == appends);
  CHECK(pipeline.stats().unknown == 0);
  // The stored events are the ones sent, in that order.
  const auto stored = store.read_all(1, appends);
  for (std::uint64_t n = 1; n <= appends; ++n) {
    CHECK(stored[n - 1].event.payload_as<Line>().number == n);
  }
}

TEST_CASE("poll() delivers the outcomes already answered without waiting", "[service][pipeline]") {
  zmq::context_t context;
  InMemoryEventStore store;
  Serving serving(context, store, "tcp://127.0.0.1:*");
  Outcomes outcomes;
  AppendPipeline pipeline(context, {.endpoint = serving.endpoint(), .max_in_flight = 4},
                          outcomes.handler());
  (void)pipeline.append("s", ExpectedVersion::any(), line(1));
  (void)pipeline.append("s", ExpectedVersion::any(), line(2));
  const eda::Deadline limit(10s);
  std::size_t delivered = 0;
  while (delivered < 2 && !limit.expired()) {
    delivered += pipeline.poll();
    std::this_thread::sleep_for(1ms);
  }
  CHECK(delivered == 2);
  CHECK(outcomes.seen.size() == 2);
  CHECK(pipeline.in_flight() == 0);
}

TEST_CASE(
    "two appends to one stream in flight together: each is checked against the stream the "
    "one before it left, when the first conflicts, the second does too",
    "[service][pipeline]") {
  const std::size_t max_group = GENERATE(std::size_t{1}, std::size_t{256});
  CAPTURE(max_group);  // both in one commit, or each in its own
  zmq::context_t context;
  InMemoryEventStore store;
  (void)store.append("order-1", ExpectedVersion::no_stream(), line(1));
  (void)store.append("order-1", ExpectedVersion::exactly(1), line(2));  // at version 2
  // The service is served by this thread, after both appends are sent: they are in flight
  // together.
  StoreService service(context, store,
                       {.endpoints = {"inproc://pipeline-exact"}, .max_group = max_group});
  Outcomes outcomes;
  AppendPipeline pipeline(context, {.endpoint = "inproc://pipeline-exact", .timeout = 10s},
                          outcomes.handler());
  const auto serve_and_flush = [&] {
    const eda::Deadline limit(10s);
    while (pipeline.in_flight() > 0 && !limit.expired()) {
      (void)service.serve_once(10ms);
      (void)pipeline.poll();
    }
    REQUIRE(pipeline.in_flight() == 0);
  };

  SECTION("both expected right: both stored") {
    (void)pipeline.append("order-1", ExpectedVersion::exactly(2), line(3));
    (void)pipeline.append("order-1", ExpectedVersion::exactly(3), line(4));
    serve_and_flush();
    REQUIRE(outcomes.seen.size() == 2);
    CHECK(outcomes.seen[0].outcome.value().last_version == 3);
    CHECK(outcomes.seen[1].outcome.value().last_version == 4);
    CHECK(store.stream_version("order-1") == 4);
  }
  SECTION("the first conflicts: the second, which counted on it, conflicts too") {
    (void)pipeline.append("order-1", ExpectedVersion::exactly(5), line(3));
    (void)pipeline.append("order-1", ExpectedVersion::exactly(6), line(4));
    (void)pipeline.append("order-1", ExpectedVersion::any(), line(5));  // counts on nothing
    serve_and_flush();
    REQUIRE(outcomes.seen.size() == 3);
    for (std::size_t i = 0; i < 2; ++i) {
      const auto& failure = outcomes.seen[i].outcome.failure;
      REQUIRE(failure.has_value());
      CHECK(failure->kind == AppendFailure::Kind::conflict);
      CHECK(failure->category == eda::ErrorCategory::conflict);
      CHECK(failure->actual_version == 2);
      CHECK(failure->stream == "order-1");
      CHECK_THROWS_AS(outcomes.seen[i].outcome.value(), ConcurrencyConflict);
    }
    CHECK(outcomes.seen[2].outcome.value().last_version == 3);
    CHECK(store.stream_version("order-1") == 3);
    CHECK(
        store.read_stream("order-1", 3, 1, Direction::forward)[0].event.payload_as<Line>().number ==
        5);
  }
}

TEST_CASE("input every store refuses is refused before anything is sent", "[service][pipeline]") {
  zmq::context_t context;
  Outcomes outcomes;
  AppendPipeline pipeline(context, {.endpoint = "inproc://nobody-there"}, outcomes.handler());
  CHECK_THROWS_AS(pipeline.append("", ExpectedVersion::any(), line(1)), std::invalid_argument);
  CHECK_THROWS_AS(pipeline.append("s", ExpectedVersion::any(), {}), std::invalid_argument);
  auto twice = line(1);
  twice.push_back(twice.front());
  CHECK_THROWS_AS(pipeline.append("s", ExpectedVersion::any(), twice), std::invalid_argument);
  CHECK(pipeline.stats().sent == 0);
  CHECK(pipeline.in_flight() == 0);

  CHECK_THROWS_AS(AppendPipeline(context, {.endpoint = "tcp://127.0.0.1:1", .max_in_flight = 0},
                                 outcomes.handler()),
                  std::invalid_argument);
  CHECK_THROWS_AS(
      AppendPipeline(context, {.endpoint = "tcp://127.0.0.1:1", .max_in_flight = 10'001},
                     outcomes.handler()),
      std::invalid_argument);
  CHECK_THROWS_AS(AppendPipeline(context, {.endpoint = "tcp://127.0.0.1:1"}, {}),
                  std::invalid_argument);
  CHECK_THROWS_AS(AppendPipeline(context, {.endpoint = "no-such-transport"}, outcomes.handler()),
                  std::invalid_argument);
}

TEST_CASE(
    "a service that does not answer: every append in flight is reported unknown, and appending "
    "them again once a service answers stores each once",
    "[service][pipeline]") {
  zmq::context_t context;
  InMemoryEventStore store;
  // A ROUTER that takes the requests and never answers: a service that hangs.
  zmq::socket_t hung(context, zmq::socket_type::router);
  hung.set(zmq::sockopt::linger, 0);
  hung.bind("tcp://127.0.0.1:*");
  const std::string hung_endpoint = hung.get(zmq::sockopt::last_endpoint);
  Outcomes outcomes;
  AppendPipeline pipeline(context,
                          {.endpoint = hung_endpoint, .max_in_flight = 4, .timeout = 300ms},
                          outcomes.handler());
  std::map<std::uint64_t, std::vector<EventData>> sent;
  for (std::uint64_t n = 1; n <= 6; ++n) {
    sent[n] = line(n);
    (void)pipeline.append("s", ExpectedVersion::any(), sent[n]);  // the fifth waits for the first
  }
  pipeline.flush();
  REQUIRE(outcomes.seen.size() == 6);
  for (std::uint64_t n = 1; n <= 6; ++n) {
    const PipelinedOutcome& o = outcomes.seen[n - 1];
    CHECK(o.ticket == n);
    REQUIRE(o.outcome.failure.has_value());
    CHECK(o.outcome.failure->kind == AppendFailure::Kind::unknown);
    CHECK(o.outcome.failure->category == eda::ErrorCategory::timeout);
    CHECK_THAT(o.outcome.failure->message, Catch::Contains("may be stored or not"));
  }
  CHECK(pipeline.stats().unknown == 6);
  CHECK(pipeline.stats().reconnects == 2);  // once when the window was full, once in flush()

  // Appending again where a service answers: the unknown ones are stored, once each, and a
  // second retry finds them stored.
  Serving serving(context, store, "tcp://127.0.0.1:*");
  Outcomes retried;
  AppendPipeline again(context, {.endpoint = serving.endpoint()}, retried.handler());
  for (int round = 0; round < 2; ++round) {
    for (const auto& [n, events] : sent) (void)again.append("s", ExpectedVersion::any(), events);
  }
  again.flush();
  REQUIRE(retried.seen.size() == 12);
  for (std::size_t i = 0; i < 12; ++i) {
    REQUIRE(retried.seen[i].outcome.ok());
    CHECK(retried.seen[i].outcome.value().already_stored == (i >= 6));
  }
  CHECK(store.last_position() == 6);
}

TEST_CASE(
    "answers out of order are delivered in order, answers that match no append in flight are "
    "dropped and counted",
    "[service][pipeline]") {
  zmq::context_t context;
  zmq::socket_t server(context, zmq::socket_type::router);
  server.set(zmq::sockopt::linger, 0);
  server.set(zmq::sockopt::rcvtimeo, 10'000);
  server.bind("inproc://pipeline-disorder");
  Outcomes outcomes;
  AppendPipeline pipeline(context, {.endpoint = "inproc://pipeline-disorder", .timeout = 10s},
                          outcomes.handler());
  for (std::uint64_t n = 1; n <= 3; ++n)
    (void)pipeline.append("s", ExpectedVersion::any(), line(n));

  // The requests as the service sees them: identity, empty, tag, method, body.
  std::vector<zmq::message_t> frames;
  std::vector<std::string> tags;
  zmq::message_t identity;
  for (int i = 0; i < 3; ++i) {
    REQUIRE(eda::receive_frames(server, frames, 5) == 5);
    CHECK(eda::view_of(frames[3]) == "Append");
    tags.emplace_back(eda::view_of(frames[2]));
    identity = zmq::message_t(frames[0].data(), frames[0].size());
  }
  const auto answer = [&](std::string_view tag, std::uint64_t position) {
    const std::string body = eda::encode_value(AppendReply{1, 1, position, position, false});
    server.send(zmq::buffer(identity.data(), identity.size()), zmq::send_flags::sndmore);
    server.send(zmq::const_buffer(nullptr, 0), zmq::send_flags::sndmore);
    server.send(zmq::buffer(tag), zmq::send_flags::sndmore);
    server.send(zmq::str_buffer("ok"), zmq::send_flags::sndmore);
    server.send(zmq::buffer(body), zmq::send_flags::none);
  };
  answer(tags[2], 30);
  answer("not-a-tag", 99);             // no append's tag
  answer(std::string(8, '\x7f'), 99);  // a well-formed tag no append has
  answer(tags[0], 10);
  answer(tags[0], 11);  // the same append answered twice
  answer(tags[1], 20);
  pipeline.flush();
  REQUIRE(outcomes.seen.size() == 3);
  CHECK(outcomes.seen[0].outcome.value().first_position == 10);
  CHECK(outcomes.seen[1].outcome.value().first_position == 20);
  CHECK(outcomes.seen[2].outcome.value().first_position == 30);
  CHECK(pipeline.stats().stray_replies == 3);
  CHECK(pipeline.stats().unknown == 0);
}

TEST_CASE("a tagged request the service cannot read is refused at once, with its tag",
          "[service][pipeline]") {
  zmq::context_t context;
  InMemoryEventStore store;
  StoreService service(context, store, {.endpoints = {"inproc://pipeline-garbage"}});
  zmq::socket_t client(context, zmq::socket_type::dealer);
  client.set(zmq::sockopt::linger, 0);
  client.set(zmq::sockopt::rcvtimeo, 10'000);
  client.connect("inproc://pipeline-garbage");
  client.send(zmq::const_buffer(nullptr, 0), zmq::send_flags::sndmore);
  client.send(zmq::str_buffer("tag-1"), zmq::send_flags::sndmore);
  client.send(zmq::str_buffer("Append"), zmq::send_flags::sndmore);
  client.send(zmq::str_buffer("\xc1 not msgpack"), zmq::send_flags::none);
  (void)service.serve_once(1s);
  std::vector<zmq::message_t> frames;
  REQUIRE(eda::receive_frames(client, frames, 4) == 4);
  CHECK(frames[0].size() == 0);
  CHECK(eda::view_of(frames[1]) == "tag-1");
  CHECK(eda::view_of(frames[2]) == "bad_request");
  CHECK(service.stats().bad_requests == 1);
  CHECK(store.last_position() == 0);
}
