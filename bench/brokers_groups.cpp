/// @file brokers_groups.cpp
/// @brief bench-brokers-groups: the partitioned consumer groups on the brokers (brokers/), with
///        the scaling module's Billing handler and gateway, as bench-scaling runs them on the
///        ZeroMQ group.
///
/// - BM_Group_JetStream/members:M and BM_Group_RabbitMQ/members:M: one iteration = a backlog of
///   EDA_BENCH_GROUP_EVENTS events (orders' lives, bench-scaling's workload) published to a
///   fresh group of 4 partitions, then M members (threads, a connection each) bill it, each
///   gateway call taking EDA_BENCH_GROUP_CALL_US (1 ms: I/O-bound, as in bench-scaling). Timed
///   from the members' start until the gateway holds every charge. Counters: `events_per_s`,
///   `members_working` (members that charged at least one event), `order_violations` and
///   `double_charges` (the gateway's checks: both must be 0).
///
/// - BM_Group_JetStream_Takeover and BM_Group_RabbitMQ_Takeover: `takeover_ms`, from a member
///   going away holding an unacknowledged event (its connection closed, as a crash closes it)
///   until another member's charge of that event is recorded. JetStream's partitions have an
///   AckWait of 1 s.
///
/// What the rows show is each design's parallelism. JetStream's partition consumers let one
/// event per partition out at a time, whichever member fetches it: up to 4 gateway calls at
/// once. RabbitMQ's single active consumer gives each queue to the member that subscribed
/// first, which here is the first member for every queue: more members add standbys, not
/// throughput.
///
/// The servers are started once per run (nats-server with the partition mapping; a throw-away
/// RabbitMQ node); a broker that is not installed is skipped and says so on stderr.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "eda/brokers/jetstream_group.hpp"
#include "eda/brokers/loopback.hpp"
#include "eda/brokers/rabbitmq_group.hpp"
#include "eda/brokers/rabbitmq_node.hpp"
#include "eda/clock.hpp"
#include "eda/codec.hpp"
#include "eda/envelope.hpp"
#include "environment.hpp"
#include "order_lives.hpp"

namespace {

using namespace std::chrono_literals;
using eda::bench::env_count;
using eda::brokers::GroupMember;
using eda::brokers::GroupOptions;
using eda::brokers::KeyedPublisher;

constexpr std::uint32_t partitions = 4;

/// How to make an empty group, its publisher and its members on one broker.
struct Broker {
  std::function<GroupOptions()> fresh_group;
  std::function<std::unique_ptr<KeyedPublisher>(const GroupOptions&)> publisher;
  std::function<std::unique_ptr<GroupMember>(const GroupOptions&)> member;
};

/// Publishes events 0 .. count - 1 of the workload and waits for the broker's acks.
void publish_backlog(KeyedPublisher& publisher, std::uint64_t count) {
  for (std::uint64_t i = 0; i < count; ++i) {
    eda::bench::emit_event(i, [&](const std::string& key, const auto& payload) {
      const auto event = eda::make_event("order-service", payload);
      publisher.publish(key, event.meta.event_id, eda::encode_event(event));
    });
  }
  publisher.wait_for_acks();
}

void run_group(benchmark::State& state, const Broker& broker) {
  const auto members = static_cast<std::size_t>(state.range(0));
  const std::uint64_t events = env_count("EDA_BENCH_GROUP_EVENTS", 2'000);
  const std::chrono::microseconds call{env_count("EDA_BENCH_GROUP_CALL_US", 1'000)};
  double seconds = 0;
  std::uint64_t working = 0;
  std::uint64_t violations = 0;
  std::uint64_t doubles = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const GroupOptions options = broker.fresh_group();
    const eda::brokers::TemporaryFolder folder("bench-group");
    const std::string gateway_path = (folder.path() / "gateway.db").string();
    const eda::scaling::BillingGateway gateway(gateway_path);  // created once, before the members
    publish_backlog(*broker.publisher(options), events);
    std::vector<std::unique_ptr<GroupMember>> group;
    for (std::size_t m = 0; m < members; ++m) group.push_back(broker.member(options));
    std::vector<eda::brokers::BillingTally> tallies(members);
    state.ResumeTiming();

    const std::int64_t start = eda::monotonic_ns();
    {
      std::vector<std::jthread> threads;
      for (std::size_t m = 0; m < members; ++m) {
        threads.emplace_back([&, m](const std::stop_token& stop) {
          eda::scaling::BillingGateway own(gateway_path, call);
          tallies[m] = eda::brokers::run_billing(*group[m], own, "billing-" + std::to_string(m + 1),
                                                 stop, 20ms);
        });
      }
      const eda::Deadline bound(300s);  // a failure bound, never a measurement
      while (gateway.charges() < events && !bound.expired()) std::this_thread::sleep_for(1ms);
    }  // the members stop here
    const std::int64_t end = eda::monotonic_ns();
    if (gateway.charges() < events) {
      state.SkipWithError("the group did not bill the backlog within 300 s");
      break;
    }
    seconds += static_cast<double>(end - start) / 1e9;
    working = 0;
    for (const auto& tally : tallies) working += tally.charged > 0 ? 1 : 0;
    violations += gateway.order_violations();
    doubles += gateway.double_charges();
  }
  const auto iterations = static_cast<double>(state.iterations());
  state.counters["events_per_s"] =
      seconds > 0 ? static_cast<double>(events) * iterations / seconds : 0.0;
  state.counters["members_working"] = static_cast<double>(working);
  state.counters["order_violations"] = static_cast<double>(violations);
  state.counters["double_charges"] = static_cast<double>(doubles);
}

// One iteration = member A takes an event and goes away without acknowledging it (its
// connection closed, as a crash closes it) while member B bills; timed from A's going until the
// gateway has B's charge of that event. JetStream hands it on when the partition's AckWait
// (redeliver_after) runs out; RabbitMQ when it sees A's connection close.
void run_takeover(benchmark::State& state, const Broker& broker) {
  double total_ms = 0;
  for (auto _ : state) {
    GroupOptions options = broker.fresh_group();
    const eda::brokers::TemporaryFolder folder("bench-takeover");
    const std::string gateway_path = (folder.path() / "gateway.db").string();
    const eda::scaling::BillingGateway gateway(gateway_path);
    publish_backlog(*broker.publisher(options), 200);
    auto doomed = broker.member(options);  // first: RabbitMQ makes it the active consumer
    auto taker = broker.member(options);
    const auto held = doomed->next(10s);
    if (!held) {
      state.SkipWithError("the first member got no event within 10 s");
      break;
    }
    const auto step = eda::scaling::order_step_of(eda::DecodedEvent::decode(held->envelope));
    std::jthread billing([&](const std::stop_token& stop) {
      eda::scaling::BillingGateway own(gateway_path);
      (void)eda::brokers::run_billing(*taker, own, "taker-1", stop, 20ms);
    });
    const auto charged = [&] {
      for (const auto& record : gateway.records()) {
        if (record.order_id == step.order_id && record.step == step.step) return true;
      }
      return false;
    };
    const std::int64_t start = eda::monotonic_ns();
    doomed.reset();
    const eda::Deadline bound(60s);  // a failure bound, never a measurement
    while (!charged() && !bound.expired()) std::this_thread::sleep_for(1ms);
    const std::int64_t end = eda::monotonic_ns();
    if (!charged()) {
      state.SkipWithError("the event held by the member that went was not billed within 60 s");
      break;
    }
    total_ms += static_cast<double>(end - start) / 1e6;
  }
  state.counters["takeover_ms"] =
      state.iterations() > 0 ? total_ms / static_cast<double>(state.iterations()) : 0.0;
}

/// One member, then four, sharing the 4 partitions; a backlog per iteration.
void member_counts(benchmark::internal::Benchmark* benchmark) {
  benchmark->ArgName("members")->Arg(1)->Arg(4)->Iterations(1)->UseRealTime()->Unit(
      benchmark::kMillisecond);
}

/// One takeover per run.
void once(benchmark::internal::Benchmark* benchmark) {
  benchmark->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const auto nats_server = eda::brokers::find_nats_server();
  if (!nats_server) {
    std::fprintf(stderr, "bench-brokers-groups: nats-server not installed: JetStream skipped\n");
  }
  // The RabbitMQ node once per run (it takes seconds); messages on stderr keep
  // --benchmark_format=json valid.
  std::unique_ptr<eda::brokers::RabbitNode> rabbit;
  try {
    if (eda::brokers::find_rabbitmq_server()) {
      rabbit = std::make_unique<eda::brokers::RabbitNode>();
    } else {
      std::fprintf(stderr,
                   "bench-brokers-groups: rabbitmq-server not installed: RabbitMQ skipped\n");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench-brokers-groups: the RabbitMQ node did not start: %s\n", e.what());
    return 1;
  }

  // JetStream: a server of its own per group (it starts in well under a second), whose
  // configuration maps the group's subjects onto its partitions.
  // AckWait 1 s: how long an event held by a member that went waits for another.
  const GroupOptions jetstream_group{
      .name = "orders", .partitions = partitions, .redeliver_after = 1000ms};
  std::unique_ptr<eda::brokers::PartitionedJetStreamServer> jetstream;
  const Broker on_jetstream{
      [&] {
        jetstream.reset();
        jetstream = std::make_unique<eda::brokers::PartitionedJetStreamServer>(*nats_server,
                                                                               jetstream_group);
        return jetstream_group;
      },
      [&](const GroupOptions& options) {
        return std::make_unique<eda::brokers::JetStreamKeyedPublisher>(jetstream->url(), options);
      },
      [&](const GroupOptions& options) {
        return std::make_unique<eda::brokers::JetStreamGroupMember>(jetstream->url(), options);
      }};
  if (nats_server) {
    benchmark::RegisterBenchmark("BM_Group_JetStream", [&](benchmark::State& state) {
      run_group(state, on_jetstream);
    })->Apply(member_counts);
    benchmark::RegisterBenchmark("BM_Group_JetStream_Takeover", [&](benchmark::State& state) {
      run_takeover(state, on_jetstream);
    })->Apply(once);
  }

  // RabbitMQ: a fresh exchange and queues per group on the run's node.
  int groups = 0;
  const eda::brokers::AmqpEndpoint endpoint{.port = rabbit ? rabbit->address().amqp_port
                                                           : std::uint16_t{0}};
  const Broker on_rabbit{
      [&] {
        return GroupOptions{.name = "orders_" + std::to_string(++groups), .partitions = partitions};
      },
      [&](const GroupOptions& options) {
        return std::make_unique<eda::brokers::RabbitKeyedPublisher>(endpoint, options);
      },
      [&](const GroupOptions& options) {
        return std::make_unique<eda::brokers::RabbitGroupMember>(endpoint, options);
      }};
  if (rabbit) {
    benchmark::RegisterBenchmark("BM_Group_RabbitMQ", [&](benchmark::State& state) {
      run_group(state, on_rabbit);
    })->Apply(member_counts);
    benchmark::RegisterBenchmark("BM_Group_RabbitMQ_Takeover", [&](benchmark::State& state) {
      run_takeover(state, on_rabbit);
    })->Apply(once);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
