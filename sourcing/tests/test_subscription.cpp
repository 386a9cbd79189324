// Catch-up subscriptions: woken by the store's ZeroMQ notification, not by polling; causes,
// starting positions, batches. The history/live seam (no gap, no duplicate while writers keep
// appending) is part of the store contract (store_contract.inc), run on every store.
#include <thread>

#include <catch2/catch.hpp>

#include "eda/clock.hpp"
#include "eda/sourcing/memory_store.hpp"
#include "eda/sourcing/subscription.hpp"
#include "subscription_fixture.hpp"

using namespace std::chrono_literals;
using namespace eda::sourcing;
using eda::sourcing::test::append_ticks;
using eda::sourcing::test::connect;
using eda::sourcing::test::Tick;

TEST_CASE("a caught-up subscription is woken by the append notification, not by polling",
          "[subscription]") {
  zmq::context_t context;
  InMemoryEventStore inner;
  NotifyingEventStore store(inner, context, "tcp://127.0.0.1:*");
  append_ticks(store, 1, 3);
  // Polling would take an hour: only the notification can deliver in time.
  CatchUpSubscription follow(store, context,
                             {.notifications = store.endpoint(), .fallback_poll = 1h});
  REQUIRE(connect(store, follow));
  for (int i = 0; i < 3; ++i) REQUIRE(follow.next(1s));
  CHECK_FALSE(follow.next(10ms));

  std::jthread writer([&] { append_ticks(store, 4, 1); });
  const auto event = follow.next(20s);
  REQUIRE(event);
  CHECK(event->position == 4);
  writer.join();

  // A group commit (what the store service does) is announced too.
  std::jthread group([&] {
    std::vector<AppendRequest> requests;
    for (std::uint64_t n = 5; n <= 6; ++n) {
      requests.push_back({"ticks",
                          ExpectedVersion::any(),
                          {EventData::of(eda::make_metadata<Tick>("clock"), Tick{n})}});
    }
    (void)store.append_all(requests);
  });
  const auto grouped = follow.next(20s);
  REQUIRE(grouped);
  CHECK(grouped->position == 5);
}

TEST_CASE("a follow-up is caused by the notification that announced its position",
          "[subscription]") {
  zmq::context_t context;
  InMemoryEventStore inner;
  NotifyingEventStore store(inner, context, "inproc://store-notifications-causes");
  CatchUpSubscription follow(store, context,
                             {.notifications = store.endpoint(), .fallback_poll = 1h});
  eda::Subscriber witness(context, {.endpoints = {store.endpoint()}, .name = "witness"});
  const eda::Deadline joining(10s);
  bool joined = false;
  while (!joined && !joining.expired()) {
    store.serve(5ms);
    joined = witness.await_handshake(5ms) && follow.await_notifications(5ms);
  }
  REQUIRE(joined);
  CHECK(follow.cause_of(1).causation_id.empty());  // nothing announced yet: a new chain

  append_ticks(store, 1, 3);  // three appends, three announcements (positions 1, 2, 3)
  CHECK(store.announcements() == 3);
  std::vector<eda::EventMetadata> announced;
  while (announced.size() < 3) {
    const auto delivery = witness.receive(10s);
    REQUIRE(delivery);
    announced.push_back(delivery->event.meta());
  }
  for (std::uint64_t position = 1; position <= 3; ++position) {
    REQUIRE(follow.next(1s));
    const eda::Cause cause = follow.cause_of(position);
    CHECK(cause.causation_id == announced[position - 1].event_id);
    CHECK_FALSE(cause.correlation_id.empty());
  }
  CHECK(follow.cause_of(4).causation_id.empty());  // not announced (yet)

  // A reader a moment ahead of the news waits (bounded) for the announcement.
  std::jthread writer([&] { append_ticks(store, 4, 1); });
  const auto delivery = witness.receive(10s);
  REQUIRE(delivery);
  CHECK(follow.cause_of(4, 10s).causation_id == delivery->event.meta().event_id);
  CHECK(follow.cause_of(5, 20ms).causation_id.empty());  // nothing came: a new chain
}

TEST_CASE("a subscription starts where it is told, and polls when there are no notifications",
          "[subscription]") {
  zmq::context_t context;
  InMemoryEventStore store;
  append_ticks(store, 1, 10);
  CatchUpSubscription follow(store, context, {.from_position = 8, .fallback_poll = 5ms});
  CHECK(follow.await_notifications(0ms));
  CHECK(follow.next(1s)->position == 8);
  CHECK(follow.next(1s)->position == 9);
  CHECK(follow.next(1s)->position == 10);
  CHECK_FALSE(follow.next(20ms));
  append_ticks(store, 11, 1);
  CHECK(follow.next(5s)->position == 11);
  CHECK_THROWS_AS(CatchUpSubscription(store, context, {.batch = 0}), std::invalid_argument);
}

TEST_CASE("next_batch hands over what one read returned, and waits only for the first event",
          "[subscription]") {
  zmq::context_t context;
  InMemoryEventStore store;
  append_ticks(store, 1, 25);
  CatchUpSubscription follow(store, context, {.batch = 10, .fallback_poll = 5ms});
  const auto positions = [](const std::vector<RecordedEvent>& events) {
    std::vector<std::uint64_t> out;
    out.reserve(events.size());
    for (const RecordedEvent& e : events) out.push_back(e.position);
    return out;
  };
  CHECK(positions(follow.next_batch(4, 1s)) == std::vector<std::uint64_t>{1, 2, 3, 4});
  CHECK(positions(follow.next_batch(100, 1s)) == std::vector<std::uint64_t>{5, 6, 7, 8, 9, 10});
  CHECK(follow.next_batch(100, 1s).size() == 10);  // the next read
  CHECK(positions(follow.next_batch(100, 1s)) == std::vector<std::uint64_t>{21, 22, 23, 24, 25});
  CHECK(follow.next_batch(100, 20ms).empty());
  CHECK(follow.next_batch(0, 20ms).empty());
  append_ticks(store, 26, 1);
  CHECK(positions(follow.next_batch(100, 5s)) == std::vector<std::uint64_t>{26});
}
