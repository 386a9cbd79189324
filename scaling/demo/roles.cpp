// The partitioned group's roles, each as a process of its own: the coordinator, a member, and
// the producer. They share the three SQLite files (on one machine) and the coordinator's
// endpoint.
#include <chrono>
#include <iostream>
#include <thread>

#include "demo.hpp"
#include "eda/clock.hpp"
#include "eda/scaling/coordinator_service.hpp"
#include "eda/scaling/billing.hpp"
#include "eda/scaling/group_member.hpp"

namespace eda::scaling::demo {
namespace {

using namespace std::chrono_literals;

/// Whether a service role should go on: no Ctrl-C, and --run-for not over.
bool keep_running(const Settings& s, const Deadline& run_for) {
  return !cli::stop_requested() && (s.run_for_s == 0 || !run_for.expired());
}

int run_coordinator(const Settings& s, Narrator& say) {
  zmq::context_t context;
  CoordinatorServiceOptions options;
  options.endpoint = s.coordinator;
  options.checkpoint_path = s.checkpoint_file;
  options.group_options.partition_count = s.partitions;
  CoordinatorService coordinator(context, options);
  say.say("coordinator",
          "serving at " + coordinator.endpoint() + ", checkpoints in " + s.checkpoint_file +
              (coordinator.status().restarted ? " (restarted: joins held for one session timeout)"
                                              : ""));
  const Deadline run_for(std::chrono::seconds(s.run_for_s));
  std::uint64_t generation = coordinator.status().generation;
  while (keep_running(s, run_for)) {
    std::this_thread::sleep_for(50ms);
    const auto status = coordinator.status();
    if (status.generation == generation) continue;
    generation = status.generation;
    std::size_t owned = 0;
    for (const auto& owner : status.owners) owned += owner ? 1U : 0U;
    say.say("coordinator", "generation " + std::to_string(generation) + ": " +
                               std::to_string(status.members.size()) + " members, " +
                               std::to_string(owned) + " of " + std::to_string(s.partitions) +
                               " partitions owned, " + std::to_string(status.group.deaths) +
                               " deaths so far");
  }
  coordinator.stop();
  say.say("coordinator", "stopped; the committed checkpoints stay in " + s.checkpoint_file);
  return 0;
}

int run_member(const Settings& s, Narrator& say) {
  zmq::context_t context;
  MemberOptions options;
  options.coordinator = s.coordinator;
  options.log_path = s.log_file;
  options.checkpoint_path = s.checkpoint_file;
  options.gateway_path = s.gateway_file;
  options.gateway_endpoint = s.gateway_endpoint;
  options.turn = s.turn;
  options.fetch = s.fetch;
  options.partition_count = s.partitions;
  options.gateway_call_time = std::chrono::milliseconds(s.gateway_ms);
  options.name = s.member_name;
  GroupMember member(context, options);
  std::exception_ptr failure;
  std::jthread worker([&](const std::stop_token& stop) {
    try {
      member.run(stop);
    } catch (...) {
      failure = std::current_exception();
    }
  });
  const Deadline run_for(std::chrono::seconds(s.run_for_s));
  std::size_t owned = 0;
  std::string id;
  while (keep_running(s, run_for) && !failure) {
    std::this_thread::sleep_for(20ms);
    const auto status = member.status();
    if (status.owned.size() == owned && status.member_id == id) continue;
    owned = status.owned.size();
    id = status.member_id;
    say.say(id, "owns " + std::to_string(owned) + " partitions; charged " +
                    std::to_string(status.charged) + ", re-delivered and not charged again " +
                    std::to_string(status.already_charged));
  }
  worker.request_stop();
  worker.join();
  if (failure) std::rethrow_exception(failure);
  const auto status = member.status();
  say.say(status.member_id.empty() ? s.member_name : status.member_id,
          "left the group after " + std::to_string(status.processed) + " events (" +
              std::to_string(status.charged) + " charged, " + std::to_string(status.dead_lettered) +
              " dead-lettered)");
  return 0;
}

int run_producer(const Settings& s, Narrator& say) {
  PartitionLog log(s.log_file, s.partitions);
  KeyedProducer producer(log, "order-service");
  // Orders are numbered on from those already in the log (three events each), so a second run
  // writes new orders rather than a second life of the first ones.
  std::uint64_t in_log = 0;
  for (const std::uint64_t end : log.end_offsets()) in_log += end;
  const std::uint64_t first = in_log / 3;
  const std::uint64_t last = first + s.common.count;
  std::uint64_t n = first;
  const std::uint64_t per_tick =
      std::max<std::uint64_t>(1, static_cast<std::uint64_t>(s.rate) / 300);
  while (n < last && !cli::stop_requested()) {
    for (std::uint64_t i = 0; i < per_tick && n < last; ++i) {
      ++n;
      add_order_events(producer, n, false);
    }
    (void)producer.flush();
    std::this_thread::sleep_for(10ms);
  }
  say.say("order-service", "wrote " + std::to_string(producer.appended()) + " events of orders " +
                               std::to_string(first + 1) + " to " + std::to_string(n) + " to " +
                               s.log_file);
  return 0;
}

int run_report(const Settings& s) {
  BillingGateway gateway(s.gateway_file);
  const std::uint64_t doubles = gateway.double_charges();
  const std::uint64_t violations = gateway.order_violations();
  std::cout << "gateway: " << gateway.charges() << " charges of " << gateway.orders() << " orders, "
            << doubles << " double charges, " << violations << " order violations\n";
  return doubles == 0 && violations == 0 ? 0 : 1;
}

}  // namespace

int run_role(const Settings& s, Narrator& say) {
  if (s.role == "coordinator") return run_coordinator(s, say);
  if (s.role == "member") return run_member(s, say);
  if (s.role == "report") return run_report(s);
  return run_producer(s, say);
}

}  // namespace eda::scaling::demo
