// saga-demo: consistency across services without a distributed transaction (issue #26).
//
// All roles in one process by default, narrated: the orchestrated checkout saga (a checkout
// completes, a declined card is compensated, the orchestrator crashes mid-saga and a new one
// resumes it, Shipping stalls and the saga waits). `--style choreography` runs the same
// checkouts with no orchestrator; `--baseline` the synchronous checkout, killed mid-way;
// `--dual-write` the transactional outbox against the dual write, each killed between commit
// and publication. `--role` runs one service as its own process.
#include <filesystem>
#include <iostream>
#include <system_error>

#include "demo.hpp"
#include "eda/child_process.hpp"
#include "eda/codec.hpp"
#include "eda/trace/demo_trace.hpp"

namespace eda::saga::demo {

CheckoutRequest sample_checkout(std::uint64_t order_id, std::uint64_t quantity) {
  return CheckoutRequest{.order_id = order_id,
                         .sku = "SKU-1",
                         .quantity = quantity,
                         .amount_cents = 1000 * quantity,
                         .card = "4242-4242-4242-4242",
                         .address = "1 High St"};
}

WorkFolder::WorkFolder(const std::string& requested, const std::string& purpose)
    : path_(requested.empty()
                ? std::filesystem::temp_directory_path() / (purpose + "-" + new_event_id())
                : std::filesystem::path(requested)),
      temporary_(requested.empty()) {
  std::filesystem::create_directories(path_);
}

WorkFolder::~WorkFolder() {
  if (temporary_) {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
}

}  // namespace eda::saga::demo

int main(int argc, char** argv) {
  CLI::App app{
      "saga-demo: keeping several services consistent without a distributed transaction.\n"
      "Checkout spans Inventory (reserve stock), Payment (charge the card) and Shipping (book a\n"
      "parcel), each with its own SQLite database and a transactional outbox: a state change\n"
      "and the event announcing it commit together, and a relay publishes the event after.\n"
      "  (default)               the checkout saga, orchestrated and narrated: a checkout\n"
      "                          completes; a declined card is compensated (stock released);\n"
      "                          the orchestrator crashes mid-saga and a new one resumes it from\n"
      "                          its event store; Shipping stalls and the saga waits, PENDING.\n"
      "  --style choreography    the same checkouts with no orchestrator: each service reacts\n"
      "                          to the others' events (and undoes on theirs); the Order desk\n"
      "                          times out a checkout that hangs, and every service undoes.\n"
      "  --baseline              the Order service calls the three and compensates in a catch\n"
      "                          block; then it is killed (SIGKILL) between the charge and the\n"
      "                          booking: stock held and card charged, for good.\n"
      "  --dual-write            Inventory killed between its commit and its publication: the\n"
      "                          dual write loses that event; the outbox publishes it later.\n"
      "  --trace                 the causal tree of each checkout, from the wire.\n\n"
      "One service per process, on one machine (databases in --dir, default the current one):\n"
      "  saga-demo --role inventory --dir /tmp/shop --run-for 60 &\n"
      "  saga-demo --role payment --dir /tmp/shop --run-for 60 &\n"
      "  saga-demo --role shipping --dir /tmp/shop --run-for 60 &\n"
      "  saga-demo --role orchestrator --dir /tmp/shop --count 8\n"
      "(endpoints: --commands, --inventory, --payment, --shipping; every 4th card is declined;\n"
      "kill -9 the orchestrator mid-way and start it again: it resumes. With --baseline, the\n"
      "participants serve RPC at those endpoints and --role order calls them.)\n"
      "Choreographed, one service per process: --style choreography with --role inventory,\n"
      "payment and shipping, then --role desk (it places --count orders and owns their\n"
      "deadlines, --order-timeout-ms; endpoint --desk).\n"};
  eda::saga::demo::Settings s;
  s.common.count = 6;
  eda::cli::add_common_options(app, s.common, 100'000);
  app.add_option("--style", s.style, "orchestration (default) or choreography")
      ->check(CLI::IsMember({"orchestration", "choreography"}))
      ->capture_default_str();
  app.add_flag("--baseline", s.baseline, "Run the synchronous checkout instead");
  app.add_flag("--dual-write", s.dual_write,
               "Show the outbox against the dual write (--count orders, killed at the middle one)");
  app.add_option("--role", s.role,
                 "all (default), orchestrator, inventory, payment, shipping, order (the "
                 "baseline's Order service, with --baseline), or desk (the Order desk, with "
                 "--style choreography)")
      ->check(CLI::IsMember(
          {"all", "orchestrator", "desk", "inventory", "payment", "shipping", "order", "writer"}))
      ->capture_default_str();
  app.add_option("--dir", s.dir,
                 "Where the databases are (all-in-one default: a temp folder, removed after)");
  eda::cli::add_endpoint_option(app, "--commands", s.commands,
                                "The orchestrator's command publisher (--role)")
      ->capture_default_str();
  eda::cli::add_endpoint_option(app, "--inventory", s.inventory,
                                "Inventory's reply publisher, or RPC with --baseline (--role)")
      ->capture_default_str();
  eda::cli::add_endpoint_option(app, "--payment", s.payment,
                                "Payment's reply publisher, or RPC with --baseline (--role)")
      ->capture_default_str();
  eda::cli::add_endpoint_option(app, "--shipping", s.shipping,
                                "Shipping's reply publisher, or RPC with --baseline (--role)")
      ->capture_default_str();
  eda::cli::add_endpoint_option(app, "--desk", s.desk,
                                "The Order desk's event publisher (--style choreography --role)")
      ->capture_default_str();
  app.add_option("--order-timeout-ms", s.order_timeout_ms,
                 "How long the Order desk lets a choreographed checkout stay PENDING before it "
                 "times it out and every service undoes its step")
      ->check(CLI::Range(100, 600'000))
      ->capture_default_str();
  app.add_option("--carrier-delay-ms", s.carrier_delay_ms,
                 "How long Shipping's carrier takes per booking (--role shipping: a carrier that "
                 "hangs)")
      ->check(CLI::Range(0, 600'000))
      ->capture_default_str();
  app.add_option("--first-order", s.first_order,
                 "The first order id a --role orchestrator or order checks out")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1'000'000'000}))
      ->capture_default_str();
  app.add_option("--step-timeout-ms", s.step_timeout_ms,
                 "How long the orchestrator waits for a reply before it compensates")
      ->check(CLI::Range(100, 600'000))
      ->capture_default_str();
  app.add_option("--down-ms", s.down_ms,
                 "How long Shipping stalls in scene 4 (longer than the step timeout: the saga "
                 "times out and rolls back)")
      ->check(CLI::Range(0, 600'000))
      ->capture_default_str();
  app.add_option("--run-for", s.run_for_s, "Seconds a service role runs (0: until Ctrl-C)")
      ->check(CLI::Range(0, 86'400))
      ->capture_default_str();
  app.add_flag("--trace", s.trace, eda::trace::trace_flag_help);
  // The child processes the demo starts and kills; not for people.
  app.add_option("--writer", s.writer)->group("")->check(CLI::IsMember({"outbox", "dual-write"}));
  app.add_option("--die-after-commit-of", s.die_after_commit_of)->group("");
  app.add_option("--stop-after", s.stop_after)->group("");
  app.add_flag("--die-mid-saga", s.die_mid_saga)->group("");
  return eda::cli::run(app, argc, argv, [&] {
    const eda::cli::StopOnSignals stop_on_signals;  // Ctrl-C and SIGTERM: a clean stop
    eda::Narrator say(std::cout, s.common.verbosity);
    s.self = eda::this_program_path();
    if (s.role != "all") {
      if (s.trace) {
        throw std::invalid_argument(
            "--trace shows the all-in-one run; for separate processes run eda-trace live "
            "against their endpoints");
      }
      return eda::saga::demo::run_role(s, say);
    }
    if (s.dual_write) return eda::saga::demo::run_dual_write(s, say);
    if (s.baseline) {
      if (s.trace) throw std::invalid_argument("--trace follows events; the baseline calls");
      return eda::saga::demo::run_baseline(s, say);
    }
    if (s.style == "choreography") return eda::saga::demo::run_choreography(s, say);
    return eda::saga::demo::run_orchestration(s, say);
  });
}
