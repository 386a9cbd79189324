// scaling-demo: scaling Billing out while keeping each order's events in order, three ways.
//
// All roles in one process by default, narrated: the partitioned consumer group (one member
// falls behind, two join and the lag drains, one is killed and its partitions move). With
// `--design unkeyed`, competing consumers on the same events, and the reorderings they cause;
// with `--baseline`, the Order service calling a pool of Billing servers synchronously.
// `--role` runs one role of the group as its own process.
#include <iostream>
#include <stdexcept>

#include "demo.hpp"
#include "eda/child_process.hpp"
#include "eda/trace/demo_trace.hpp"

namespace {

using eda::scaling::demo::Settings;

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "scaling-demo: scaling out a consumer while keeping per-order order (issue #25).\n"
      "Billing charges a payment gateway (~1 ms a call) for each order's events: placed,\n"
      "amended, cancelled, which must be applied in order. Three designs on the same events:\n"
      "  (default)          a partitioned consumer group: events keyed by order id into\n"
      "                     partitions, each owned by one member at a time; a coordinator\n"
      "                     moves only the partitions that must move (cooperative, sticky),\n"
      "                     members resume from durable checkpoints; charges are idempotent.\n"
      "                     Narrated: one member falls behind, two join, one is SIGKILLed.\n"
      "  --design unkeyed   competing consumers (PUSH/PULL): scales, and reorders an order's\n"
      "                     events; each reordering is detected and counted.\n"
      "  --baseline         the Order service calls N Billing servers round-robin and waits.\n"
      "  --trace            each order's causal tree: its events and their charges, and\n"
      "                     every charge made out of its partition's order (unkeyed) flagged.\n\n"
      "One role per process, on one machine (the files are shared SQLite databases):\n"
      "  scaling-demo --role coordinator --coordinator tcp://127.0.0.1:5570\n"
      "  scaling-demo --role member --coordinator tcp://127.0.0.1:5570   (as many as you like)\n"
      "  scaling-demo --role producer --count 2000   (again: it writes the next orders)\n"
      "  scaling-demo --role report                  (every charge checked)\n"
      "Stop a member with Ctrl-C (a clean leave) or kill -9 (its partitions move after 1 s).\n"};
  Settings s;
  s.common.count = 2000;
  eda::cli::add_common_options(app, s.common, 1'000'000);
  app.add_flag("--baseline", s.baseline, "Run the synchronous baseline instead");
  app.add_option("--design", s.design, "partitioned (default) or unkeyed")
      ->check(CLI::IsMember({"partitioned", "unkeyed"}))
      ->capture_default_str();
  app.add_option("--role", s.role,
                 "all (default), coordinator, member, producer, or report (the gateway's "
                 "charges, double charges and order violations; exit 1 if any)")
      ->check(CLI::IsMember({"all", "coordinator", "member", "producer", "report"}))
      ->capture_default_str();
  eda::cli::add_endpoint_option(app, "--coordinator", s.coordinator,
                                "The coordinator's endpoint (--role)")
      ->capture_default_str();
  app.add_option("--log", s.log_file, "The partition log's file (--role)")->capture_default_str();
  app.add_option("--checkpoints", s.checkpoint_file, "The checkpoint store's file (--role)")
      ->capture_default_str();
  app.add_option("--gateway", s.gateway_file, "The gateway's record (--role)")
      ->capture_default_str();
  app.add_option("--gateway-endpoint", s.gateway_endpoint,
                 "A gateway service to charge through instead of the record's file (--role member)");
  app.add_option("--turn", s.turn,
                 "Events of one partition a member applies per turn, before its next partition's "
                 "turn (--role member)")
      ->check(CLI::Range(1, 10'000))
      ->capture_default_str();
  app.add_option("--fetch", s.fetch,
                 "Events of one partition a member reads from the log at once (--role member)")
      ->check(CLI::Range(1, 10'000))
      ->capture_default_str();
  app.add_option("--name", s.member_name, "A member's name; its id is NAME-N (--role member)")
      ->capture_default_str();
  app.add_option("--partitions", s.partitions, "Partitions of the group")
      ->check(CLI::Range(1, 65'536))
      ->capture_default_str();
  app.add_option("--gateway-ms", s.gateway_ms, "Time per gateway call, in ms")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  app.add_option("--rate", s.rate, "Events per second the producer writes")
      ->check(CLI::Range(3, 1'000'000))
      ->capture_default_str();
  app.add_option("--members", s.members, "Workers (--design unkeyed) or servers (--baseline)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_flag("--trace", s.trace, eda::trace::trace_flag_help);
  app.add_option("--run-for", s.run_for_s,
                 "Seconds a coordinator or member role runs (0: until Ctrl-C)")
      ->check(CLI::Range(0, 86'400))
      ->capture_default_str();
  return eda::cli::run(app, argc, argv, [&] {
    const eda::cli::StopOnSignals stop_on_signals;  // Ctrl-C and SIGTERM: a clean stop
    eda::Narrator say(std::cout, s.common.verbosity);
    s.self = eda::this_program_path();
    if (s.trace && (s.role != "all" || s.baseline)) {
      throw std::invalid_argument(
          "--trace follows the events of a run all in one process (the group's, or with "
          "--design unkeyed); the baseline calls, and separate roles have no publisher to tap");
    }
    if (s.role != "all") return eda::scaling::demo::run_role(s, say);
    if (s.baseline) return eda::scaling::demo::run_baseline(s, say);
    if (s.design == "unkeyed") return eda::scaling::demo::run_unkeyed(s, say);
    return eda::scaling::demo::run_partitioned(s, say);
  });
}
