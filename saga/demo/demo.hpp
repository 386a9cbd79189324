// saga-demo's settings and its runs: the orchestrated checkout narrated (orchestration.cpp),
// the same checkout choreographed (choreography.cpp), the synchronous baseline
// (baseline.cpp), the outbox against the dual write (dual_write.cpp), and each service as a
// process of its own (roles.cpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include <optional>
#include <string_view>

#include "eda/cli.hpp"
#include "eda/clock.hpp"
#include "eda/narrator.hpp"
#include "eda/saga/checkout_saga.hpp"
#include "eda/trace/demo_trace.hpp"

namespace eda::saga::demo {

/// What the command line asked for.
struct Settings {
  cli::CommonOptions common;            // --count: checkouts (roles), orders (--dual-write)
  std::string style = "orchestration";  // --style orchestration|choreography
  bool baseline = false;                // --baseline
  bool dual_write = false;              // --dual-write
  std::string role = "all";  // --role all|orchestrator|desk|inventory|payment|shipping|order
  std::string dir;           // --dir: where the databases are (empty: a temp folder)
  std::string commands = "tcp://127.0.0.1:5580";   // --commands: the orchestrator's commands
  std::string inventory = "tcp://127.0.0.1:5581";  // --inventory: its replies (or RPC, baseline)
  std::string payment = "tcp://127.0.0.1:5582";    // --payment
  std::string shipping = "tcp://127.0.0.1:5583";   // --shipping
  std::string desk = "tcp://127.0.0.1:5584";       // --desk: the Order desk's events (choreography)
  int order_timeout_ms = 2000;                     // --order-timeout-ms (choreography)
  int carrier_delay_ms = 0;                        // --carrier-delay-ms (--role shipping)
  std::uint64_t first_order = 1;                   // --first-order (--role orchestrator|order)
  int step_timeout_ms = 5000;                      // --step-timeout-ms
  int down_ms = 1000;                              // --down-ms: how long Shipping stalls
  int run_for_s = 0;                               // --run-for: seconds a role runs (0: Ctrl-C)
  bool trace = false;                              // --trace
  // Internal, for the child processes the demo kills (hidden from --help).
  std::string writer;                     // --writer outbox|dual-write
  std::uint64_t die_after_commit_of = 0;  // --die-after-commit-of ORDER (0: never)
  std::string stop_after;                 // --stop-after STEP (--baseline --role order)
  bool die_mid_saga = false;              // --die-mid-saga (--role orchestrator): SIGKILL itself
  std::string self;                       // this program's path, to start its child processes
};

/// The orchestrated checkout, narrated: a checkout completes, a declined card is compensated,
/// the orchestrator crashes mid-saga and a new one resumes it, Shipping stalls and the saga waits.
int run_orchestration(const Settings& s, Narrator& say);
/// The same checkouts choreographed: no orchestrator, each service reacting to the others.
int run_choreography(const Settings& s, Narrator& say);
/// The synchronous baseline: three blocking calls compensated in a catch block, and what a
/// SIGKILL of the Order service between two calls leaves behind.
int run_baseline(const Settings& s, Narrator& say);
/// The transactional outbox against the dual write, each writer killed between its commit and
/// its publication.
int run_dual_write(const Settings& s, Narrator& say);
/// One service (or the baseline's Order service, or a writer to kill) as its own process.
int run_role(const Settings& s, Narrator& say);
/// One service of the choreographed checkout (the Order desk or a participant) as its own process.
int run_choreography_role(const Settings& s, Narrator& say);

/// The checkout of order `order_id`: `quantity` units of SKU-1 at 10.00 each, a good card.
CheckoutRequest sample_checkout(std::uint64_t order_id, std::uint64_t quantity = 1);

/// Calls `poll_once()` until `done()` (at most `limit`, and not after Ctrl-C); false if it did
/// not come.
template <class PollOnce, class Done>
bool poll_until(PollOnce&& poll_once, Done&& done, std::chrono::milliseconds limit) {
  const Deadline deadline(limit);
  while (!done()) {
    if (deadline.expired() || cli::stop_requested()) return false;
    poll_once();
  }
  return true;
}

/// Waits until the services of `shop` are connected (its connect()), then, with --trace, starts
/// the tap on its publishers (saying it taps `what`); false when they did not connect.
template <class Shop>
bool connect_and_trace(const Settings& s, Narrator& say, zmq::context_t& context, Shop& shop,
                       std::optional<trace::DemoTrace>& trace, std::string_view what) {
  if (!shop.connect()) {
    say.say("demo", "the services did not connect within 15 s");
    return false;
  }
  if (s.trace) {
    say.say("tracer", "taps " + std::string(what));
    trace.emplace(context, trace::DemoTraceOptions{.endpoints = shop.publishers(),
                                                   .serve_publishers = [&] { shop.poll_once(); }});
  }
  return true;
}

/// A folder for the demo's databases: `requested` when given (kept afterwards), otherwise a
/// fresh one in the temp directory, removed when the run ends.
class WorkFolder {
 public:
  /// Uses `requested`, or makes a fresh folder named after `purpose`.
  WorkFolder(const std::string& requested, const std::string& purpose);
  ~WorkFolder();
  WorkFolder(const WorkFolder&) = delete;
  WorkFolder& operator=(const WorkFolder&) = delete;
  /// The path of `file` in the folder.
  [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }
  /// Whether it is removed at the end.
  [[nodiscard]] bool temporary() const noexcept { return temporary_; }
  /// The folder.
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
  bool temporary_;
};

}  // namespace eda::saga::demo
