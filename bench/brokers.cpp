/// @file brokers.cpp
/// @brief bench-brokers: the durable event transport of the brokers module over ZeroMQ (the kit
///        and the producer's own SQLite log), NATS JetStream and RabbitMQ, on the same events,
///        the same codec and the same machine, in one run.
///
/// Every transport is used through eda::brokers::EventTransport exactly as the contract tests use
/// it: the producer publishes what is due and then waits for the acknowledgements
/// (wait_for_acks()); each consuming service has its durable subscription on a thread of its own,
/// handles one event at a time and acknowledges it. Its subscription fetches up to
/// EDA_BENCH_BROKER_IN_FLIGHT (64) events at a time (TransportOptions::max_in_flight: JetStream's
/// pull batch, RabbitMQ's prefetch, the ZeroMQ log's Fetch, which settles the last batch's acks
/// in the same commit); every row reports it as `in_flight`. 1 is the contract suite's careful
/// consumer (one fetch and one confirmed ack per event). Consumers are services, so with N consumers
/// every event is delivered N times (fan-out). The events carry a payload of 64 B or 1 KiB whose
/// first 8 bytes hold the time the event was *due* to be published, so end-to-end latency
/// (due -> delivered) counts a producer that falls behind its schedule too.
///
/// BM_Broker_<T>_FixedRate/consumers:N/bytes:B — events offered at 5 000/s for
///   EDA_BENCH_BROKER_FIXED_MS (1 000 ms): `p50_us`, `p99_us`; `delivered` (1 when every
///   consumer had every event within a second of the last publish: it kept up) and `drain_s`
///   (how long after the last publish the last delivery came; consumers slower than the rate
///   are given up to 600 s, and their latencies are then queueing delays); `cpu_s_per_M`: CPU seconds per million events
///   published, this process (producer, consumers and, for ZeroMQ, the log) plus the server's
///   processes, from /proc/PID/stat; `server_cpu_s_per_M` (the server's share, brokers only);
///   `server_rss_mb`, `server_peak_rss_mb`: VmRSS and VmHWM of the server's processes after the
///   run (for ZeroMQ: of this process, where the log runs).
/// BM_Broker_<T>_MaxRate/consumers:N/bytes:B — the highest offered rate at which the p99
///   end-to-end latency stays at or under 10 ms and every event is delivered within a second of
///   the step's end: a ladder 250, 500, 1 000, ... 128 000 events/s (EDA_BENCH_BROKER_RUNGS
///   rungs, 10, of EDA_BENCH_BROKER_STEP_MS, 1 000 ms) climbed while the consumers keep up, then two
///   bisections between the highest rate within the bar and the lowest above it that missed it.
///   `max_rate_per_s` (0: not even 250/s), `p50_us` and `p99_us` at that rate, `kept_up_per_s`
///   (the highest rung whose events were all delivered, whatever their latency), `steps`.
/// BM_Broker_<T>_CatchUp/bytes:B — a service down while EDA_BENCH_BROKER_BACKLOG (100 000)
///   events are published (as fast as acknowledgements come, batches of 1 000), then back:
///   `catch_up_s` until it has them all, `catch_up_per_s`, `publish_per_s`, `cpu_s_per_M`,
///   `server_peak_rss_mb` (with the backlog stored).
/// BM_Broker_<T>_Durability/bytes:1024 — EDA_BENCH_BROKER_SYNC_PUBLISHES (200) publishes, each
///   waited for, while strace counts the server's fsync-family calls: `syncs_per_ack`, and the
///   label states the contract (when the publisher's acknowledgement is sent: after an fsync, or
///   after a write only) from that count, beside what the server's configuration says.
///
/// Each server starts once per program run: JetStream (`nats-server -js`, file storage) and a
/// throw-away RabbitMQ node (durable quorum queues, publisher confirms). A broker that is not
/// installed is skipped with one line on stderr; one that is installed and cannot start ends the
/// program with its own error. The machine is shared: CPU figures include whatever else the
/// scheduler ran on the same cores only as far as it slowed these processes.
#include <benchmark/benchmark.h>
#include <nats/nats.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "eda/brokers/jetstream_server.hpp"
#include "eda/brokers/jetstream_transport.hpp"
#include "eda/brokers/rabbitmq_node.hpp"
#include "eda/brokers/rabbitmq_transport.hpp"
#include "eda/brokers/zeromq_transport.hpp"
#include "eda/clock.hpp"
#include "eda/latency.hpp"
#include "environment.hpp"
#include "latency_counters.hpp"
#include "process_usage.hpp"
#include "stamped_payload.hpp"

namespace {

using namespace std::chrono_literals;
using eda::brokers::EventTransport;
using eda::brokers::Subscription;
using eda::brokers::TransportOptions;
using eda::bench::Blob;
using eda::bench::env_count;

/// The bar of the rate search: the p99 end-to-end latency a sustained rate keeps.
constexpr std::int64_t p99_bar_ns = 10'000'000;
/// The fixed rate of the latency and CPU rows, events per second.
constexpr double fixed_rate = 5'000;
/// The first rung of the rate ladder (each next one doubles it).
constexpr double lowest_rate = 250;
/// Events published between two waits for acknowledgements when publishing as fast as possible.
constexpr std::uint64_t burst_batch = 1'000;

std::chrono::milliseconds step_length() {
  return std::chrono::milliseconds(env_count("EDA_BENCH_BROKER_STEP_MS", 1'000));
}
/// Rungs of the rate ladder: EDA_BENCH_BROKER_RUNGS, or 10 (250 to 128 000 events/s).
int ladder_rungs() { return static_cast<int>(env_count("EDA_BENCH_BROKER_RUNGS", 10)); }
std::chrono::milliseconds fixed_length() {
  return std::chrono::milliseconds(env_count("EDA_BENCH_BROKER_FIXED_MS", 1'000));
}
/// Deliveries a consumer's subscription holds unacknowledged: EDA_BENCH_BROKER_IN_FLIGHT, or 64.
std::uint32_t in_flight() {
  return static_cast<std::uint32_t>(env_count("EDA_BENCH_BROKER_IN_FLIGHT", 64));
}
/// The options of every transport here: the scenario's name and the consumers' batch.
TransportOptions bench_options(const std::string& scenario) {
  return TransportOptions{.name = scenario, .max_in_flight = in_flight()};
}

// ---- The transports under test, each with its server ---------------------------------------

/// One transport and the server it runs on, started once for the whole program run.
class System {
 public:
  virtual ~System() = default;
  /// The name in the benchmarks' names: ZeroMQ, JetStream, RabbitMQ.
  [[nodiscard]] virtual const char* name() const = 0;
  /// A transport for a new scenario (its own stream, exchange or log).
  virtual std::unique_ptr<EventTransport> make(const std::string& scenario) = 0;
  /// The processes doing the server's work now.
  [[nodiscard]] virtual std::vector<pid_t> server_processes() const = 0;
  /// Whether the server is another process (for ZeroMQ it is a thread of this one).
  [[nodiscard]] virtual bool separate_server() const { return true; }
  /// What the server's configuration says of when a publish is acknowledged.
  [[nodiscard]] virtual std::string configured_durability() const = 0;
};

class ZeroMqSystem : public System {
 public:
  [[nodiscard]] const char* name() const override { return "ZeroMQ"; }
  std::unique_ptr<EventTransport> make(const std::string& scenario) override {
    return std::make_unique<eda::brokers::ZeroMqTransport>(
        context_, (folder_.path() / (scenario + ".db")).string(), bench_options(scenario));
  }
  [[nodiscard]] std::vector<pid_t> server_processes() const override { return {::getpid()}; }
  [[nodiscard]] bool separate_server() const override { return false; }
  [[nodiscard]] std::string configured_durability() const override {
    return "SQLite WAL, synchronous=FULL: the Append reply follows the commit's fsync";
  }

 private:
  zmq::context_t context_;
  eda::brokers::TemporaryFolder folder_{"bench-zeromq-log"};
};

class JetStreamSystem : public System {
 public:
  explicit JetStreamSystem(const std::string& program) : server_(program) {}
  [[nodiscard]] const char* name() const override { return "JetStream"; }
  std::unique_ptr<EventTransport> make(const std::string& scenario) override {
    return std::make_unique<eda::brokers::JetStreamTransport>(server_.url(),
                                                              bench_options(scenario));
  }
  [[nodiscard]] std::vector<pid_t> server_processes() const override { return {server_.pid()}; }
  [[nodiscard]] std::string configured_durability() const override {
    return "file storage; nats-server 2.9.10 syncs on a timer (2 min default, sync_interval "
           "refused by this version)";
  }

 private:
  eda::brokers::JetStreamServer server_;
};

class RabbitSystem : public System {
 public:
  [[nodiscard]] const char* name() const override { return "RabbitMQ"; }
  std::unique_ptr<EventTransport> make(const std::string& scenario) override {
    return std::make_unique<eda::brokers::RabbitTransport>(
        eda::brokers::AmqpEndpoint{.port = node_.address().amqp_port}, bench_options(scenario));
  }
  /// Every process of the node (the Erlang VM, its helpers, its port mapper) carries its marker.
  [[nodiscard]] std::vector<pid_t> server_processes() const override {
    return eda::brokers::processes_with_environment(
        eda::brokers::RabbitNodeAddress::marker_variable, node_.address().node_name);
  }
  [[nodiscard]] std::string configured_durability() const override {
    return "quorum queues, persistent messages: confirmed once the queue's log is fsynced";
  }

 private:
  eda::brokers::RabbitNode node_;
};

/// A scenario name no earlier benchmark of this run used (streams and queues stay on the server).
std::string new_scenario() {
  static int counter = 0;
  return "bench-" + std::to_string(++counter);
}

// ---- One producer, N consuming services ------------------------------------------------------

/// A consuming service: its subscription, driven by a thread of its own.
struct Consumer {
  std::unique_ptr<Subscription> subscription;
  std::atomic<std::uint64_t> received{0};
  std::mutex mutex;  // guards latency and error (the main thread reads them between steps)
  eda::LatencyRecorder latency;
  std::string error;

  /// Takes, times and acknowledges deliveries until asked to stop or the transport fails.
  void run(const std::stop_token& stop) {
    try {
      while (!stop.stop_requested()) {
        const auto delivery = subscription->next(50ms);
        if (!delivery) continue;
        const std::int64_t age = eda::bench::age_of(delivery->event.payload_as<Blob>().bytes);
        {
          const std::lock_guard lock(mutex);
          latency.record(age);
        }
        subscription->ack(*delivery);
        received.fetch_add(1, std::memory_order_release);
      }
    } catch (const std::exception& e) {
      const std::lock_guard lock(mutex);
      error = e.what();
    }
  }
};

/// The benchmark's producer and its consuming services on one transport.
class FanOut {
 public:
  FanOut(EventTransport& transport, std::size_t consumers, std::size_t bytes)
      : transport_(transport), payload_(bytes, 'x'), consumers_(consumers) {
    for (std::size_t i = 0; i < consumers; ++i) transport_.add_service(service(i));
  }
  ~FanOut() { threads_.clear(); }  // stop and join before the subscriptions go
  FanOut(const FanOut&) = delete;
  FanOut& operator=(const FanOut&) = delete;

  /// Connects every service's subscription (in this thread: the transport is used from one
  /// thread) and starts its consuming thread.
  void start_consumers() {
    for (std::size_t i = 0; i < consumers_.size(); ++i) {
      consumers_[i].subscription = transport_.subscribe(service(i));
    }
    for (auto& consumer : consumers_) {
      threads_.emplace_back([&consumer](const std::stop_token& stop) { consumer.run(stop); });
    }
  }

  /// Publishes `count` events offered at `rate` per second, each stamped with the time it was
  /// due; whatever is due is published and then its acknowledgements awaited.
  void publish_paced(double rate, std::uint64_t count) {
    const std::int64_t start = eda::monotonic_ns();
    const double ns_per_event = 1e9 / rate;
    std::uint64_t sent = 0;
    while (sent < count) {
      const auto elapsed = static_cast<double>(eda::monotonic_ns() - start);
      const auto due = std::min(count, static_cast<std::uint64_t>(elapsed / ns_per_event) + 1);
      if (due <= sent) {
        // Nothing due yet: wait for the next event's time (pacing, not synchronisation).
        const auto next = start + static_cast<std::int64_t>(static_cast<double>(sent) * ns_per_event);
        std::this_thread::sleep_for(std::chrono::nanoseconds(next - eda::monotonic_ns()));
        continue;
      }
      for (; sent < due; ++sent) {
        publish_one(start + static_cast<std::int64_t>(static_cast<double>(sent) * ns_per_event));
      }
      transport_.wait_for_acks();
    }
  }

  /// Publishes `count` events as fast as acknowledgements come (batches of burst_batch).
  void publish_burst(std::uint64_t count) {
    for (std::uint64_t sent = 0; sent < count;) {
      const std::uint64_t batch = std::min(burst_batch, count - sent);
      for (std::uint64_t i = 0; i < batch; ++i) publish_one(eda::monotonic_ns());
      transport_.wait_for_acks();
      sent += batch;
    }
  }

  /// Waits until every consumer has received everything published so far; false when `within`
  /// passed first. Throws when a consumer's transport failed.
  bool wait_delivered(std::chrono::milliseconds within) {
    const eda::Deadline deadline(within);
    for (auto& consumer : consumers_) {
      while (consumer.received.load(std::memory_order_acquire) < published_) {
        throw_if_failed(consumer);
        if (deadline.expired()) return false;
        std::this_thread::sleep_for(1ms);  // polling a counter: the consumers signal nothing
      }
    }
    return true;
  }

  /// Every consumer's latencies since the last call, merged; the recorders start again.
  eda::LatencyRecorder take_latencies() {
    eda::LatencyRecorder all;
    for (auto& consumer : consumers_) {
      const std::lock_guard lock(consumer.mutex);
      all.merge(consumer.latency);
      consumer.latency.reset();
    }
    return all;
  }

  [[nodiscard]] std::uint64_t published() const { return published_; }

 private:
  static std::string service(std::size_t i) { return "service-" + std::to_string(i); }

  static void throw_if_failed(Consumer& consumer) {
    const std::lock_guard lock(consumer.mutex);
    if (!consumer.error.empty()) throw std::runtime_error("a consumer failed: " + consumer.error);
  }

  /// The same codec as everywhere: a new event id, a sequence number, the kit's envelope.
  void publish_one(std::int64_t due_ns) {
    eda::bench::stamp(payload_, due_ns);
    blob_.bytes = payload_;
    eda::EventMetadata meta = eda::make_metadata<Blob>("bench");
    meta.sequence = ++published_;
    buffer_.clear();
    eda::encode_event(meta, blob_, buffer_);
    transport_.publish(meta.event_id, std::string_view(buffer_.data(), buffer_.size()));
  }

  EventTransport& transport_;
  std::string payload_;
  Blob blob_;
  msgpack::sbuffer buffer_{4096};
  std::uint64_t published_ = 0;
  std::vector<Consumer> consumers_;
  std::vector<std::jthread> threads_;  // last: stopped and joined first
};

// ---- Measurements ----------------------------------------------------------------------------

/// The outcome of offering one rate for one step.
struct Step {
  bool delivered = false;  ///< Every event reached every consumer within a second of the end.
  std::int64_t drain_ns = 0;  ///< From the last publish until every consumer had everything.
  eda::LatencySummary latency;
  [[nodiscard]] bool passed() const { return delivered && latency.p99_ns <= p99_bar_ns; }
};

/// Offers `rate` for `length`; a step that did not deliver within a second of its end is
/// drained (up to `drain_within`) so that the next one starts clean. Throws when even that fails.
Step offer(FanOut& fan, double rate, std::chrono::milliseconds length,
           std::chrono::milliseconds drain_within = 60s) {
  const auto count = std::max<std::uint64_t>(
      1, static_cast<std::uint64_t>(rate * static_cast<double>(length.count()) / 1e3));
  fan.publish_paced(rate, count);
  const std::int64_t published = eda::monotonic_ns();
  Step step;
  step.delivered = fan.wait_delivered(1s);
  if (!step.delivered && !fan.wait_delivered(drain_within)) {
    throw std::runtime_error("the consumers did not catch up within " +
                             std::to_string(drain_within.count() / 1000) + " s of a step at " +
                             std::to_string(static_cast<int>(rate)) + " events/s");
  }
  step.drain_ns = eda::monotonic_ns() - published;
  step.latency = fan.take_latencies().summary();
  return step;
}

/// A short first step: connections made, first fetches done, before anything is measured.
void warm_up(FanOut& fan) { (void)offer(fan, lowest_rate, std::min<std::chrono::milliseconds>(200ms, step_length())); }

/// CPU and memory of this process and of the server, read together.
struct Usage {
  eda::bench::ProcessUsage self;
  eda::bench::ProcessUsage server;
};

Usage usage_now(const System& system) {
  Usage usage{eda::bench::usage_of({::getpid()}), {}};
  if (system.separate_server()) usage.server = eda::bench::usage_of(system.server_processes());
  return usage;
}

/// Sets `cpu_s_per_M` (and `server_cpu_s_per_M` for a separate server) from two readings, and
/// the server's memory from the second.
void set_usage_counters(benchmark::State& state, const System& system, const Usage& before,
                        const Usage& after, std::uint64_t events) {
  const double millions = static_cast<double>(events) / 1e6;
  const double server_cpu = after.server.cpu_seconds - before.server.cpu_seconds;
  state.counters["cpu_s_per_M"] =
      (after.self.cpu_seconds - before.self.cpu_seconds + server_cpu) / millions;
  const eda::bench::ProcessUsage& memory = system.separate_server() ? after.server : after.self;
  if (system.separate_server()) state.counters["server_cpu_s_per_M"] = server_cpu / millions;
  state.counters["server_rss_mb"] = memory.rss_mb;
  state.counters["server_peak_rss_mb"] = memory.peak_rss_mb;
}

/// A new scenario on a system, with the benchmark's consumers (range 0) connected and warmed
/// up, on events of range(1) bytes.
struct LiveScenario {
  LiveScenario(System& system, const benchmark::State& state)
      : transport(system.make(new_scenario())),
        fan(*transport, static_cast<std::size_t>(state.range(0)),
            static_cast<std::size_t>(state.range(1))) {
    fan.start_consumers();
    warm_up(fan);
  }
  std::unique_ptr<EventTransport> transport;
  FanOut fan;  // after the transport: goes first
};

void fixed_rate_run(benchmark::State& state, System& system) {
  LiveScenario live(system, state);
  FanOut& fan = live.fan;
  const Usage before = usage_now(system);
  const std::uint64_t published_before = fan.published();
  Step step;
  // Consumers slower than the rate fall behind; they are given time to finish (the latencies
  // then are queueing delays, and `drain_s` says how long the backlog took to clear).
  for (auto _ : state) step = offer(fan, fixed_rate, fixed_length(), 600s);
  set_usage_counters(state, system, before, usage_now(system), fan.published() - published_before);
  state.counters["delivered"] = step.delivered ? 1 : 0;
  state.counters["drain_s"] = static_cast<double>(step.drain_ns) / 1e9;
  state.counters["p50_us"] = static_cast<double>(step.latency.p50_ns) / 1e3;
  state.counters["p99_us"] = static_cast<double>(step.latency.p99_ns) / 1e3;
  state.SetItemsProcessed(static_cast<std::int64_t>(fan.published() - published_before));
}

void max_rate_run(benchmark::State& state, System& system) {
  LiveScenario live(system, state);
  FanOut& fan = live.fan;
  double best = 0;            // the highest rate that kept p99 within the bar
  double kept_up = 0;         // the highest rate whose events were all delivered in time
  double first_failed = 0;    // the lowest rate above `best` that missed the bar
  Step best_step;
  int steps = 0;
  const auto try_rate = [&](double rate) {
    ++steps;
    const Step step = offer(fan, rate, step_length());
    if (step.delivered) kept_up = std::max(kept_up, rate);
    if (step.passed() && rate > best) {
      best = rate;
      best_step = step;
    } else if (!step.passed() && rate > best && (first_failed == 0 || rate < first_failed)) {
      first_failed = rate;
    }
    return step;
  };
  for (auto _ : state) {
    // Up the ladder while the consumers keep up (a rate they cannot keep up with only grows
    // the backlog: every higher one fails too).
    for (int rung = 0; rung < ladder_rungs(); ++rung) {
      if (!try_rate(lowest_rate * std::pow(2.0, rung)).delivered) break;
    }
    // Between the last rate within the bar and the first above it that missed it, twice
    // (geometric middles).
    for (int round = 0; round < 2 && best > 0 && first_failed > best; ++round) {
      (void)try_rate(std::round(std::sqrt(best * first_failed) / 10) * 10);
    }
  }
  state.counters["max_rate_per_s"] = best;
  state.counters["kept_up_per_s"] = kept_up;
  state.counters["p50_us"] = static_cast<double>(best_step.latency.p50_ns) / 1e3;
  state.counters["p99_us"] = static_cast<double>(best_step.latency.p99_ns) / 1e3;
  state.counters["steps"] = steps;
}

void catch_up_run(benchmark::State& state, System& system) {
  const std::uint64_t backlog = env_count("EDA_BENCH_BROKER_BACKLOG", 100'000);
  const auto transport = system.make(new_scenario());
  FanOut fan(*transport, 1, static_cast<std::size_t>(state.range(0)));
  const Usage before = usage_now(system);
  for (auto _ : state) {
    const std::int64_t publish_start = eda::monotonic_ns();
    fan.publish_burst(backlog);  // the service is down: nothing consumes
    const std::int64_t back = eda::monotonic_ns();
    fan.start_consumers();
    if (!fan.wait_delivered(900s)) {
      state.SkipWithError("the returning service did not catch up within 900 s");
      return;
    }
    const std::int64_t caught_up = eda::monotonic_ns();
    state.counters["publish_per_s"] =
        static_cast<double>(backlog) / (static_cast<double>(back - publish_start) / 1e9);
    state.counters["catch_up_s"] = static_cast<double>(caught_up - back) / 1e9;
    state.counters["catch_up_per_s"] =
        static_cast<double>(backlog) / (static_cast<double>(caught_up - back) / 1e9);
  }
  set_usage_counters(state, system, before, usage_now(system), backlog);
  state.counters["backlog"] = static_cast<double>(backlog);
}

void durability_run(benchmark::State& state, System& system) {
  const std::uint64_t publishes = env_count("EDA_BENCH_BROKER_SYNC_PUBLISHES", 200);
  const auto transport = system.make(new_scenario());
  FanOut fan(*transport, 1, static_cast<std::size_t>(state.range(0)));  // a service keeps them
  std::optional<eda::bench::SyncCount> count;
  std::string why;
  for (auto _ : state) {
    count = eda::bench::count_disk_syncs(system.server_processes(), [&] {
      for (std::uint64_t i = 0; i < publishes; ++i) fan.publish_burst(1);
    }, &why);
  }
  if (!count) {
    state.SetLabel("not measured (" + why + "); configured: " + system.configured_durability());
    return;
  }
  const double per_ack = static_cast<double>(count->calls) / static_cast<double>(publishes);
  state.counters["syncs_per_ack"] = per_ack;
  state.counters["acks"] = static_cast<double>(publishes);
  const char* contract = per_ack >= 1    ? "ack after fsync"
                         : per_ack > 0   ? "ack after write; fsyncs grouped over several acks"
                                         : "ack after write, not fsynced";
  state.SetLabel(std::string(contract) + " (measured: " + count->detail + " for " +
                 std::to_string(publishes) + " acks); configured: " +
                 system.configured_durability());
}

/// Runs a benchmark body, turning an exception (a refused publish, a consumer that failed) into
/// an error on that benchmark instead of the end of the program.
template <class Body>
auto guarded(Body body, System& system) {
  return [body, &system](benchmark::State& state) {
    try {
      state.counters["in_flight"] = in_flight();
      body(state, system);
    } catch (const std::exception& e) {
      state.SkipWithError(e.what());
    }
  };
}

void register_system(System& system) {
  const auto consumers_and_sizes = [](benchmark::internal::Benchmark* b) {
    b->ArgNames({"consumers", "bytes"});
    for (const int consumers : {1, 4}) {
      for (const int bytes : {64, 1024}) b->Args({consumers, bytes});
    }
    b->Iterations(1)->UseRealTime()->Unit(benchmark::kSecond);
  };
  const auto sizes = [](benchmark::internal::Benchmark* b) {
    b->ArgName("bytes")->Arg(64)->Arg(1024)->Iterations(1)->UseRealTime()->Unit(
        benchmark::kSecond);
  };
  const auto sizes_1k = [](benchmark::internal::Benchmark* b) {
    b->ArgName("bytes")->Arg(1024)->Iterations(1)->UseRealTime()->Unit(benchmark::kSecond);
  };
  const std::string prefix = std::string("BM_Broker_") + system.name() + "_";
  benchmark::RegisterBenchmark((prefix + "FixedRate").c_str(), guarded(fixed_rate_run, system))
      ->Apply(consumers_and_sizes);
  benchmark::RegisterBenchmark((prefix + "MaxRate").c_str(), guarded(max_rate_run, system))
      ->Apply(consumers_and_sizes);
  benchmark::RegisterBenchmark((prefix + "CatchUp").c_str(), guarded(catch_up_run, system))
      ->Apply(sizes);
  benchmark::RegisterBenchmark((prefix + "Durability").c_str(), guarded(durability_run, system))
      ->Apply(sizes_1k);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  // Each server once per run; messages on stderr keep --benchmark_format=json valid.
  std::vector<std::unique_ptr<System>> systems;
  try {
    systems.push_back(std::make_unique<ZeroMqSystem>());
    if (const auto program = eda::brokers::find_nats_server()) {
      systems.push_back(std::make_unique<JetStreamSystem>(*program));
    } else {
      std::fprintf(stderr, "bench-brokers: nats-server not installed: JetStream skipped\n");
    }
    if (eda::brokers::find_rabbitmq_server()) {
      systems.push_back(std::make_unique<RabbitSystem>());
    } else {
      std::fprintf(stderr, "bench-brokers: rabbitmq-server not installed: RabbitMQ skipped\n");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench-brokers: a server did not start: %s\n", e.what());
    return 1;
  }
  for (const auto& system : systems) register_system(*system);

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  systems.clear();  // stop the servers before the client libraries are torn down
  nats_Close();
  return 0;
}
