// Heartbeats and peer watching: a peer that stops answering is noticed and its connection
// closed, by a subscriber (the publisher froze) and by a publisher (a subscriber froze).
//
// A frozen peer is played by a plain TCP socket that completes the ZMTP handshake and then
// never reads or writes again, exactly what a process stopped with SIGSTOP looks like from the
// other end: its kernel keeps the connection up, its libzmq answers nothing. (The same with
// real processes and SIGSTOP: state-transfer/tests/heartbeat_test.sh.)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "eda/clock.hpp"
#include "eda/heartbeat.hpp"
#include "eda/peer_watch.hpp"
#include "eda/pubsub.hpp"
#include "raw_tcp.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;

using eda::test::Descriptor;
using eda::test::receive_handshake;
using eda::test::send_all;
using eda::test::zmtp_greeting;
using eda::test::zmtp_ready;

namespace {

/// A heartbeat fast enough for a test: a frozen peer is closed within about half a second.
constexpr eda::Heartbeat quick_heartbeat{100ms, 400ms, 400ms};

/// A loopback TCP "publisher" that accepts one connection, says hello as a ZMTP PUB socket,
/// and from then on does nothing at all.
class FrozenPublisher {
 public:
  FrozenPublisher() : listener_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listener_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(listener_.get(), 4) == 0);
    socklen_t size = sizeof address;
    REQUIRE(::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&address), &size) == 0);
    endpoint_ = "tcp://127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  }

  [[nodiscard]] const std::string& endpoint() const noexcept { return endpoint_; }

  /// Accepts the next connection (waits for it) and completes the ZMTP handshake's writing
  /// side; what the other end sends is left unread in the kernel, like a stopped process.
  void accept_and_freeze() {
    connections_.push_back(
        std::make_unique<Descriptor>(::accept(listener_.get(), nullptr, nullptr)));
    send_all(connections_.back()->get(), zmtp_greeting() + zmtp_ready("PUB"));
  }

 private:
  Descriptor listener_;
  std::string endpoint_;
  std::vector<std::unique_ptr<Descriptor>> connections_;
};

/// Connects to a publisher's tcp endpoint as a ZMTP SUB socket, subscribes to everything, and
/// from then on reads nothing.
class FrozenSubscriber {
 public:
  explicit FrozenSubscriber(const std::string& endpoint) : connection_(endpoint) {
    connection_.send(zmtp_greeting() + zmtp_ready("SUB"));
    receive_handshake(connection_.fd());
    // A one-frame message: 0x01 = subscribe, and an empty topic = everything.
    connection_.send(std::string{'\0', '\x01', '\x01'});
  }

 private:
  eda::test::RawConnection connection_;
};

/// Reads the watch until `enough(status)` holds, at most `timeout`; the status seen last.
template <class Enough>
eda::PeerStatus watch_until(eda::Publisher& publisher, Enough enough,
                            std::chrono::milliseconds timeout) {
  const eda::Deadline deadline(timeout);
  while (!enough(publisher.peers()) && !deadline.expired()) {
    (void)publisher.serve(20ms);
  }
  return publisher.peers();
}

}  // namespace

TEST_CASE("bad heartbeat settings are refused with a clear message", "[heartbeat]") {
  CHECK_NOTHROW(eda::validate_heartbeat(eda::Heartbeat{}, "test"));
  CHECK_NOTHROW(eda::validate_heartbeat(eda::Heartbeat::off(), "test"));
  CHECK_THROWS_WITH(
      eda::validate_heartbeat({-1ms, 100ms, 100ms}, "publisher 'x'"),
      Catch::Contains("publisher 'x'") && Catch::Contains("interval must be positive"));
  CHECK_THROWS_WITH(eda::validate_heartbeat({500ms, 100ms, 100ms}, "test"),
                    Catch::Contains("timeout (100 ms) must be at least the interval (500 ms)"));
  CHECK_THROWS_WITH(eda::validate_heartbeat({100ms, 100ms, std::chrono::hours(2)}, "test"),
                    Catch::Contains("time_to_live"));
  zmq::context_t context;
  CHECK_THROWS_AS(eda::Subscriber(context, {.endpoints = {"inproc://nowhere"},
                                            .heartbeat = {100ms, 10ms, 0ms}}),
                  std::invalid_argument);
}

TEST_CASE("a publisher that stops answering heartbeats is noticed and its connection closed",
          "[heartbeat]") {
  zmq::context_t context;
  FrozenPublisher frozen;
  eda::Subscriber watched(context,
                          {.endpoints = {frozen.endpoint()}, .heartbeat = quick_heartbeat});
  eda::Subscriber unwatched(context,
                            {.endpoints = {frozen.endpoint()}, .heartbeat = eda::Heartbeat::off()});
  frozen.accept_and_freeze();
  frozen.accept_and_freeze();

  // Both complete the handshake; then only the one that sends heartbeats notices the silence.
  const eda::Deadline deadline(30s);
  while (watched.peers().disconnects == 0 && !deadline.expired()) {
    (void)watched.receive(50ms);
  }
  const eda::PeerStatus status = watched.peers();
  CHECK(status.handshakes >= 1);
  CHECK(status.disconnects >= 1);
  CHECK(status.last_change_ns > 0);
  // Without heartbeats nothing tells a frozen peer from a quiet one: the connection stays.
  CHECK(unwatched.peers().handshakes == 1);
  CHECK(unwatched.peers().disconnects == 0);
  CHECK(unwatched.peers().open == 1);
  CHECK(watched.stats().delivered == 0);
}

TEST_CASE("a subscriber that stops reading and answering is cut off, the publisher never blocks",
          "[heartbeat]") {
  zmq::context_t context;
  eda::Publisher publisher(context, {.source = "order-service",
                                     .endpoints = {"tcp://127.0.0.1:*"},
                                     .send_high_water_mark = 1000,
                                     .heartbeat = quick_heartbeat});
  FrozenSubscriber frozen(publisher.endpoints().front());
  REQUIRE(watch_until(
              publisher, [](const eda::PeerStatus& s) { return s.handshakes >= 1; }, 30s)
              .handshakes == 1);

  // Publishing goes on at full speed: past the kernel's buffers and the high-water mark the
  // frozen subscriber's copies are dropped, never waited for.
  for (std::uint64_t id = 1; id <= 50'000; ++id) {
    (void)publisher.publish(eda::test::sample_order(id));
  }
  CHECK(publisher.last_sequence() == 50'000);

  const eda::PeerStatus status = watch_until(
      publisher, [](const eda::PeerStatus& s) { return s.disconnects >= 1; }, 30s);
  CHECK(status.disconnects == 1);
  CHECK(status.open == 0);  // its queue went with it
}

TEST_CASE("a peer watch counts connections opened, completed, refused and closed", "[heartbeat]") {
  zmq::context_t context;
  eda::Publisher publisher(context,
                           {.source = "order-service", .endpoints = {"tcp://127.0.0.1:*"}});
  {
    eda::Subscriber subscriber(context, {.endpoints = publisher.endpoints()});
    REQUIRE(eda::test::handshake(publisher, subscriber));
    const auto opened = watch_until(
        publisher, [](const eda::PeerStatus& s) { return s.handshakes >= 1; }, 30s);
    CHECK(opened.open == 1);
    CHECK(opened.handshakes == 1);
    CHECK(opened.disconnects == 0);
  }
  // A peer asking for a security mechanism the publisher does not run is refused, then closed.
  {
    const eda::test::RawConnection stranger(publisher.endpoints().front());
    stranger.send(zmtp_greeting("PLAIN"));
    const auto refused = watch_until(
        publisher, [](const eda::PeerStatus& s) { return s.refused >= 1 && s.disconnects >= 2; },
        30s);
    CHECK(refused.refused == 1);
    CHECK(refused.last_refusal.kind == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL);
    CHECK(refused.last_refusal.value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH);
  }
  const auto closed = watch_until(
      publisher, [](const eda::PeerStatus& s) { return s.open == 0; }, 30s);
  CHECK(closed.open == 0);
  CHECK(closed.handshakes == 1);
  CHECK(closed.disconnects == 2);
}
