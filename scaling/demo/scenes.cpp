// The three designs all in one process, narrated, on the same orders and the same gateway.
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "billing_trace.hpp"
#include "demo.hpp"
#include "eda/child_process.hpp"
#include "eda/clock.hpp"
#include "eda/endpoint.hpp"
#include "eda/latency.hpp"
#include "eda/scaling/baseline/billing_pool.hpp"
#include "eda/scaling/competing_consumers.hpp"
#include "eda/scaling/coordinator_service.hpp"
#include "eda/scaling/group_member.hpp"

namespace eda::scaling::demo {
namespace {

using namespace std::chrono_literals;

/// The run's three SQLite files in a fresh directory under the temp directory, removed after.
class DemoFiles {
 public:
  DemoFiles() : dir_(std::filesystem::temp_directory_path() / ("scaling-demo-" + new_event_id())) {
    std::filesystem::create_directories(dir_);
  }
  ~DemoFiles() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  DemoFiles(const DemoFiles&) = delete;
  DemoFiles& operator=(const DemoFiles&) = delete;
  [[nodiscard]] std::string path(const char* name) const { return (dir_ / name).string(); }

 private:
  std::filesystem::path dir_;
};

/// Sleeps `time`, or less when Ctrl-C asks the demo to stop.
void pause_for(std::chrono::milliseconds time) {
  const Deadline deadline(time);
  while (!deadline.expired() && !cli::stop_requested()) std::this_thread::sleep_for(10ms);
}

/// Waits until `done` says yes, at most `limit` (or a stop request); says whether it did.
template <class Done>
bool wait_until(const Done& done, std::chrono::milliseconds limit) {
  const Deadline deadline(limit);
  while (!done()) {
    if (deadline.expired() || cli::stop_requested()) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

/// The order with the poison amendment (when the run has enough orders).
constexpr std::uint64_t poison_order = 50;

std::uint64_t total_events(const Settings& s) { return s.common.count * 3; }

/// A member of the group on a thread of this process.
class MemberThread {
 public:
  MemberThread(zmq::context_t& context, MemberOptions options)
      : member_(context, std::move(options)),
        thread_([this](const std::stop_token& stop) { member_.run(stop); }) {}
  void stop() {
    thread_.request_stop();
    if (thread_.joinable()) thread_.join();
  }
  [[nodiscard]] MemberStatus status() const { return member_.status(); }

 private:
  GroupMember member_;
  std::jthread thread_;
};

std::uint64_t events_behind(const MemberStatus& status) {
  std::uint64_t behind = 0;
  for (const auto& [partition, lag] : status.lag) behind += lag;
  return behind;
}

std::string describe(const MemberStatus& status) {
  return status.member_id + " owns " + std::to_string(status.owned.size()) + " partitions, " +
         std::to_string(events_behind(status)) + " events behind, charged " +
         std::to_string(status.charged);
}

/// Writes the run's orders to the log at the settings' rate, on a thread of its own.
class Producer {
 public:
  /// With `trace`, each appended event is also announced for the tracer.
  Producer(const Settings& s, const std::string& log_path, BillingTrace* trace)
      : thread_([this, &s, log_path, trace](const std::stop_token& stop) {
          produce(s, log_path, trace, stop);
        }) {}
  [[nodiscard]] bool done() const { return done_.load(); }
  [[nodiscard]] std::uint64_t written() const { return written_.load(); }

 private:
  void produce(const Settings& s, const std::string& log_path, BillingTrace* trace,
               const std::stop_token& stop) {
    PartitionLog log(log_path, s.partitions);
    KeyedProducer producer(log, "order-service");
    if (trace) {
      producer.on_appended([trace](const LogAppend& event) { trace->announce(event.envelope); });
    }
    // Every 10 ms, the orders due by then: a steady rate, in one transaction per tick.
    const double orders_per_tick = std::max(1.0, s.rate / 3.0 / 100.0);
    double due = 0;
    std::uint64_t n = 0;
    while (n < s.common.count && !stop.stop_requested() && !cli::stop_requested()) {
      due += orders_per_tick;
      while (n < s.common.count && due >= 1.0) {
        ++n;
        add_order_events(producer, n, n == poison_order);
        due -= 1.0;
      }
      written_ += producer.flush();
      std::this_thread::sleep_for(10ms);
    }
    done_ = true;
  }

  std::atomic<bool> done_{false};
  std::atomic<std::uint64_t> written_{0};
  std::jthread thread_;
};

}  // namespace

OrderLife order_life(std::uint64_t n, bool poison) {
  const std::string id = "order-" + std::to_string(n);
  const auto amount = static_cast<std::int64_t>(1000 + n % 97);
  return {OrderPlaced{id, 1, amount}, OrderAmended{id, 2, poison ? -amount : amount + 250},
          OrderCancelled{id, 3}};
}

void add_order_events(KeyedProducer& producer, std::uint64_t n, bool poison) {
  const OrderLife life = order_life(n, poison);
  // One correlation per order: each step follows the one before it (a tracer draws the
  // order's life as one causal tree).
  producer.add(life.placed.order_id, life.placed);
  producer.add(life.placed.order_id, life.amended, Cause::of(producer.last_added()));
  producer.add(life.placed.order_id, life.cancelled, Cause::of(producer.last_added()));
}

namespace {

CoordinatorServiceOptions coordinator_options_for(const Settings& s, const DemoFiles& files) {
  CoordinatorServiceOptions options;
  // The third member is another process: inproc cannot reach it, so inproc means tcp here.
  options.endpoint = ephemeral_endpoint(
      s.common.transport == Transport::inproc ? Transport::tcp : s.common.transport,
      "scaling-coordinator");
  options.checkpoint_path = files.path("checkpoints.db");
  options.group_options.partition_count = s.partitions;
  options.durability = sqlite::Durability::normal;
  return options;
}

MemberOptions member_options_for(const Settings& s, const DemoFiles& files,
                                 const std::string& coordinator) {
  MemberOptions options;
  options.coordinator = coordinator;
  options.log_path = files.path("orders.db");
  options.checkpoint_path = files.path("checkpoints.db");
  options.gateway_path = files.path("gateway.db");
  options.partition_count = s.partitions;
  options.gateway_call_time = std::chrono::milliseconds(s.gateway_ms);
  options.dead_letters = std::make_shared<DeadLetterBox>();
  return options;
}

/// Starts a member as a process of its own in `member`: this program with `--role member`
/// (none when this program's path is unknown).
void start_member_process(const Settings& s, const MemberOptions& m,
                          std::optional<ChildProcess>& member, Narrator& say) {
  if (s.self.empty()) return;
  member.emplace(
      ChildSpec{.argv = {s.self, "--role", "member", "--name", "billing-proc", "--coordinator",
                         m.coordinator, "--log", m.log_path, "--checkpoints", m.checkpoint_path,
                         "--gateway", m.gateway_path, "--partitions", std::to_string(s.partitions),
                         "--gateway-ms", std::to_string(s.gateway_ms), "-q"},
                .output = ChildOutput::inherit,
                .grace = 2000ms});
  say.say("billing", "a third member starts as a process of its own (pid " +
                         std::to_string(member->pid()) + ")");
}

/// Kills `member` with SIGKILL and tells how long its partitions took to reach the survivors.
void kill_member_process(const Settings& s, ChildProcess& member, const MemberThread& first,
                         const MemberThread& second, Narrator& say) {
  say.heading("The third member is killed (SIGKILL): its partitions move after 1 s");
  const auto owned = [&] { return first.status().owned.size() + second.status().owned.size(); };
  const std::size_t owned_before = owned();
  member.signal(SIGKILL);
  const std::int64_t killed_at = monotonic_ns();
  (void)member.wait(10s);
  const bool moved = wait_until([&] { return owned() == s.partitions; }, 10s);
  say.say("coordinator", std::string(moved ? "its " : "NOT all of its ") +
                             std::to_string(s.partitions - owned_before) +
                             " partitions moved to the survivors " +
                             format_duration(monotonic_ns() - killed_at) +
                             " after the kill; they resume from its last checkpoint");
}

/// Waits until the producer is done and no partition is behind, and says so.
void drain(const Settings& s, const Producer& producer, const MemberThread& first,
           const MemberThread& second, const MemberOptions& options, Narrator& say) {
  say.heading("The lag drains");
  (void)wait_until([&] { return producer.done(); }, 600s);
  (void)wait_until(
      [&] {
        const auto a = first.status();
        const auto b = second.status();
        return a.lag.size() + b.lag.size() == s.partitions && events_behind(a) == 0 &&
               events_behind(b) == 0;
      },
      600s);
  say.say("billing", describe(first.status()));
  say.say("billing", describe(second.status()));
  const auto& box = dynamic_cast<const DeadLetterBox&>(*options.dead_letters);
  for (const DeadLetter& letter : box.recent()) {
    say.say("billing", "dead-lettered after " + std::to_string(options.max_attempts) +
                           " attempts with backoff (" + letter.origin + "): " + letter.reason +
                           "; only its partition waited meanwhile");
  }
}

/// Prints every check of the run; true when every event was charged once and in order.
bool summarize(const Settings& s, const Producer& producer, const MemberStatus& a,
               const MemberStatus& b, const MemberOptions& options, Narrator& say) {
  BillingGateway gateway(options.gateway_path);
  const std::uint64_t poison = s.common.count >= poison_order ? 1 : 0;
  say.heading("Summary (partitioned group)");
  std::cout << "events written: " << producer.written() << ", charged: " << gateway.charges()
            << ", dead-lettered (poison): " << a.dead_lettered + b.dead_lettered << '\n'
            << "double charges: " << gateway.double_charges()
            << ", per-order order violations: " << gateway.order_violations() << '\n'
            << "re-delivered after the kill and not charged again: "
            << a.already_charged + b.already_charged << '\n'
            << "charges per member: " << a.member_id << " " << a.charged << ", " << b.member_id
            << " " << b.charged << ", billing-proc (killed) " << gateway.charges_by("billing-proc")
            << '\n';
  return gateway.double_charges() == 0 && gateway.order_violations() == 0 &&
         gateway.charges() + poison == producer.written();
}

}  // namespace

int run_partitioned(const Settings& s, Narrator& say) {
  DemoFiles files;
  zmq::context_t context;
  say.heading("The partitioned consumer group: " + std::to_string(s.partitions) +
              " partitions, Billing members joining and dying");
  CoordinatorService coordinator(context, coordinator_options_for(s, files));
  say.say("coordinator",
          "serving at " + coordinator.endpoint() + "; a member silent for 1 s is declared dead");
  MemberOptions options = member_options_for(s, files, coordinator.endpoint());
  {
    // Created once, before the members open them together: two connections turning a new
    // SQLite file to WAL at the same moment can be refused with "database is locked".
    const PartitionLog log(options.log_path, s.partitions);
    const BillingGateway gateway(options.gateway_path);
  }

  std::optional<BillingTrace> trace;
  if (s.trace) {
    trace.emplace(context, s.common.transport, s.partitions);
    say.say("tracer", "taps the Order service's announcements and each partition's charges (" +
                          std::to_string(s.partitions) + " streams billing-pN)");
    options.on_charged = [&trace](const MemberId& member, PartitionId partition,
                                  std::string_view envelope) {
      trace->charged(member, partition, envelope);
    };
  }
  Producer producer(s, options.log_path, trace ? &*trace : nullptr);
  say.say("order-service", "writes " + std::to_string(s.common.count) + " orders (" +
                               std::to_string(total_events(s)) + " events) at " +
                               std::to_string(s.rate) + " events/s, each keyed by its order id");
  MemberThread first(context, options);
  (void)wait_until([&] { return first.status().owned.size() == s.partitions; }, 10s);
  say.say("billing", first.status().member_id + " joined and owns all " +
                         std::to_string(s.partitions) + " partitions; the gateway takes " +
                         std::to_string(s.gateway_ms) + " ms a call");
  pause_for(1000ms);
  say.say("billing", describe(first.status()) + ": one member cannot keep up");

  say.heading("Two more members join: only the partitions that must move, move");
  MemberThread second(context, options);
  std::optional<ChildProcess> third;
  start_member_process(s, options, third, say);
  const std::size_t expected_members = third ? 3 : 2;
  (void)wait_until([&] { return coordinator.status().members.size() == expected_members; }, 10s);
  (void)wait_until([&] { return !second.status().owned.empty(); }, 10s);
  pause_for(1000ms);
  say.say("billing", describe(first.status()));
  say.say("billing", describe(second.status()));
  say.say("coordinator",
          "generation " + std::to_string(coordinator.status().generation) +
              ", moves so far: " + std::to_string(coordinator.status().group.grants) + " grants");
  if (third) kill_member_process(s, *third, first, second, say);

  drain(s, producer, first, second, options, say);
  first.stop();
  second.stop();
  if (cli::stop_requested()) {
    say.say("demo", "stopped: nothing kept (the demo's files were temporary)");
    return 0;
  }
  const bool ok = summarize(s, producer, first.status(), second.status(), options, say);
  if (trace) {
    std::cout << "(the third member is a process of its own, not tapped: its charges have no "
                 "reaction in the trees)\n";
    trace->report(std::cout);
  }
  return ok ? 0 : 1;
}

int run_unkeyed(const Settings& s, Narrator& say) {
  DemoFiles files;
  zmq::context_t context;
  say.heading("Competing consumers, unkeyed: " + std::to_string(s.members) +
              " Billing workers take the events in turn");
  ReorderDetector detector;
  std::optional<BillingTrace> trace;
  const Partitioner partitioner(s.partitions);
  if (s.trace) {
    trace.emplace(context, s.common.transport, s.partitions);
    say.say("tracer",
            "taps the Order service's announcements and the charges, per partition "
            "of the order's key, as the partitioned group would have them (" +
                std::to_string(s.partitions) + " streams billing-pN)");
  }
  std::vector<std::unique_ptr<CompetingWorker>> workers;
  std::vector<std::jthread> threads;
  std::vector<std::string> endpoints;
  for (int i = 1; i <= s.members; ++i) {
    CompetingWorkerOptions options;
    options.name = "worker-" + std::to_string(i);
    options.endpoint = ephemeral_endpoint(s.common.transport, options.name);
    options.gateway_path = files.path("gateway.db");
    options.gateway_call_time = std::chrono::milliseconds(s.gateway_ms);
    options.detector = &detector;
    if (trace) {
      options.on_charged = [&trace, &partitioner](const std::string& worker,
                                                  std::string_view envelope) {
        const auto order = order_step_of(DecodedEvent::decode(envelope)).order_id;
        trace->charged(worker, partitioner.partition_of(order), envelope);
      };
    }
    workers.push_back(std::make_unique<CompetingWorker>(context, options));
    endpoints.push_back(workers.back()->endpoint());
  }
  threads.reserve(workers.size());
  for (auto& worker : workers) {
    threads.emplace_back([&worker](const std::stop_token& stop) { worker->run(stop); });
  }
  UnkeyedDistributor distributor(context, endpoints);
  const std::int64_t start = monotonic_ns();
  for (std::uint64_t n = 1; n <= s.common.count && !cli::stop_requested(); ++n) {
    const OrderLife life = order_life(n, n == poison_order);
    // One correlation per order, each step caused by the one before, as in the group's run.
    const auto announced = [&] {
      if (trace) trace->announce(distributor.last_envelope());
    };
    const EventMetadata placed = distributor.send(life.placed);
    announced();
    const EventMetadata amended = distributor.send(life.amended, Cause::of(placed));
    announced();
    (void)distributor.send(life.cancelled, Cause::of(amended));
    announced();
  }
  say.say("order-service",
          "pushed " + std::to_string(total_events(s)) + " events, one worker after the other");
  const auto processed = [&] {
    std::uint64_t done = 0;
    for (const auto& worker : workers) done += worker->status().processed;
    return done;
  };
  (void)wait_until([&] { return processed() >= total_events(s); }, 600s);
  const std::int64_t elapsed = monotonic_ns() - start;
  for (auto& thread : threads) thread.request_stop();
  threads.clear();
  BillingGateway gateway(files.path("gateway.db"));
  std::uint64_t failed = 0;
  std::uint64_t retries = 0;
  for (const auto& worker : workers) {
    failed += worker->status().failed;
    retries += worker->status().retries;
  }
  say.heading("Summary (unkeyed)");
  std::cout << "events: " << total_events(s) << " in " << format_duration(elapsed)
            << ", charged: " << gateway.charges()
            << ", dead-lettered (poison): " << failed << " after " << retries
            << " retries, its worker and the events queued behind it waiting meanwhile\n"
            << "reorderings the workers detected: " << detector.reorders()
            << " (a step charged after a later step of its order); the gateway's record shows "
            << gateway.order_violations() << '\n';
  if (trace) trace->report(std::cout);
  // Reorderings are this design's expected finding; a lost or doubled charge is not.
  return gateway.charges() + failed == total_events(s) && gateway.double_charges() == 0 ? 0 : 1;
}

int run_baseline(const Settings& s, Narrator& say) {
  DemoFiles files;
  zmq::context_t context;
  say.heading("Baseline: the Order service calls " + std::to_string(s.members) +
              " Billing servers round-robin, waiting for each charge");
  std::vector<std::unique_ptr<baseline::BillingServer>> servers;
  std::vector<std::jthread> threads;
  std::vector<std::string> endpoints;
  for (int i = 1; i <= s.members; ++i) {
    servers.push_back(std::make_unique<baseline::BillingServer>(
        context,
        baseline::BillingServerOptions{
            .endpoint = ephemeral_endpoint(s.common.transport, "server-" + std::to_string(i)),
            .name = "server-" + std::to_string(i),
            .gateway_path = files.path("gateway.db"),
            .gateway_call_time = std::chrono::milliseconds(s.gateway_ms)}));
    endpoints.push_back(servers.back()->endpoint());
  }
  threads.reserve(servers.size());
  for (auto& server : servers) {
    threads.emplace_back([&server](const std::stop_token& stop) { server->serve(stop); });
  }
  baseline::BillingPool pool(context, endpoints);
  LatencyRecorder latency;
  std::uint64_t declined = 0;
  const std::int64_t start = monotonic_ns();
  for (std::uint64_t n = 1; n <= s.common.count && !cli::stop_requested(); ++n) {
    const OrderLife life = order_life(n, n == poison_order);
    const auto timed = [&](const auto& payload) {
      const std::int64_t begun = monotonic_ns();
      try {
        (void)pool.charge(payload);
      } catch (const RpcError& error) {
        ++declined;
        say.say("order-service", std::string("a charge was declined: ") + error.what());
      }
      latency.record(monotonic_ns() - begun);
    };
    timed(life.placed);
    timed(life.amended);
    timed(life.cancelled);
  }
  const std::int64_t elapsed = monotonic_ns() - start;
  for (auto& thread : threads) thread.request_stop();
  threads.clear();
  BillingGateway gateway(files.path("gateway.db"));
  say.heading("Summary (baseline)");
  std::cout << "events: " << total_events(s) << " in " << format_duration(elapsed)
            << ", charged: " << gateway.charges() << ", declined: " << declined << '\n'
            << "each charge as the Order service waited for it: " << latency.summary().to_string()
            << '\n'
            << "per-order order violations: " << gateway.order_violations()
            << " (one call at a time keeps order, and keeps the caller waiting)\n";
  const bool ok = gateway.charges() + declined == total_events(s) &&
                  gateway.double_charges() == 0 && gateway.order_violations() == 0;
  return ok ? 0 : 1;
}

}  // namespace eda::scaling::demo
