// The partitioned-consumer-group stop: Billing as several members of a group, each partition of
// the keyed log owned by one member at a time, against the synchronous pool (the Order service
// waits for each charge from N Billing servers in turn) and, for order, competing consumers.
// Every design charges the same gateway service (1 ms a call); bench-scaling measures the same
// at 1, 2, 4 and 8 members with rebalances.

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "demo_programs.hpp"
#include "eda/scaling/baseline/billing_pool.hpp"
#include "eda/scaling/checkpoint_store.hpp"
#include "eda/scaling/competing_consumers.hpp"
#include "eda/scaling/coordinator_service.hpp"
#include "eda/scaling/gateway_service.hpp"
#include "eda/scaling/group_member.hpp"
#include "eda/scaling/keyed_producer.hpp"
#include "measure.hpp"
#include "progress.hpp"
#include "scratch_folder.hpp"
#include "stop.hpp"

namespace eda::tour {

namespace {

using namespace std::chrono_literals;
using namespace eda::scaling;

constexpr std::uint32_t partitions = 16;
constexpr auto gateway_call = 1ms;
constexpr auto drain_limit = 60s;  // a failure bound, never a measurement

/// How big the measurements are.
struct Sizes {
  std::size_t members = 4;           ///< Instances of Billing in each design.
  std::uint64_t orders_per_member = 100;  ///< Orders (three events each) per instance.
};

Sizes sizes_for(const TourOptions& options) {
  if (options.quick) return {.members = 2, .orders_per_member = 10};
  return {};
}

/// Order `n`'s three events, handed to `sink(key, payload)`.
template <class Sink>
void order_events(std::uint64_t n, const Sink& sink) {
  const std::string id = "order-" + std::to_string(n);
  sink(id, OrderPlaced{id, 1, 1000 + static_cast<std::int64_t>(n % 97)});
  sink(id, OrderAmended{id, 2, 1200});
  sink(id, OrderCancelled{id, 3});
}

/// What one design did.
struct Run {
  double events_per_s = 0;
  std::uint64_t order_violations = 0;
  std::uint64_t double_charges = 0;
};

Run checked(double events, double seconds, const std::string& record_path) {
  const BillingGateway record(record_path);
  return {events / seconds, record.order_violations(), record.double_charges()};
}

/// The partitioned group: the events are in the log first; `members` members drain it.
Run run_group(const Sizes& sizes, ScratchFolder& folder) {
  const std::string log_path = folder.new_file("log");
  const std::string checkpoint_path = folder.new_file("checkpoints");
  const std::string record_path = folder.new_file("gateway");
  // Each file created once, before members open them together.
  PartitionLog log(log_path, partitions);
  { const CheckpointStore created(checkpoint_path, sqlite::Durability::normal); }
  const std::uint64_t orders = sizes.orders_per_member * sizes.members;
  KeyedProducer producer(log, "order-service");
  for (std::uint64_t n = 0; n < orders; ++n) {
    order_events(n, [&](const std::string& key, const auto& event) { producer.add(key, event); });
  }
  producer.flush();

  zmq::context_t context;
  GatewayService gateway(context, {.record_path = record_path});
  CoordinatorServiceOptions coordinator_options;
  coordinator_options.checkpoint_path = checkpoint_path;
  coordinator_options.group_options.partition_count = partitions;
  coordinator_options.durability = sqlite::Durability::normal;
  CoordinatorService coordinator(context, coordinator_options);
  MemberOptions options;
  options.coordinator = coordinator.endpoint();
  options.log_path = log_path;
  options.checkpoint_path = checkpoint_path;
  options.gateway_path = record_path;
  options.gateway_endpoint = gateway.endpoint();
  options.partition_count = partitions;
  options.gateway_call_time = gateway_call;
  std::vector<std::unique_ptr<GroupMember>> members;
  std::vector<std::jthread> threads;
  const Deadline deadline(drain_limit);
  const std::int64_t start = monotonic_ns();
  for (std::size_t m = 0; m < sizes.members; ++m) {
    members.push_back(std::make_unique<GroupMember>(context, options));
    threads.emplace_back([member = members.back().get()](const std::stop_token& stop) {
      member->run(stop);
    });
  }
  const auto processed = [&] {
    std::uint64_t total = 0;
    for (const auto& member : members) total += member->status().processed;
    return total;
  };
  while (processed() < 3 * orders) {
    if (deadline.expired()) throw std::runtime_error("the group did not charge every event");
    std::this_thread::sleep_for(2ms);
  }
  const double seconds = static_cast<double>(monotonic_ns() - start) / 1e9;
  threads.clear();  // each member commits, leaves and stops
  return checked(static_cast<double>(3 * orders), seconds, record_path);
}

/// Competing consumers: the distributor pushes the events to `members` workers in turn.
Run run_unkeyed(const Sizes& sizes, ScratchFolder& folder) {
  const std::string record_path = folder.new_file("gateway");
  zmq::context_t context;
  GatewayService gateway(context, {.record_path = record_path});
  std::vector<std::unique_ptr<CompetingWorker>> workers;
  std::vector<std::string> endpoints;
  for (std::size_t w = 0; w < sizes.members; ++w) {
    CompetingWorkerOptions options;
    options.name = "worker-" + std::to_string(w + 1);
    options.gateway_path = record_path;
    options.gateway_endpoint = gateway.endpoint();
    options.gateway_call_time = gateway_call;
    workers.push_back(std::make_unique<CompetingWorker>(context, options));
    endpoints.push_back(workers.back()->endpoint());
  }
  std::vector<std::jthread> threads;
  for (auto& worker : workers) {
    threads.emplace_back([w = worker.get()](const std::stop_token& stop) { w->run(stop); });
  }
  const std::uint64_t orders = sizes.orders_per_member * sizes.members;
  const Deadline deadline(drain_limit);
  const std::int64_t start = monotonic_ns();
  UnkeyedDistributor distributor(context, endpoints);
  for (std::uint64_t n = 0; n < orders; ++n) {
    order_events(n, [&](const std::string&, const auto& event) { distributor.send(event); });
  }
  const auto processed = [&] {
    std::uint64_t total = 0;
    for (const auto& worker : workers) total += worker->status().processed;
    return total;
  };
  while (processed() < 3 * orders) {
    if (deadline.expired()) throw std::runtime_error("the workers did not take every event");
    std::this_thread::sleep_for(2ms);
  }
  const double seconds = static_cast<double>(monotonic_ns() - start) / 1e9;
  threads.clear();
  return checked(static_cast<double>(3 * orders), seconds, record_path);
}

/// The baseline: the Order service calls `members` Billing servers in turn, waiting each time.
Run run_pool(const Sizes& sizes, ScratchFolder& folder) {
  const std::string record_path = folder.new_file("gateway");
  zmq::context_t context;
  GatewayService gateway(context, {.record_path = record_path});
  std::vector<std::unique_ptr<baseline::BillingServer>> servers;
  std::vector<std::string> endpoints;
  for (std::size_t s = 0; s < sizes.members; ++s) {
    servers.push_back(std::make_unique<baseline::BillingServer>(
        context, baseline::BillingServerOptions{.name = "server-" + std::to_string(s + 1),
                                                .gateway_path = record_path,
                                                .gateway_call_time = gateway_call,
                                                .gateway_endpoint = gateway.endpoint()}));
    endpoints.push_back(servers.back()->endpoint());
  }
  std::vector<std::jthread> threads;
  for (auto& server : servers) {
    threads.emplace_back([s = server.get()](const std::stop_token& stop) { s->serve(stop); });
  }
  baseline::BillingPool pool(context, endpoints);
  const std::uint64_t orders = sizes.orders_per_member;  // it does not scale: fewer suffice
  const std::int64_t start = monotonic_ns();
  for (std::uint64_t n = 0; n < orders; ++n) {
    order_events(n, [&](const std::string&, const auto& event) { (void)pool.charge(event); });
  }
  const double seconds = static_cast<double>(monotonic_ns() - start) / 1e9;
  threads.clear();
  return checked(static_cast<double>(3 * orders), seconds, record_path);
}

Findings measure(const TourOptions& options, Progress& progress) {
  const Sizes sizes = sizes_for(options);
  ScratchFolder folder("scaling");
  const std::string n = std::to_string(sizes.members);
  const Run group = progress.stage("the partitioned group, " + n + " members",
                                   [&] { return run_group(sizes, folder); });
  const Run pool = progress.stage("the synchronous pool, " + n + " servers",
                                  [&] { return run_pool(sizes, folder); });
  const Run unkeyed = progress.stage("competing consumers, " + n + " workers",
                                     [&] { return run_unkeyed(sizes, folder); });
  const auto count = [](std::uint64_t value) { return format_count(static_cast<double>(value)); };
  Findings findings;
  findings.rows = {
      {"events/s charged, " + n + " instances, 1 ms gateway", format_rate(group.events_per_s),
       format_rate(pool.events_per_s), compare_rates(group.events_per_s, pool.events_per_s)},
      {"events of one order applied out of order", count(group.order_violations),
       count(pool.order_violations),
       "competing consumers: " + count(unkeyed.order_violations) + " at " +
           format_rate(unkeyed.events_per_s)},
      {"events charged twice", count(group.double_charges), count(pool.double_charges),
       "idempotent by event id"},
  };
  findings.notes = {
      std::to_string(sizes.orders_per_member * sizes.members) +
          " orders of three events (placed, amended, cancelled) per design (the pool: " +
          std::to_string(sizes.orders_per_member) +
          "), " + std::to_string(partitions) +
          " partitions, every design charging the same gateway service that takes 1 ms a call. "
          "bench-scaling runs 1, 2, 4 and 8 members and measures rebalances.",
  };
  findings.buys = {
      "throughput: " + n + " Billing instances charge " +
          compare_rates(group.events_per_s, pool.events_per_s) +
          " than a caller waiting on a pool of " + n,
      "order per key kept: " + count(group.order_violations) +
          " violations, where competing consumers made " + count(unkeyed.order_violations),
  };
  findings.costs = {
      "machinery: a partition log, a coordinator, checkpoints and fencing",
      "a dead member's partitions wait for the session timeout (1 s) before they move",
  };
  return findings;
}

}  // namespace

Stop scaling_stop() {
  return {
      .name = "scaling",
      .title = "Partitioned consumer groups",
      .intent =
          "Run Billing as several instances without the Order service knowing, and still apply "
          "each order's events in order: each key goes to one partition, and each partition to "
          "one member of the group at a time.",
      .baseline = "the Order service calling a pool of Billing servers in turn, waiting for each",
      .demo_program = demo_programs::scaling,
      .demo_args = {"--count", "1000", "--rate", "1500"},
      .quick_demo_args = {"--count", "300", "--rate", "3000"},
      .demo_shows =
          "One member falls behind, two join and the lag drains, one is SIGKILLed and its "
          "partitions move; 0 double charges and 0 order violations at the end.",
      .measure = measure,
  };
}

}  // namespace eda::tour
