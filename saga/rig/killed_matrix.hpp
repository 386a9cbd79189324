// The fault matrix with real SIGKILLs: the checkout rig with the matrix's faults runs in a
// process of its own (saga-matrix-shop, matrix_shop_main.cpp), which is killed with SIGKILL at a
// random moment after 5% of the checkouts it starts and started again; each new life resumes
// every saga from the event store and goes on with the next order. The orchestrator dies
// mid-step with everything in flight, and so do the participants and the bus it runs with (their
// databases survive; what was in flight is lost, as in a crash of the whole shop). After the last
// life every saga is run to its end and the books are audited, as for run_fault_matrix.
#pragma once

#include <signal.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

#include "eda/child_process.hpp"
#include "eda/clock.hpp"
#include "fault_matrix.hpp"

namespace eda::saga::test {

/// What one life of the shop said it injected so far: its lines `started ORDER` and `done`
/// carry its counts (a killed life's last line counts what it did before it died).
struct LifeTally {
  std::uint64_t resumed = 0, duplicates = 0, held = 0, declined = 0, refusals = 0, timeouts = 0,
                stale = 0;

  /// The counts after the first word (and after the order, for `started`), as printed.
  [[nodiscard]] std::string line() const {
    return std::to_string(resumed) + " " + std::to_string(duplicates) + " " + std::to_string(held) +
           " " + std::to_string(declined) + " " + std::to_string(refusals) + " " +
           std::to_string(timeouts) + " " + std::to_string(stale);
  }
  /// Reads what line() wrote; false when `in` holds something else.
  bool read(std::istream& in) {
    return static_cast<bool>(in >> resumed >> duplicates >> held >> declined >> refusals >>
                             timeouts >> stale);
  }
  /// Adds the counts to `result`.
  void add_to(FaultMatrixResult& result) const {
    result.resumed += resumed;
    result.duplicates += duplicates;
    result.held += held;
    result.declined += declined;
    result.refusals += refusals;
    result.timeouts += timeouts;
    result.stale += stale;
  }
};

/// Runs `orders` checkouts of the fault matrix from `seed` with the shop in a process of its
/// own (`shop_program`, saga-matrix-shop), SIGKILLed after `kill_rate` of the checkouts at a
/// random moment (0 to 2 ms after it says it started one) and started again, the databases in
/// `directory`. `crashes` counts the kills. Throws std::runtime_error when a life ends in any
/// other way than by its kill or by finishing (its last lines are in the message).
inline FaultMatrixResult run_killed_fault_matrix(std::uint64_t orders, std::uint32_t seed,
                                                 const std::string& directory,
                                                 const std::string& shop_program,
                                                 double kill_rate = 0.05, bool keep_paths = false) {
  using namespace std::chrono_literals;
  FaultMatrixResult result;
  result.orders = orders;
  {
    CheckoutRig setup(RigPaths::in(directory));
    setup.stock_up("SKU-1", orders * 4 / 3);  // as run_fault_matrix: runs out part way
  }
  std::mt19937 random(seed);
  std::uniform_real_distribution<double> chance(0.0, 1.0);
  std::uniform_int_distribution<int> delay_us(0, 2000);
  std::uint64_t next = 1;  // the first order the next life starts
  bool done = false;
  // A life starts at least one order before it can be killed, so orders + 1 lives always do.
  for (std::uint64_t life = 0; !done && life <= orders; ++life) {
    eda::ChildProcess shop(
        eda::ChildSpec{.argv = {shop_program, "--dir", directory, "--orders",
                                std::to_string(orders), "--from", std::to_string(next), "--seed",
                                std::to_string(seed), "--life", std::to_string(life)},
                       .output = eda::ChildOutput::capture,
                       .grace = 1000ms});
    LifeTally tally;
    std::deque<std::string> last_lines;
    std::optional<eda::Deadline> kill_at;
    const auto take = [&](std::string_view line) {
      last_lines.emplace_back(line);
      if (last_lines.size() > 20) last_lines.pop_front();
      std::istringstream in{std::string(line)};
      std::string word;
      std::uint64_t order = 0;
      in >> word;
      if (word == "started" && in >> order && tally.read(in)) {
        next = order + 1;
        if (!kill_at && chance(random) < kill_rate) {
          kill_at.emplace(std::chrono::microseconds(delay_us(random)));
        }
      } else if (word == "done" && tally.read(in)) {
        done = true;
      }
    };
    const eda::Deadline limit(600s);
    std::optional<eda::ChildResult> ended;
    while (!ended && !limit.expired()) {
      ended = shop.wait_for(kill_at ? 0ms : 1ms, take);
      if (!ended && kill_at && kill_at->expired()) {
        shop.signal(SIGKILL);
        ended = shop.wait(10s, take);
      }
    }
    const auto tail = [&] {
      std::string text;
      for (const std::string& line : last_lines) text += line + "\n";
      return text;
    };
    if (!ended) throw std::runtime_error("a life of the shop ran past 600 s:\n" + tail());
    if (ended->signal == SIGKILL) {
      ++result.crashes;  // (if it had said `done` first, the matrix is over all the same)
    } else if (!ended->succeeded() || !done) {
      throw std::runtime_error("a life of the shop ended with " + ended->ending() + ":\n" + tail());
    }
    tally.add_to(result);
  }
  // What the last life left (nothing, when it finished): every saga to its end, then the books.
  CheckoutRig rig(RigPaths::in(directory));
  (void)rig.orchestrator->resume();
  FaultInjector::finish(rig);
  audit_fault_matrix(rig, result, keep_paths);
  return result;
}

}  // namespace eda::saga::test
