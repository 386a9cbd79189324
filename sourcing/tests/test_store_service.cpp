// The store as a service: a RemoteEventStore behaves like the store it reaches (the same
// contract), conflicts and bad input come back typed, many concurrent writers are committed
// in groups, and garbage on the socket gets an answer without hurting the service.
#include <atomic>
#include <semaphore>
#include <set>
#include <thread>

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include "eda/clock.hpp"
#include "eda/sourcing/memory_store.hpp"
#include "eda/sourcing/sqlite_store.hpp"
#include "eda/sourcing/store_service.hpp"
#include "eda/sourcing/subscription.hpp"
#include "eda/rpc.hpp"
#include "eda/wire.hpp"
#include "raw_tcp.hpp"
#include "store_fixture.hpp"

using namespace std::chrono_literals;
using namespace eda::sourcing;

namespace {

struct Note {
  static constexpr std::string_view event_type = "test.note";
  static constexpr std::uint32_t schema_version = 1;
  std::string text;
  MSGPACK_DEFINE(text)
};

EventData note(std::string text) {
  return EventData::of(eda::make_metadata<Note>("writer"), Note{std::move(text)});
}

/// A StoreService over `store`, serving on its own thread until destroyed. When `store` is a
/// NotifyingEventStore, the thread also answers its subscribers' handshakes.
class ServiceThread {
 public:
  ServiceThread(zmq::context_t& context, EventStore& store,
                NotifyingEventStore* notifications = nullptr, eda::Security security = {})
      : service_(context, store,
                 {.endpoints = {"tcp://127.0.0.1:*"}, .security = std::move(security)}),
        thread_([this, notifications](const std::stop_token& stop) {
          while (!stop.stop_requested()) {
            (void)service_.serve_once(5ms);
            if (notifications != nullptr) notifications->serve(0ms);
          }
        }) {}
  [[nodiscard]] const std::string& endpoint() const { return service_.endpoints().front(); }
  /// Stops serving; the counters may be read afterwards.
  const StoreServiceStats& stop() {
    thread_.request_stop();
    if (thread_.joinable()) thread_.join();
    return service_.stats();
  }

 private:
  StoreService service_;
  std::jthread thread_;
};

/// A store whose first group commit waits until the test lets it finish: meanwhile more
/// appends pile up at the service.
class HeldFirstCommit final : public ForwardingEventStore {
 public:
  using ForwardingEventStore::ForwardingEventStore;
  std::vector<AppendOutcome> append_all(std::span<const AppendRequest> requests) override {
    if (!first_done_) {
      first_done_ = true;
      entered_.release();
      released_.acquire();
    }
    return ForwardingEventStore::append_all(requests);
  }
  void await_first_commit() { entered_.acquire(); }
  void release_first_commit() { released_.release(); }

 private:
  bool first_done_ = false;  // only the service thread calls append_all
  std::binary_semaphore entered_{0};
  std::binary_semaphore released_{0};
};

/// A raw REQ client sending one Append of one note to `stream` (over inproc, the request is
/// in the service's queue as soon as send returns).
zmq::socket_t send_append(zmq::context_t& context, const std::string& endpoint,
                          const std::string& stream) {
  zmq::socket_t socket(context, zmq::socket_type::req);
  socket.set(zmq::sockopt::linger, 0);
  socket.set(zmq::sockopt::rcvtimeo, 10'000);
  socket.connect(endpoint);
  const EventData event = note(stream);
  const std::string body = eda::encode_value(
      AppendBody{stream, 0, 0, {WireEvent{event.event_id, event.type, event.envelope}}});
  socket.send(zmq::str_buffer("Append"), zmq::send_flags::sndmore);
  socket.send(zmq::buffer(body), zmq::send_flags::none);
  return socket;
}

}  // namespace

TEST_CASE(
    "appends that arrive while a commit is running are committed together in the next "
    "one, each answered after it",
    "[service]") {
  zmq::context_t context;
  InMemoryEventStore memory;
  HeldFirstCommit held(memory);
  StoreService service(context, held, {.endpoints = {"inproc://group-commit-test"}});
  std::jthread serving([&](const std::stop_token& stop) {
    while (!stop.stop_requested()) (void)service.serve_once(5ms);
  });
  std::vector<zmq::socket_t> clients;
  clients.push_back(send_append(context, service.endpoints().front(), "first"));
  held.await_first_commit();  // the service is inside the first commit
  for (int i = 0; i < 7; ++i) {
    clients.push_back(
        send_append(context, service.endpoints().front(), "later-" + std::to_string(i)));
  }
  held.release_first_commit();
  for (zmq::socket_t& client : clients) {
    std::vector<zmq::message_t> reply;
    REQUIRE(eda::receive_frames(client, reply, 2) == 2);
    CHECK(eda::view_of(reply[0]) == "ok");
  }
  serving.request_stop();
  serving.join();
  CHECK(service.stats().appends == 8);
  CHECK(service.stats().groups == 2);  // the first alone, the seven that waited together
  CHECK(memory.last_position() == 8);
}

TEST_CASE("a remote store appends, reads and snapshots like the store behind it", "[service]") {
  zmq::context_t context;
  test::TempDatabase file;
  SqliteEventStore local({.path = file.path(), .durability = Durability::normal});
  ServiceThread service(context, local);
  RemoteEventStore remote(context, {.endpoint = service.endpoint(), .timeout = 5s});

  const std::vector<EventData> batch{note("one"), note("two")};
  const AppendResult a = remote.append("notes", ExpectedVersion::no_stream(), batch);
  CHECK(a.last_version == 2);
  CHECK(a.last_position == 2);
  const AppendResult retry = remote.append("notes", ExpectedVersion::no_stream(), batch);
  CHECK(retry.already_stored);
  CHECK(retry.last_position == 2);
  CHECK(remote.stream_version("notes") == 2);
  CHECK(remote.last_position() == 2);
  const auto events = remote.read_stream("notes", 1, 10, Direction::forward);
  REQUIRE(events.size() == 2);
  CHECK(events[1].event.payload_as<Note>().text == "two");
  CHECK(remote.read_stream("notes", 0, 1, Direction::backward)[0].version == 2);
  CHECK(remote.read_all(2, 10).size() == 1);
  CHECK_FALSE(remote.load_snapshot("notes"));
  remote.save_snapshot("notes", Snapshot{2, 1, "state"});
  CHECK(remote.load_snapshot("notes")->state == "state");
  CHECK(local.load_snapshot("notes")->version == 2);  // it really is the same store

  try {
    remote.append("notes", ExpectedVersion::exactly(1), std::vector{note("late")});
    FAIL("no conflict");
  } catch (const ConcurrencyConflict& conflict) {
    CHECK(conflict.actual_version() == 2);
    CHECK(conflict.stream() == "notes");
  }
  CHECK_THROWS_AS(remote.append("other", ExpectedVersion::any(), std::vector{batch[0]}),
                  std::invalid_argument);  // the ids are stored elsewhere: refused by the store
  CHECK(local.last_position() == 2);
}

TEST_CASE("many concurrent writers through the service: everything stored once, in groups",
          "[service]") {
  zmq::context_t context;
  test::TempDatabase file;
  SqliteEventStore local({.path = file.path()});  // durable: synchronous=FULL
  ServiceThread service(context, local);
  constexpr int writers = 8;
  constexpr int appends_each = 40;
  {
    std::vector<std::jthread> threads;
    for (int w = 0; w < writers; ++w) {
      threads.emplace_back([&, w] {
        RemoteEventStore remote(context, {.endpoint = service.endpoint(), .timeout = 10s});
        for (int n = 0; n < appends_each; ++n) {
          remote.append("writer-" + std::to_string(w), ExpectedVersion::any(),
                        std::vector{note(std::to_string(w) + "/" + std::to_string(n))});
        }
      });
    }
  }
  const StoreServiceStats stats = service.stop();
  CHECK(stats.appends == writers * appends_each);
  INFO("commits: " << stats.groups << " for " << stats.appends << " appends");
  CHECK(stats.groups <= stats.appends);
  const auto all = local.read_all(1, 100'000);
  REQUIRE(all.size() == writers * appends_each);
  std::set<std::string> texts;
  for (std::size_t i = 0; i < all.size(); ++i) {
    CHECK(all[i].position == i + 1);
    texts.insert(all[i].event.payload_as<Note>().text);
  }
  CHECK(texts.size() == writers * appends_each);
  for (int w = 0; w < writers; ++w) {
    CHECK(local.stream_version("writer-" + std::to_string(w)) == appends_each);
  }
}

TEST_CASE(
    "a reader elsewhere follows the service: woken by its notifications, every event "
    "once, in order",
    "[service][subscription]") {
  zmq::context_t context;
  test::TempDatabase file;
  SqliteEventStore local({.path = file.path(), .durability = Durability::normal});
  NotifyingEventStore notifying(local, context, "tcp://127.0.0.1:*");
  ServiceThread service(context, notifying, &notifying);
  local.append("early", ExpectedVersion::no_stream(), std::vector{note("history")});

  RemoteEventStore reader_side(context, {.endpoint = service.endpoint(), .timeout = 5s});
  // The fallback poll is far longer than any wait below: only a notification can wake it.
  CatchUpSubscription follow(reader_side, context,
                             {.notifications = notifying.endpoint(), .fallback_poll = 60s});
  REQUIRE(follow.await_notifications(5s));
  auto first = follow.next(5s);
  REQUIRE(first);
  CHECK(first->event.payload_as<Note>().text == "history");
  CHECK_FALSE(follow.next(0ms));  // caught up

  // The writer appends while the reader is asleep in next(): each event must wake it, well
  // before its 5 s wait (and the 60 s fallback poll) would end.
  constexpr int appends = 20;
  std::atomic<int> delivered{0};
  std::jthread writer([&] {
    RemoteEventStore writer_side(context, {.endpoint = service.endpoint(), .timeout = 5s});
    const eda::Deadline give_up(10s);  // bounds the writer when the reader has failed
    for (int n = 0; n < appends && !give_up.expired(); ++n) {
      while (delivered.load() < n && !give_up.expired()) std::this_thread::sleep_for(5ms);
      std::this_thread::sleep_for(20ms);  // let the reader fall asleep (not needed for correctness)
      writer_side.append("live", ExpectedVersion::any(), std::vector{note(std::to_string(n))});
    }
  });
  for (int n = 0; n < appends; ++n) {
    const auto event = follow.next(5s);
    REQUIRE(event);
    CHECK(event->position == static_cast<std::uint64_t>(n) + 2);
    CHECK(event->event.payload_as<Note>().text == std::to_string(n));
    ++delivered;
  }
}

TEST_CASE(
    "corrupt data reaches a remote reader as CorruptEvent naming the stream and "
    "position, whether it rotted in the store or on the wire",
    "[service]") {
  zmq::context_t context;
  test::TempDatabase file;
  SqliteEventStore local({.path = file.path(), .durability = Durability::normal});
  local.append("notes", ExpectedVersion::no_stream(), std::vector{note("good"), note("will rot")});
  {
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(file.path().c_str(), &raw) == SQLITE_OK);
    REQUIRE(sqlite3_exec(raw, "UPDATE events SET envelope = x'c1c1' WHERE position = 2", nullptr,
                         nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(raw);
  }
  ServiceThread service(context, local);
  RemoteEventStore remote(context, {.endpoint = service.endpoint(), .timeout = 5s});
  CHECK_THROWS_AS(remote.read_all(1, 10), CorruptEvent);
  CHECK_THROWS_WITH(remote.read_stream("notes", 1, 10, Direction::forward),
                    Catch::Contains("position 2") && Catch::Contains("notes"));
  CHECK(remote.read_all(1, 1).size() == 1);  // the service goes on; good data still reads

  // A server (or a network) that sends a well-formed reply holding a bad envelope.
  eda::RpcServer liar(context, {.endpoints = {"tcp://127.0.0.1:*"}});
  liar.handle("ReadAll", [](std::string_view) {
    return eda::encode_value(std::vector{WireRecord{"orders-9", 3, 41, "\xc1 not an envelope"}});
  });
  std::jthread lying([&](const std::stop_token& stop) {
    liar.serve_while([&] { return !stop.stop_requested(); }, 5ms);
  });
  RemoteEventStore misled(context, {.endpoint = liar.endpoints().front(), .timeout = 5s});
  CHECK_THROWS_WITH(misled.read_all(1, 10),
                    Catch::Contains("position 41") && Catch::Contains("orders-9"));
}

TEST_CASE("garbage sent to the store service gets an error reply, the service goes on",
          "[service]") {
  zmq::context_t context;
  InMemoryEventStore local;
  ServiceThread service(context, local);
  zmq::socket_t raw(context, zmq::socket_type::req);
  raw.set(zmq::sockopt::rcvtimeo, 10'000);
  raw.set(zmq::sockopt::linger, 0);
  raw.connect(service.endpoint());
  const auto ask = [&](const std::vector<std::string>& frames) {
    for (std::size_t i = 0; i < frames.size(); ++i) {
      raw.send(zmq::buffer(frames[i]),
               i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }
    std::vector<zmq::message_t> reply;
    REQUIRE(eda::receive_frames(raw, reply, 2) == 2);
    return std::string(eda::view_of(reply[0]));
  };
  CHECK(ask({"Append", "\xc1\xc1"}) == "bad_request");
  CHECK(ask({"Explode", ""}) == "bad_request");
  CHECK(ask({"Append"}) == "bad_request");
  CHECK(ask({"ReadAll", eda::encode_value(ReadAllBody{1, 10})}) == "ok");
  RemoteEventStore remote(context, {.endpoint = service.endpoint(), .timeout = 5s});
  CHECK(remote.append("s", ExpectedVersion::any(), std::vector{note("fine")}).last_position == 1);
  CHECK(service.stop().bad_requests == 3);
}

/// A store whose group commit throws once instead of reporting failures as values.
class ThrowingOnce final : public ForwardingEventStore {
 public:
  using ForwardingEventStore::ForwardingEventStore;
  std::vector<AppendOutcome> append_all(std::span<const AppendRequest> requests) override {
    if (!thrown_) {
      thrown_ = true;  // only the service thread calls append_all
      throw std::runtime_error("the disk caught fire");
    }
    return ForwardingEventStore::append_all(requests);
  }

 private:
  bool thrown_ = false;
};

TEST_CASE(
    "a store whose group commit throws: each writer of the group gets the error, the service "
    "goes on",
    "[service]") {
  zmq::context_t context;
  InMemoryEventStore memory;
  ThrowingOnce local(memory);
  ServiceThread service(context, local);
  RemoteEventStore remote(context, {.endpoint = service.endpoint(), .timeout = 5s});
  try {
    (void)remote.append("s", ExpectedVersion::any(), std::vector{note("burnt")});
    FAIL("the append should have failed");
  } catch (const eda::RpcError& e) {
    CHECK(e.status() == "error");
    CHECK_THAT(e.body(), Catch::Contains("the disk caught fire"));
  }
  CHECK(remote.append("s", ExpectedVersion::any(), std::vector{note("fine")}).last_position == 1);
  CHECK(service.stop().appends == 2);
}

TEST_CASE(
    "over CURVE, an allow-listed writer is served, a stranger gets no answer and stores "
    "nothing",
    "[service][security]") {
  const eda::test::CurveTestKeys keys;
  zmq::context_t context;
  eda::ZapHandler zap(context, keys.allowed());
  InMemoryEventStore inner;
  ServiceThread service(context, inner, nullptr, keys.server_side(zap));

  RemoteEventStore trusted(
      context, {.endpoint = service.endpoint(), .timeout = 5s, .security = keys.client_side()});
  const AppendResult stored =
      trusted.append("notes", ExpectedVersion::no_stream(), std::vector{note("hello")});
  CHECK(stored.last_position == 1);
  CHECK(trusted.read_stream("notes", 1, 10, Direction::forward).size() == 1);

  RemoteEventStore outsider(context, {.endpoint = service.endpoint(),
                                      .timeout = 300ms,
                                      .attempts = 1,
                                      .security = keys.stranger_side()});
  CHECK_THROWS_AS(outsider.append("notes", ExpectedVersion::any(), std::vector{note("intruder")}),
                  eda::RpcTimeout);
  CHECK(zap.stats().denied >= 1);
  CHECK(inner.last_position() == 1);  // nothing of the stranger's was stored
  CHECK(service.stop().appends == 1);
}

TEST_CASE(
    "hostile bytes on the store service's and the notifications' ports drop that peer, "
    "the next writer is served and its append announced",
    "[service][hostile]") {
  using eda::test::Hostility;
  zmq::context_t context;
  InMemoryEventStore inner;
  NotifyingEventStore notifying(inner, context, "tcp://127.0.0.1:*");
  ServiceThread service(context, notifying, &notifying);
  for (const Hostility how : {Hostility::garbage, Hostility::oversized_message}) {
    INFO("hostility " << static_cast<int>(how));
    CHECK(eda::test::hostile_peer_is_dropped(service.endpoint(), how, "DEALER"));
    CHECK(eda::test::hostile_peer_is_dropped(notifying.endpoint(), how, "SUB"));
  }
  CatchUpSubscription follow(inner, context,
                             {.notifications = notifying.endpoint(), .fallback_poll = 1h});
  REQUIRE(follow.await_notifications(10s));  // the service thread answers the handshake
  RemoteEventStore writer(context, {.endpoint = service.endpoint(), .timeout = 5s});
  CHECK(writer.append("notes", ExpectedVersion::no_stream(), std::vector{note("after")})
            .last_position == 1);
  const auto event = follow.next(10s);  // woken by the announcement, not by polling
  REQUIRE(event);
  CHECK(event->position == 1);
}
