/// @file peers.cpp
/// @brief bench-peers: the catalogue's ZeroMQ kit against a peer broker, NATS core, on the
///        same workloads in the same run, so "how does this compare to a broker?" is answered
///        by one table rather than by two runs on two days.
///
/// Both sides run over tcp loopback, with a payload of 64 B or 1 KiB whose first 8 bytes carry
/// the send time (eda::monotonic_ns), so a receiver knows how old each message is.
///
/// BM_Peer_{Zmq,Nats}_PubSub/consumers:N/bytes:B: one publisher, N subscribers (N = 1, 2, 4),
///   each subscriber on its own connection and thread, as separate services would be. One
///   iteration = a batch of messages published and every one of them received by every
///   subscriber. items/s and bytes/s count messages published (each reaches all N);
///   `p50_us` / `p99_us` are publish-to-delivery latencies with the whole batch in flight, so
///   they include the wait behind earlier messages of the batch (a queueing latency that grows
///   with the batch; the unloaded latency is what request-reply shows). ZeroMQ: the kit's
///   eda::Publisher / eda::Subscriber (whole events: envelope, sequence check, decoding).
///   NATS: core publish/subscribe through a nats-server, no persistence (no JetStream),
///   carrying the very same envelope (eda::encode_event on publish, eda::DecodedEvent::decode
///   and payload_as on receipt), so the comparison is of transports, not of codecs.
/// BM_Peer_{Zmq,Nats}_RequestReply/bytes:B: one requester, one responder that echoes the
///   body. One iteration = one round trip; `p50_us` / `p99_us` are round-trip latencies;
///   bytes/s counts the body both ways. ZeroMQ: eda::RpcClient / eda::RpcServer. NATS:
///   natsConnection_Request to a responder on its own connection.
///
/// The NATS side needs Debian's `nats-server`: the program starts one on a free loopback port
/// (the brokers module's eda::brokers::JetStreamServer) and stops it at exit. Without it the NATS benchmarks are skipped (one line
/// says so) and the ZeroMQ ones still run. EDA_BENCH_BATCH shrinks the batch (smoke runs).
#include <benchmark/benchmark.h>
#include <nats/nats.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "eda/brokers/jetstream_server.hpp"
#include "eda/clock.hpp"
#include "eda/endpoint.hpp"
#include "eda/latency.hpp"
#include "eda/pubsub.hpp"
#include "eda/rpc.hpp"
#include "latency_counters.hpp"
#include "stamped_payload.hpp"

namespace {

using namespace std::chrono_literals;
using eda::bench::age_of;
using eda::bench::Blob;
using eda::bench::set_latency_counters;
using eda::bench::stamp;

constexpr int high_water_mark = 1'000'000;  // above any batch: nothing here may be dropped
constexpr const char* nats_subject = "bench.peers";
constexpr const char* nats_echo_subject = "bench.peers.echo";

/// Messages per pub/sub iteration: EDA_BENCH_BATCH, or 10'000 (the CTest smoke run sets less).
std::int64_t batch_size() {
  const char* text = std::getenv("EDA_BENCH_BATCH");
  const long value = text != nullptr ? std::strtol(text, nullptr, 10) : 0;
  return value > 0 ? value : 10'000;
}

// ---- The workload, the same on both sides ---------------------------------------------------

/// What one subscriber has received: a count the publisher watches, and the delivery
/// latencies (written only by the subscriber's thread, read once that thread has ended).
struct Inbox {
  std::atomic<std::int64_t> received{0};
  eda::LatencyRecorder latency;

  void deliver(std::string_view payload) {
    latency.record(age_of(payload));
    received.fetch_add(1, std::memory_order_release);
  }
};

/// Waits until every inbox has `target` messages (bounded: a lost message ends the run).
bool wait_for_all(const std::vector<Inbox>& inboxes, std::int64_t target) {
  const eda::Deadline deadline(30s);
  for (const Inbox& inbox : inboxes) {
    while (inbox.received.load(std::memory_order_acquire) < target) {
      if (deadline.expired()) return false;
      std::this_thread::yield();
    }
  }
  return true;
}

/// The measured loop of every pub/sub benchmark: per iteration, `publish` a batch of stamped
/// payloads of state.range(1) bytes, then wait until every subscriber has all of them.
template <class Publish>
void publish_batches(benchmark::State& state, const std::vector<Inbox>& inboxes, Publish publish) {
  const std::int64_t batch = batch_size();
  std::string payload(static_cast<std::size_t>(state.range(1)), 'x');
  std::int64_t target = 0;
  for (auto _ : state) {
    for (std::int64_t i = 0; i < batch; ++i) {
      stamp(payload);
      publish(payload);
    }
    target += batch;
    if (!wait_for_all(inboxes, target)) {
      state.SkipWithError("messages were lost (not every subscriber got the batch within 30 s)");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.SetBytesProcessed(state.iterations() * batch * state.range(1));
}

/// Latencies of every subscriber together; call once the subscriber threads have ended.
eda::LatencyRecorder merged(const std::vector<Inbox>& inboxes) {
  eda::LatencyRecorder all;
  for (const Inbox& inbox : inboxes) all.merge(inbox.latency);
  return all;
}

/// Runs a benchmark body, turning an exception (a failed connection, a timed-out call) into
/// an error on that benchmark instead of the end of the program.
template <class Body>
auto guarded(Body body) {
  return [body](benchmark::State& state) {
    try {
      body(state);
    } catch (const std::exception& e) {
      state.SkipWithError(e.what());
    }
  };
}

// ---- ZeroMQ, through the kit ----------------------------------------------------------------

void zmq_pubsub(benchmark::State& state) {
  const auto consumers = static_cast<std::size_t>(state.range(0));
  zmq::context_t context;
  eda::Publisher publisher(context,
                           {.source = "bench",
                            .endpoints = {eda::ephemeral_endpoint(eda::Transport::tcp, "peers")},
                            .send_high_water_mark = high_water_mark});
  std::vector<Inbox> inboxes(consumers);
  std::vector<std::jthread> subscribers;  // destroyed first: stop, then join
  for (std::size_t i = 0; i < consumers; ++i) {
    subscribers.emplace_back([&, i](const std::stop_token& stop) {
      eda::Subscriber subscriber(context, {.endpoints = publisher.endpoints(),
                                           .receive_high_water_mark = high_water_mark});
      (void)subscriber.await_handshake(10s);
      while (!stop.stop_requested()) {
        if (auto delivery = subscriber.receive(100ms)) {
          inboxes[i].deliver(delivery->event.payload_as<Blob>().bytes);
        }
      }
    });
  }
  // The handshake: once the publisher has counted every subscriber, none misses an event.
  if (!publisher.wait_for_subscribers(consumers, 10s)) {
    state.SkipWithError("the subscribers did not complete their handshake within 10 s");
  }
  Blob blob;
  publish_batches(state, inboxes, [&](const std::string& payload) {
    blob.bytes = payload;
    (void)publisher.publish(blob);
  });
  subscribers.clear();
  set_latency_counters(state, merged(inboxes));
}

void zmq_request_reply(benchmark::State& state) {
  zmq::context_t context;
  eda::RpcServer server(context,
                        {.endpoints = {eda::ephemeral_endpoint(eda::Transport::tcp, "peers-rpc")}});
  server.handle("Echo", [](std::string_view body) { return std::string(body); });
  const std::jthread serving([&](const std::stop_token& stop) {
    server.serve_while([&] { return !stop.stop_requested(); }, 100ms);
  });
  eda::RpcClient client(context, {.endpoint = server.endpoints().front()});
  const std::string body(static_cast<std::size_t>(state.range(0)), 'x');
  eda::LatencyRecorder round_trip;
  for (auto _ : state) {
    const std::int64_t start = eda::monotonic_ns();
    benchmark::DoNotOptimize(client.call("Echo", body));
    round_trip.record(eda::monotonic_ns() - start);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * 2 * state.range(0));
  set_latency_counters(state, round_trip);
}

// ---- NATS core, through the C client --------------------------------------------------------

template <auto destroy>
struct Destroy {
  template <class T>
  void operator()(T* object) const {
    destroy(object);
  }
};
using NatsOptions = std::unique_ptr<natsOptions, Destroy<natsOptions_Destroy>>;
using NatsConnection = std::unique_ptr<natsConnection, Destroy<natsConnection_Destroy>>;
using NatsSubscription = std::unique_ptr<natsSubscription, Destroy<natsSubscription_Destroy>>;
using NatsMessage = std::unique_ptr<natsMsg, Destroy<natsMsg_Destroy>>;

/// Throws std::runtime_error naming `what` when a NATS call did not succeed.
void check(natsStatus status, std::string_view what) {
  if (status != NATS_OK) {
    throw std::runtime_error("NATS: " + std::string(what) +
                             " failed: " + natsStatus_GetText(status));
  }
}

/// A connection to the server at `url` that fails fast instead of reconnecting (a benchmark
/// that lost its server is over). `send_asap` sends each publish at once instead of batching
/// them: what the client documentation advises for a connection that only sends replies.
NatsConnection connect(const std::string& url, bool send_asap = false) {
  natsOptions* raw_options = nullptr;
  check(natsOptions_Create(&raw_options), "creating connection options");
  const NatsOptions options(raw_options);
  check(natsOptions_SetURL(options.get(), url.c_str()), "setting the server URL");
  check(natsOptions_SetAllowReconnect(options.get(), false), "disabling reconnection");
  check(natsOptions_SetSendAsap(options.get(), send_asap), "setting send-asap");
  natsConnection* connection = nullptr;
  check(natsConnection_Connect(&connection, options.get()), "connecting to " + url);
  return NatsConnection(connection);
}

/// A synchronous subscription to `subject`, confirmed by the server when this returns: the
/// flush is a PING/PONG round trip, and the server handles the SUB before it answers the PING.
NatsSubscription subscribe(natsConnection* connection, const char* subject) {
  natsSubscription* subscription = nullptr;
  check(natsConnection_SubscribeSync(&subscription, connection, subject), "subscribing");
  NatsSubscription owned(subscription);
  // Queue as much as a ZeroMQ subscriber would (high_water_mark), bytes unlimited.
  check(natsSubscription_SetPendingLimits(subscription, high_water_mark, -1),
        "setting pending limits");
  check(natsConnection_Flush(connection), "flushing the subscription");
  return owned;
}

/// The next message's data, or nothing after `timeout_ms`.
std::optional<NatsMessage> next_message(natsSubscription* subscription, std::int64_t timeout_ms) {
  natsMsg* message = nullptr;
  if (natsSubscription_NextMsg(&message, subscription, timeout_ms) != NATS_OK) return std::nullopt;
  return NatsMessage(message);
}

std::string_view data_of(const natsMsg* message) {
  return {natsMsg_GetData(message), static_cast<std::size_t>(natsMsg_GetDataLength(message))};
}

void nats_pubsub(benchmark::State& state, const std::string& url) {
  const auto consumers = static_cast<std::size_t>(state.range(0));
  const NatsConnection publisher = connect(url);
  std::vector<NatsConnection> connections;
  std::vector<NatsSubscription> subscriptions;
  for (std::size_t i = 0; i < consumers; ++i) {
    connections.push_back(connect(url));
    subscriptions.push_back(subscribe(connections.back().get(), nats_subject));
  }
  std::vector<Inbox> inboxes(consumers);
  std::vector<std::jthread> subscribers;  // destroyed first: stop, then join
  for (std::size_t i = 0; i < consumers; ++i) {
    subscribers.emplace_back([&, i](const std::stop_token& stop) {
      while (!stop.stop_requested()) {
        if (const auto message = next_message(subscriptions[i].get(), 100)) {
          // The same codec as the kit's subscriber: the envelope decoded and validated, the
          // payload converted to its struct.
          const auto event = eda::DecodedEvent::decode(data_of(message->get()));
          inboxes[i].deliver(event.payload_as<Blob>().bytes);
        }
      }
    });
  }
  // The same codec as the kit's publisher: a new event id, a sequence number, the envelope.
  Blob blob;
  msgpack::sbuffer buffer(4096);
  std::uint64_t sequence = 0;
  publish_batches(state, inboxes, [&](const std::string& payload) {
    blob.bytes = payload;
    eda::EventMetadata meta = eda::make_metadata<Blob>("bench");
    meta.sequence = ++sequence;
    buffer.clear();
    eda::encode_event(meta, blob, buffer);
    check(natsConnection_Publish(publisher.get(), nats_subject, buffer.data(),
                                 static_cast<int>(buffer.size())),
          "publishing");
  });
  subscribers.clear();
  set_latency_counters(state, merged(inboxes));
}

void nats_request_reply(benchmark::State& state, const std::string& url) {
  const NatsConnection responder = connect(url, /*send_asap=*/true);
  const NatsSubscription requests = subscribe(responder.get(), nats_echo_subject);
  const std::jthread serving([&](const std::stop_token& stop) {
    while (!stop.stop_requested()) {
      if (const auto request = next_message(requests.get(), 100)) {
        const natsMsg* message = request->get();
        (void)natsConnection_Publish(responder.get(), natsMsg_GetReply(message),
                                     natsMsg_GetData(message), natsMsg_GetDataLength(message));
      }
    }
  });
  const NatsConnection requester = connect(url);
  const std::string body(static_cast<std::size_t>(state.range(0)), 'x');
  eda::LatencyRecorder round_trip;
  for (auto _ : state) {
    const std::int64_t start = eda::monotonic_ns();
    natsMsg* reply = nullptr;
    check(natsConnection_Request(&reply, requester.get(), nats_echo_subject, body.data(),
                                 static_cast<int>(body.size()), 10'000),
          "a request");
    const NatsMessage owned(reply);
    round_trip.record(eda::monotonic_ns() - start);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * 2 * state.range(0));
  set_latency_counters(state, round_trip);
}

// ---- Registration ---------------------------------------------------------------------------

void consumers_and_sizes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"consumers", "bytes"});
  for (const int consumers : {1, 2, 4}) {
    for (const int bytes : {64, 1024}) b->Args({consumers, bytes});
  }
  b->UseRealTime()->Unit(benchmark::kMillisecond);
}

void sizes(benchmark::internal::Benchmark* b) {
  b->ArgName("bytes")->Arg(64)->Arg(1024)->UseRealTime()->Unit(benchmark::kMicrosecond);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  // Decide before registering: the NATS benchmarks exist only when there is a server to run.
  // The brokers module's throw-away server: JetStream is on, but no stream captures these
  // subjects, so core publish/subscribe goes through the server as it would without it.
  std::optional<eda::brokers::JetStreamServer> server;
  if (const auto program = eda::brokers::find_nats_server()) {
    try {
      server.emplace(*program);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "bench-peers: %s\n", e.what());
      return 1;
    }
  } else {
    // On stderr, so that --benchmark_format=json output stays valid JSON.
    std::fprintf(stderr,
                 "bench-peers: nats-server not installed; NATS benchmarks skipped (install "
                 "Debian's nats-server, which goes to /usr/sbin)\n");
  }
  const std::string url = server ? server->url() : std::string();

  benchmark::RegisterBenchmark("BM_Peer_Zmq_PubSub", guarded(zmq_pubsub))
      ->Apply(consumers_and_sizes);
  if (server) {
    benchmark::RegisterBenchmark("BM_Peer_Nats_PubSub",
                                 guarded([url](benchmark::State& s) { nats_pubsub(s, url); }))
        ->Apply(consumers_and_sizes);
  }
  benchmark::RegisterBenchmark("BM_Peer_Zmq_RequestReply", guarded(zmq_request_reply))
      ->Apply(sizes);
  if (server) {
    benchmark::RegisterBenchmark("BM_Peer_Nats_RequestReply", guarded([url](benchmark::State& s) {
                                   nats_request_reply(s, url);
                                 }))
        ->Apply(sizes);
  }

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  server.reset();  // stop the server before the client library is torn down
  nats_Close();
  return 0;
}
