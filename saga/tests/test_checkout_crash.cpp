// The orchestrator killed for real: the whole checkout runs as a program of its own
// (saga-test-checkout), SIGKILL stops it mid-saga at a random moment, and a new orchestrator
// built here from the same databases resumes every saga to its end. The shop's books must
// balance afterwards: no effect left over, none missing.
#include <signal.h>

#include <chrono>
#include <random>
#include <string>

#include <catch2/catch.hpp>

#include "checkout_rig.hpp"
#include "eda/child_process.hpp"
#include "eda/clock.hpp"

using namespace eda::saga;
using namespace std::chrono_literals;

TEST_CASE(
    "an orchestrator killed by SIGKILL mid-saga: a new one resumes every saga and the books "
    "balance",
    "[saga][orchestrator][crash]") {
  const auto seed = static_cast<std::uint32_t>(std::random_device{}());
  INFO("seed " << seed);
  std::mt19937 random(seed);
  // The program has far more orders to go than the kill needs to arrive (it is told to start
  // 400 and killed after one of the first 40), so it dies in the middle of its work.
  constexpr std::uint64_t orders = 400;
  constexpr std::uint64_t kill_by = 40;
  for (int kill = 0; kill < 3; ++kill) {
    test::TempDirectory dir;
    {
      test::CheckoutRig setup(dir.rig());
      setup.stock_up("SKU-1", 100);  // runs out part way: later orders are rejected for stock
    }
    const std::uint64_t kill_after =
        std::uniform_int_distribution<std::uint64_t>(3, kill_by)(random);
    INFO("killed after order " << kill_after << " started");
    std::string output;
    eda::ChildProcess child(eda::ChildSpec{
        .argv = {EDA_SAGA_CHECKOUT, "--dir", dir.path(), "--orders", std::to_string(orders)},
        .output = eda::ChildOutput::capture,
        .grace = 1000ms});
    bool reached = false;
    const eda::Deadline deadline(30s);
    while (!reached && !deadline.expired()) {
      const auto ended = child.wait_for(20ms, [&](std::string_view line) {
        if (!reached) (output += line) += '\n';
        if (line == "started " + std::to_string(kill_after)) reached = true;
      });
      if (ended) break;
    }
    INFO(output);
    REQUIRE(reached);
    child.signal(SIGKILL);
    const eda::ChildResult result = child.wait(10s);
    CHECK(result.signal == SIGKILL);

    test::CheckoutRig rig(dir.rig());
    const std::size_t running = rig.orchestrator->running_count();
    CHECK(running >= 1);  // killed mid-saga: the last order started is waiting on its charge
    CHECK(rig.orchestrator->counters().resumed == running);
    (void)rig.orchestrator->resume();
    REQUIRE(rig.run_to_end());
    const auto violations = test::invariant_violations(rig, 1, orders);
    INFO(violations.size() << " violations; the first: "
                           << (violations.empty() ? "" : violations.front()));
    CHECK(violations.empty());
    CHECK(rig.orchestrator->find(kill_after).has_value());
  }
}
