// The outbox and sagas stop: the checkout across Inventory, Payment and Shipping. Measured here:
// what survives a kill, which is what the pattern is for. The outbox against the dual write and
// the saga against the synchronous checkout are each killed by SIGKILL in saga-demo's own runs
// (--dual-write, --baseline), started as child processes and read from their summaries; and the
// fault matrix of the saga rig (saga/rig/fault_matrix.hpp, bench-saga's at 10 000 sagas)
// runs here at a smaller size. The speed of the checkout is bench-saga's (the saga page).

#include <chrono>
#include <cstdint>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include "demo_programs.hpp"
#include "eda/child_process.hpp"
#include "eda/clock.hpp"
#include "fault_matrix.hpp"
#include "measure.hpp"
#include "progress.hpp"
#include "stop.hpp"

namespace eda::tour {

namespace {

using namespace std::chrono_literals;

/// The lines saga-demo printed in a run with `args` (bounded: 60 s); throws when it failed.
std::vector<std::string> demo_lines(const std::vector<std::string>& args) {
  std::vector<std::string> argv{demo_programs::saga};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<std::string> lines;
  ChildProcess demo(ChildSpec{.argv = argv, .output = ChildOutput::capture, .grace = 1000ms});
  const ChildResult result =
      demo.wait(60s, [&](std::string_view line) { lines.emplace_back(line); });
  if (!result.succeeded()) {
    throw std::runtime_error(result.describe() + " (it shows what it should not have)");
  }
  return lines;
}

/// The first match of `pattern` in `lines`, its groups as numbers; throws when none matches.
std::vector<std::uint64_t> find_numbers(const std::vector<std::string>& lines,
                                        const std::string& pattern) {
  const std::regex wanted(pattern);
  for (const std::string& line : lines) {
    std::smatch match;
    if (!std::regex_search(line, match, wanted)) continue;
    std::vector<std::uint64_t> numbers;
    for (std::size_t i = 1; i < match.size(); ++i) numbers.push_back(std::stoull(match[i].str()));
    return numbers;
  }
  throw std::runtime_error("saga-demo printed no line like '" + pattern + "'");
}

/// Whether a line of `lines` starts with `text`.
bool contains(const std::vector<std::string>& lines, const std::string& text) {
  for (const std::string& line : lines) {
    if (line.starts_with(text)) return true;
  }
  return false;
}

/// Events lost across `runs` of saga-demo --dual-write (each kills both designs once).
struct KillCounts {
  std::uint64_t kills = 0;
  std::uint64_t outbox_lost = 0;
  std::uint64_t dual_lost = 0;
};

KillCounts kill_writers(int runs) {
  KillCounts counts;
  for (int run = 0; run < runs; ++run) {
    const auto lines = demo_lines({"--dual-write", "--count", "4", "-q"});
    counts.dual_lost += find_numbers(lines, R"(^dual write: (\d+) of)").at(0);
    counts.outbox_lost += find_numbers(lines, R"(^outbox: +(\d+) of)").at(0);
    ++counts.kills;
  }
  return counts;
}

Findings measure(const TourOptions& options, Progress& progress) {
  const int kill_runs = options.quick ? 1 : 3;
  const std::uint64_t checkouts = options.quick ? 100 : 1000;

  const KillCounts kills = progress.stage(
      "the outbox and the dual write, each writer killed between commit and publication, " +
          std::to_string(kill_runs) + " time(s)",
      [&] { return kill_writers(kill_runs); });
  const bool half_done =
      progress.stage("the synchronous checkout, its Order service killed after the charge", [] {
        return contains(demo_lines({"--baseline", "-q"}),
                        "order 3 after the kill: stock held yes, card charged yes, parcel no");
      });
  double seconds = 0;
  const saga::test::FaultMatrixResult matrix = progress.stage(
      std::to_string(checkouts) + " checkouts under injected faults (the fault matrix)", [&] {
        const saga::test::TempDirectory folder;
        const std::int64_t start = monotonic_ns();
        auto result = saga::test::run_fault_matrix(checkouts, 26, folder.rig());
        seconds = static_cast<double>(monotonic_ns() - start) / 1e9;
        return result;
      });
  const std::string kill_count = std::to_string(kills.kills);

  Findings findings;
  findings.rows = {
      {"events lost, writer killed between commit and publish (" + kill_count + "x)",
       std::to_string(kills.outbox_lost) + " (transactional outbox)",
       std::to_string(kills.dual_lost) + " (dual write)",
       kills.outbox_lost == 0 ? "none lost" : "LOST EVENTS"},
      {"checkout whose coordinator is killed mid-way",
       "resumed: " + std::to_string(matrix.crashes) + " crashes in " + std::to_string(checkouts) +
           " checkouts, " + std::to_string(matrix.running) + " left running",
       half_done ? "left half done: stock held, card charged, no parcel" : "?", ""},
      {"books after " + std::to_string(checkouts) + " faulty checkouts",
       std::to_string(matrix.violations.size()) + " invariant violations", "-",
       matrix.violations.empty() ? "balanced" : "NOT balanced"},
  };
  findings.notes = {
      "The kills are saga-demo's own runs (--dual-write, --baseline), each a SIGKILL of a real "
      "process. The fault matrix ran in this process with SQLite in the temporary folder: " +
          matrix.summary() + ", in " + format_ns(seconds * 1e9) + ".",
      "How fast a checkout is, saga against synchronous, is bench-saga's: see saga/README.md.",
  };
  findings.buys = {
      "no lost events: the outbox lost " + std::to_string(kills.outbox_lost) + ", the dual write " +
          std::to_string(kills.dual_lost) + ", in " + kill_count + " kill(s) each",
      "crash-safe checkouts: " + std::to_string(matrix.crashes) + " orchestrator crashes, " +
          std::to_string(matrix.violations.size()) + " violations in " +
          std::to_string(checkouts) + " checkouts",
  };
  findings.costs = {
      "writes: every decision is an event in the orchestrator's stream, every reply a row in an "
      "outbox",
      "complexity: relays, idempotent participants, compensations, timeouts",
  };
  return findings;
}

}  // namespace

Stop saga_stop() {
  return {
      .name = "saga",
      .title = "The transactional outbox and sagas",
      .intent =
          "Keep services consistent without a distributed transaction: each writes its change "
          "and the event announcing it in one local transaction (an outbox), and a checkout "
          "across services is a saga of local steps, compensated when a later one fails.",
      .baseline = "the dual write (commit, then publish); a synchronous checkout undone in a "
                  "catch block",
      .demo_program = demo_programs::saga,
      .demo_args = {"--down-ms", "500"},
      .quick_demo_args = {"--down-ms", "100", "-q"},
      .demo_shows = "Each saga's own stream as it grows: a declined card compensated, the "
                    "orchestrator crashing mid-saga and a new one resuming it, Shipping stalled "
                    "while the order stays PENDING.",
      .measure = measure,
  };
}

}  // namespace eda::tour
