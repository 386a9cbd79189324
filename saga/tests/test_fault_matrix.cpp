// The fault matrix at small scale: 300 checkouts through the orchestrator and the three
// participants with faults injected from a seeded generator (the seed is printed; set
// EDA_SAGA_SEED to replay one): the orchestrator crashes at random steps (everything in flight
// lost), replies are duplicated and reordered, participants go quiet past the step timeout and
// answer late, cards are declined, carriers refuse, stock runs out, refunds fail and must be
// retried. After every saga has ended, the books must balance with 0 violations. Set
// EDA_SAGA_PATHS=1 to print every saga's terminal state and path.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>

#include <catch2/catch.hpp>

#include "checkout_rig.hpp"

using namespace eda::saga;
using namespace std::chrono_literals;

namespace {

/// The fault rates of the matrix, as the issue gives them.
struct FaultRates {
  double crash = 0.05;           ///< Orchestrator crash, per checkout started.
  double duplicate = 0.10;       ///< A reply delivered twice.
  double timeout = 0.05;         ///< A command held by its participant past the step timeout.
  double decline = 0.10;         ///< A card declined.
  double failing_refund = 0.10;  ///< Orders whose refunds fail at first (see below).
};

std::uint32_t seed_to_use() {
  if (const char* given = std::getenv("EDA_SAGA_SEED")) {
    return static_cast<std::uint32_t>(std::strtoul(given, nullptr, 10));
  }
  return static_cast<std::uint32_t>(std::random_device{}());
}

}  // namespace

TEST_CASE("fault matrix: 300 checkouts under injected faults end with 0 invariant violations",
          "[saga][orchestrator][matrix]") {
  const std::uint32_t seed = seed_to_use();
  std::printf("saga fault matrix: seed %u (EDA_SAGA_SEED=%u replays it)\n", seed, seed);
  INFO("seed " << seed);
  std::mt19937 random(seed);
  std::uniform_real_distribution<double> chance(0.0, 1.0);
  const FaultRates rates;
  constexpr std::uint64_t orders = 300;

  // Failing compensations: a tenth of the orders get refunds that fail 1 to 3 times before one
  // goes through; only orders rolled back after their charge are refunded, so about 1% of the
  // checkouts meet a failing compensation. Order 11 (its parcel is refused) always does.
  std::map<std::uint64_t, int> refund_failures;
  std::uint64_t refusals = 0;
  test::TempDirectory dir;
  test::CheckoutRig rig(
      dir.rig(),
      {.orchestrator = {.step_timeout = 2s, .first_retry = 50ms, .max_retry = 400ms},
       .payment = {.refund_network = [&](std::uint64_t order) -> std::optional<std::string> {
         auto found = refund_failures.find(order);
         if (found == refund_failures.end() || found->second == 0) return std::nullopt;
         --found->second;
         ++refusals;
         return "card network unavailable";
       }}});
  rig.stock_up("SKU-1", 400);  // runs out part way, and oversized orders are refused anyway

  std::uint64_t duplicates = 0;
  std::uint64_t crashes = 0;
  std::uint64_t held = 0;
  std::uint64_t declined = 0;
  std::uint64_t stale_before = 0;  // counted by orchestrators that crashed since
  std::uint64_t timeouts_before = 0;
  rig.on_reply = [&](const eda::DecodedEvent& reply, std::deque<eda::DecodedEvent>& queue) {
    queue.push_back(reply);
    if (chance(random) < rates.duplicate) {
      ++duplicates;
      // The copy goes to a random place: replies are reordered too.
      queue.insert(queue.begin() + static_cast<long>(random() % (queue.size() + 1)), reply);
    }
  };
  rig.hold_command = [&](const eda::DecodedEvent&) {
    const bool hold = chance(random) < rates.timeout;
    held += hold ? 1 : 0;
    return hold;
  };
  const auto late_answers = [&] {
    // A participant that went quiet answers at last (usually after the deadline).
    if (rig.held.empty() || chance(random) > 0.05) return;
    for (const auto& command : rig.held) rig.commands.push_back(command);
    rig.held.clear();
  };

  for (std::uint64_t order = 1; order <= orders; ++order) {
    CheckoutRequest request = test::mixed_checkout(order);
    if (order != 11 && chance(random) < rates.decline) {
      request.card = std::string(declined_card);
      ++declined;
    }
    if (order == 11 || chance(random) < rates.failing_refund) {
      refund_failures[order] = 1 + static_cast<int>(random() % 3);
    }
    rig.orchestrator->start(request);
    // Move some of what is in flight, in a random order of the three kinds of move.
    for (int move = 0; move < 3; ++move) {
      switch (random() % 3) {
        case 0:
          (void)rig.deliver_commands();
          break;
        case 1:
          (void)rig.relay();
          break;
        default:
          (void)rig.deliver_replies();
          break;
      }
    }
    if (chance(random) < rates.crash) {
      ++crashes;
      stale_before += rig.orchestrator->counters().replies_stale;
      timeouts_before += rig.orchestrator->counters().timeouts;
      rig.crash_orchestrator();
    }
    late_answers();
    (void)rig.advance_clock(std::chrono::milliseconds(random() % 300));
  }
  // Time passes with the quiet participants still quiet (their steps time out), then they
  // answer at last, and everything ends.
  (void)rig.run_to_end();
  for (int round = 0; round < 100 && (rig.orchestrator->running_count() > 0 || !rig.held.empty());
       ++round) {
    rig.hold_command = nullptr;
    for (const auto& command : rig.held) rig.commands.push_back(command);
    rig.held.clear();
    (void)rig.run_to_end();
  }

  const auto& counters = rig.orchestrator->counters();
  std::cout << "saga fault matrix: " << orders << " checkouts, " << crashes
            << " orchestrator crashes, " << duplicates << " duplicate replies, " << held
            << " commands held by a participant gone quiet, " << timeouts_before + counters.timeouts
            << " step timeouts, " << declined << " declined cards, " << refusals
            << " refunds refused, " << stale_before + counters.replies_stale
            << " replies ignored as stale\n";
  std::map<std::string, std::uint64_t> ends;
  for (std::uint64_t order = 1; order <= orders; ++order) {
    const auto saga = rig.orchestrator->find(order);
    REQUIRE(saga);
    ++ends[std::string(to_string(saga->status))];
    if (std::getenv("EDA_SAGA_PATHS") != nullptr) {
      std::printf("order %llu %s: %s\n", static_cast<unsigned long long>(order),
                  std::string(to_string(saga->status)).c_str(), saga->describe().c_str());
    }
  }
  for (const auto& [status, count] : ends) {
    std::printf("saga fault matrix: %s %llu\n", status.c_str(),
                static_cast<unsigned long long>(count));
  }
  const std::vector<std::string> violations = test::invariant_violations(rig, 1, orders);
  for (const std::string& violation : violations) std::printf("violation: %s\n", violation.c_str());
  CHECK(violations.empty());
  CHECK(rig.orchestrator->running_count() == 0);
  CHECK(ends["completed"] > 0);
  CHECK(ends["rolled-back"] > 0);
  // The faults were injected, not just configured.
  CHECK(crashes > 0);
  CHECK(duplicates > 0);
  CHECK(held > 0);
  CHECK(refusals > 0);
  CHECK(stale_before + counters.replies_stale > 0);
  CHECK(timeouts_before + counters.timeouts > 0);
}
