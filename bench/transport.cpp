// bench-transport: the ceiling every pattern is judged against — raw cppzmq with no envelope or
// codec — and beside each measurement the same through the shared kit, so the kit's overhead
// is a ratio read off one run.
//
// BM_Transport_Raw_PubSub / BM_Transport_Kit_PubSub: one-way throughput, one publisher thread,
//   one subscriber thread, payloads of 64 B and 1 KiB, over inproc, ipc and tcp loopback. One
//   iteration = a batch of messages published and all of them received. The kit's messages are
//   whole events (topic frame + envelope with the payload), decoded on arrival.
//   BM_Transport_Raw_PubSubTwoFrames sends raw messages in two frames (a topic, then the
//   payload); BM_Transport_Raw_PubSubKitBytes sends, in one frame, the very bytes the kit sends
//   for one event (encoded once), so the kit's ratio to raw splits into what its larger
//   messages cost libzmq and what its per-event work costs.
// BM_Transport_Raw_ReqRep / BM_Transport_Kit_Rpc: round-trip latency of one request
//   (`p50_us`/`p99_us` per round trip; bytes/s counts request and reply).
// BM_Transport_Raw_DealerRouter / BM_Transport_Kit_RpcPipelined: pipelined request throughput,
//   a DEALER keeping 100 requests in flight, against a raw ROUTER echo and the kit's RpcServer.
#include <benchmark/benchmark.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "eda/clock.hpp"
#include "eda/endpoint.hpp"
#include "eda/latency.hpp"
#include "eda/pubsub.hpp"
#include "eda/rpc.hpp"
#include "eda/wire.hpp"
#include "latency_counters.hpp"

namespace {

using namespace std::chrono_literals;

constexpr std::int64_t batch = 10'000;
constexpr int high_water_mark = 1'000'000;  // above any batch: nothing here may be dropped

/// A payload of a given size, for the kit's events.
struct Blob {
  static constexpr std::string_view event_type = "bench.blob";
  static constexpr std::uint32_t schema_version = 1;
  std::string bytes;
  MSGPACK_DEFINE(bytes)
};

eda::Transport transport_of(std::int64_t arg) {
  return arg == 0 ? eda::Transport::inproc : arg == 1 ? eda::Transport::ipc : eda::Transport::tcp;
}

/// Waits until `received` reaches `target` (bounded: a lost message ends the run with an error).
bool wait_for(const std::atomic<std::int64_t>& received, std::int64_t target) {
  const eda::Deadline deadline(30s);
  while (received.load(std::memory_order_acquire) < target) {
    if (deadline.expired()) return false;
    std::this_thread::yield();
  }
  return true;
}

void report(benchmark::State& state, std::size_t bytes) {
  state.SetItemsProcessed(state.iterations() * batch);
  state.SetBytesProcessed(state.iterations() * batch * static_cast<std::int64_t>(bytes));
}

/// Raw PUB/SUB throughput; `frames` 2 sends each message as a topic frame then the payload,
/// as the kit does (its SUB filtering reads the first frame), so the kit's price for that frame
/// can be told apart from its envelope's and codec's. `body` is what each message carries:
/// `bytes` of filler, or (KitBytes) one event record as the kit encodes it.
void raw_pub_sub(benchmark::State& state, int frames, const std::string& body) {
  const auto size = static_cast<std::size_t>(state.range(0));
  zmq::context_t context;
  // XPUB rather than PUB only to see the subscription arrive (same send path as PUB).
  zmq::socket_t pub(context, zmq::socket_type::xpub);
  pub.set(zmq::sockopt::sndhwm, high_water_mark);
  pub.set(zmq::sockopt::linger, 0);
  const std::string endpoint =
      eda::bind_endpoint(pub, eda::ephemeral_endpoint(transport_of(state.range(1)), "raw"));
  std::atomic<std::int64_t> received{0};
  std::atomic<bool> stop{false};
  std::thread subscriber([&] {
    zmq::socket_t sub(context, zmq::socket_type::sub);
    sub.set(zmq::sockopt::rcvhwm, high_water_mark);
    sub.set(zmq::sockopt::rcvtimeo, 100);
    sub.set(zmq::sockopt::subscribe, "");
    sub.connect(endpoint);
    zmq::message_t message;
    while (!stop.load()) {
      if (sub.recv(message) && !message.more()) received.fetch_add(1, std::memory_order_release);
    }
  });
  // Wait for the subscription to arrive: messages sent before it would be dropped.
  pub.set(zmq::sockopt::rcvtimeo, 10'000);
  zmq::message_t subscription;
  if (!pub.recv(subscription)) {
    state.SkipWithError("the subscriber did not subscribe within 10 s");
  }
  const std::string topic(Blob::event_type);
  std::int64_t target = 0;
  for (auto _ : state) {
    for (std::int64_t i = 0; i < batch; ++i) {
      if (frames == 2) (void)pub.send(zmq::buffer(topic), zmq::send_flags::sndmore);
      (void)pub.send(zmq::buffer(body), zmq::send_flags::none);
    }
    target += batch;
    if (!wait_for(received, target)) {
      state.SkipWithError("messages were lost");
      break;
    }
  }
  stop = true;
  subscriber.join();
  report(state, size);
}

/// `bytes` of filler.
std::string filler(const benchmark::State& state) {
  return std::string(static_cast<std::size_t>(state.range(0)), 'x');
}

void BM_Transport_Raw_PubSub(benchmark::State& state) { raw_pub_sub(state, 1, filler(state)); }

void BM_Transport_Raw_PubSubTwoFrames(benchmark::State& state) {
  raw_pub_sub(state, 2, filler(state));
}

/// Raw libzmq sending, in one frame, the bytes the kit sends for one event of a `bytes` payload
/// (its record: type, envelope, payload; encoded once, before timing). Beside
/// BM_Transport_Raw_PubSub it prices the kit's larger messages; beside BM_Transport_Kit_PubSub,
/// what the kit does per event besides sending them (ids, clock, encoding, decoding, checks).
void BM_Transport_Raw_PubSubKitBytes(benchmark::State& state) {
  const Blob blob{filler(state)};
  const std::string record = eda::encode_event(eda::make_event("bench", blob));
  state.counters["message_bytes"] = static_cast<double>(record.size());
  raw_pub_sub(state, 1, record);
}

void BM_Transport_Kit_PubSub(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  zmq::context_t context;
  eda::Publisher publisher(
      context, {.source = "bench",
                .endpoints = {eda::ephemeral_endpoint(transport_of(state.range(1)), "kit")},
                .send_high_water_mark = high_water_mark});
  std::atomic<std::int64_t> received{0};
  std::atomic<bool> stop{false};
  std::atomic<bool> joined{false};
  std::thread subscriber([&] {
    eda::Subscriber inbox(
        context, {.endpoints = publisher.endpoints(), .receive_high_water_mark = high_water_mark});
    joined = inbox.await_handshake(10s);
    while (!stop.load()) {
      if (auto delivery = inbox.receive(100ms)) {
        benchmark::DoNotOptimize(delivery->event.payload_as<Blob>());
        received.fetch_add(1, std::memory_order_release);
      }
    }
  });
  (void)publisher.wait_for_subscribers(1, 10s);
  const Blob blob{std::string(size, 'x')};
  std::int64_t target = 0;
  for (auto _ : state) {
    for (std::int64_t i = 0; i < batch; ++i) {
      (void)publisher.publish(blob);
    }
    target += batch;
    if (!wait_for(received, target)) {
      state.SkipWithError("events were lost");
      break;
    }
  }
  stop = true;
  subscriber.join();
  report(state, size);
}

/// items/s = round trips/s; bytes/s counts the request and the reply; p50/p99 per round trip.
void report_round_trips(benchmark::State& state, const eda::LatencyRecorder& round_trip) {
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * 2 * state.range(0));
  eda::bench::set_latency_counters(state, round_trip);
}

void BM_Transport_Raw_ReqRep(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  zmq::context_t context;
  zmq::socket_t rep(context, zmq::socket_type::rep);
  rep.set(zmq::sockopt::linger, 0);
  rep.set(zmq::sockopt::rcvtimeo, 100);
  const std::string endpoint =
      eda::bind_endpoint(rep, eda::ephemeral_endpoint(transport_of(state.range(1)), "raw-rep"));
  std::atomic<bool> stop{false};
  std::thread server([&] {
    zmq::message_t request;
    while (!stop.load()) {
      if (rep.recv(request)) (void)rep.send(request, zmq::send_flags::none);
    }
  });
  zmq::socket_t req(context, zmq::socket_type::req);
  req.set(zmq::sockopt::linger, 0);
  req.connect(endpoint);
  const std::string body(size, 'x');
  zmq::message_t reply;
  eda::LatencyRecorder round_trip;
  for (auto _ : state) {
    const std::int64_t start = eda::monotonic_ns();
    (void)req.send(zmq::buffer(body), zmq::send_flags::none);
    (void)req.recv(reply);
    round_trip.record(eda::monotonic_ns() - start);
  }
  stop = true;
  server.join();
  report_round_trips(state, round_trip);
}

void BM_Transport_Kit_Rpc(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  zmq::context_t context;
  eda::RpcServer server(
      context, {.endpoints = {eda::ephemeral_endpoint(transport_of(state.range(1)), "kit-rpc")}});
  server.handle("Echo", [](std::string_view body) { return std::string(body); });
  std::atomic<bool> stop{false};
  std::thread serving([&] { server.serve_while([&] { return !stop.load(); }, 100ms); });
  eda::RpcClient client(context, {.endpoint = server.endpoints().front()});
  const std::string body(size, 'x');
  eda::LatencyRecorder round_trip;
  for (auto _ : state) {
    const std::int64_t start = eda::monotonic_ns();
    benchmark::DoNotOptimize(client.call("Echo", body));
    round_trip.record(eda::monotonic_ns() - start);
  }
  stop = true;
  serving.join();
  report_round_trips(state, round_trip);
}

constexpr std::int64_t window = 100;  // requests a pipelining client keeps in flight

/// Sends `batch` requests from a DEALER with at most `window` in flight, reading the replies
/// as they come; `request` sends one request's frames. False if a reply did not come in time.
template <class SendRequest>
bool pipeline_batch(zmq::socket_t& dealer, const SendRequest& request) {
  std::int64_t sent = 0;
  std::int64_t answered = 0;
  std::vector<zmq::message_t> reply;
  while (answered < batch) {
    while (sent < batch && sent - answered < window) {
      request();
      ++sent;
    }
    if (eda::receive_frames(dealer, reply, 4) == 0) return false;  // rcvtimeo passed
    ++answered;
  }
  return true;
}

/// A DEALER client for the pipelined benchmarks, connected to `endpoint`.
zmq::socket_t pipelining_client(zmq::context_t& context, const std::string& endpoint) {
  zmq::socket_t dealer(context, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 0);
  dealer.set(zmq::sockopt::rcvtimeo, 10'000);
  dealer.connect(endpoint);
  return dealer;
}

void BM_Transport_Raw_DealerRouter(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  zmq::context_t context;
  zmq::socket_t router(context, zmq::socket_type::router);
  router.set(zmq::sockopt::linger, 0);
  router.set(zmq::sockopt::rcvtimeo, 100);
  const std::string endpoint = eda::bind_endpoint(
      router, eda::ephemeral_endpoint(transport_of(state.range(1)), "raw-router"));
  std::atomic<bool> stop{false};
  std::thread server([&] {  // echoes every request: [client id, body] back as it came
    std::vector<zmq::message_t> frames;
    while (!stop.load()) {
      if (eda::receive_frames(router, frames, 2) != 2) continue;
      (void)router.send(frames[0], zmq::send_flags::sndmore);
      (void)router.send(frames[1], zmq::send_flags::none);
    }
  });
  zmq::socket_t dealer = pipelining_client(context, endpoint);
  const std::string body(size, 'x');
  for (auto _ : state) {
    if (!pipeline_batch(dealer,
                        [&] { (void)dealer.send(zmq::buffer(body), zmq::send_flags::none); })) {
      state.SkipWithError("a reply did not come within 10 s");
      break;
    }
  }
  stop = true;
  server.join();
  report(state, size);
}

/// The kit's RpcServer answering a DEALER that speaks its framing (an empty delimiter, as a REQ
/// socket sends, then method and body): the server's own cost per request, without a round
/// trip's wait in it.
void BM_Transport_Kit_RpcPipelined(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  zmq::context_t context;
  eda::RpcServer server(
      context,
      {.endpoints = {eda::ephemeral_endpoint(transport_of(state.range(1)), "kit-rpc-pipelined")}});
  server.handle("Echo", [](std::string_view body) { return std::string(body); });
  std::atomic<bool> stop{false};
  std::thread serving([&] { server.serve_while([&] { return !stop.load(); }, 100ms); });
  zmq::socket_t dealer = pipelining_client(context, server.endpoints().front());
  const std::string body(size, 'x');
  const std::string method = "Echo";
  for (auto _ : state) {
    const bool answered = pipeline_batch(dealer, [&] {
      (void)dealer.send(zmq::message_t(), zmq::send_flags::sndmore);
      (void)dealer.send(zmq::buffer(method), zmq::send_flags::sndmore);
      (void)dealer.send(zmq::buffer(body), zmq::send_flags::none);
    });
    if (!answered) {
      state.SkipWithError("a reply did not come within 10 s");
      break;
    }
  }
  stop = true;
  serving.join();
  report(state, size);
}

void sizes_and_transports(benchmark::internal::Benchmark* b) {
  b->ArgNames({"bytes", "transport"});  // transport: 0 inproc, 1 ipc, 2 tcp
  for (const int transport : {0, 1, 2}) {
    for (const int bytes : {64, 1024}) b->Args({bytes, transport});
  }
  b->UseRealTime();
}

}  // namespace

BENCHMARK(BM_Transport_Raw_PubSub)->Apply(sizes_and_transports)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Transport_Raw_PubSubTwoFrames)
    ->Apply(sizes_and_transports)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Transport_Raw_PubSubKitBytes)
    ->Apply(sizes_and_transports)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Transport_Kit_PubSub)->Apply(sizes_and_transports)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Transport_Raw_ReqRep)->Apply(sizes_and_transports)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Transport_Kit_Rpc)->Apply(sizes_and_transports)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Transport_Raw_DealerRouter)
    ->Apply(sizes_and_transports)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Transport_Kit_RpcPipelined)
    ->Apply(sizes_and_transports)
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
