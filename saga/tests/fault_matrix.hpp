// The fault matrix, once, for the test (300 checkouts) and the benchmark (10 000): checkouts
// through the orchestrator and the three participants (the in-memory rig) with faults injected
// from a seeded generator: the orchestrator crashes at random steps (everything in flight
// lost), replies are duplicated and reordered, participants go quiet past the step timeout and
// answer late, cards are declined, carriers refuse, stock runs out, refunds fail and must be
// retried. Then every saga is run to its end and the books are audited.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "checkout_rig.hpp"

namespace eda::saga::test {

/// The fault rates of the matrix, as the issue gives them.
struct FaultRates {
  double crash = 0.05;           ///< Orchestrator crash, per checkout started.
  double duplicate = 0.10;       ///< A reply delivered twice.
  double timeout = 0.05;         ///< A command held by its participant past the step timeout.
  double decline = 0.10;         ///< A card declined.
  double failing_refund = 0.10;  ///< Orders whose refunds fail at first (see run_fault_matrix).
};

/// What a run of the matrix injected, and how it ended.
struct FaultMatrixResult {
  std::uint64_t orders = 0;        ///< Checkouts started.
  std::uint64_t crashes = 0;       ///< Orchestrator crashes.
  std::uint64_t duplicates = 0;    ///< Replies delivered twice.
  std::uint64_t held = 0;          ///< Commands held by a participant gone quiet.
  std::uint64_t timeouts = 0;      ///< Step timeouts (all orchestrators).
  std::uint64_t declined = 0;      ///< Declined cards.
  std::uint64_t refusals = 0;      ///< Refunds refused.
  std::uint64_t stale = 0;         ///< Replies ignored as stale (all orchestrators).
  std::uint64_t running = 0;       ///< Sagas still running at the end (stuck).
  std::map<std::string, std::uint64_t> ends{};  ///< Terminal status -> sagas.
  std::vector<std::string> violations{};         ///< The audit's findings (checkout_violations).
  std::vector<std::string> paths{};  ///< With `keep_paths`: each saga's status and path.

  /// One line of what was injected.
  [[nodiscard]] std::string summary() const {
    return std::to_string(orders) + " checkouts, " + std::to_string(crashes) +
           " orchestrator crashes, " + std::to_string(duplicates) + " duplicate replies, " +
           std::to_string(held) + " commands held by a participant gone quiet, " +
           std::to_string(timeouts) + " step timeouts, " + std::to_string(declined) +
           " declined cards, " + std::to_string(refusals) + " refunds refused, " +
           std::to_string(stale) + " replies ignored as stale";
  }
};

/// Runs `orders` checkouts under the matrix's faults from `seed`, with the databases in
/// `paths`; every saga is then run to its end and the books audited.
inline FaultMatrixResult run_fault_matrix(std::uint64_t orders, std::uint32_t seed,
                                          const RigPaths& paths, bool keep_paths = false) {
  using namespace std::chrono_literals;
  FaultMatrixResult result;
  result.orders = orders;
  std::mt19937 random(seed);
  std::uniform_real_distribution<double> chance(0.0, 1.0);
  const FaultRates rates;

  // Failing compensations: a tenth of the orders get refunds that fail 1 to 3 times before one
  // goes through; only orders rolled back after their charge are refunded, so about 1% of the
  // checkouts meet a failing compensation. Order 11 (its parcel is refused) always does.
  std::map<std::uint64_t, int> refund_failures;
  CheckoutRig rig(
      paths,
      {.orchestrator = {.step_timeout = 2s, .first_retry = 50ms, .max_retry = 400ms},
       .payment = {.refund_network = [&](std::uint64_t order) -> std::optional<std::string> {
         auto found = refund_failures.find(order);
         if (found == refund_failures.end() || found->second == 0) return std::nullopt;
         --found->second;
         ++result.refusals;
         return "card network unavailable";
       }}});
  // Runs out part way (a third more units than orders), and oversized orders are refused anyway.
  rig.stock_up("SKU-1", orders * 4 / 3);

  std::uint64_t stale_before = 0;  // counted by orchestrators that crashed since
  std::uint64_t timeouts_before = 0;
  rig.on_reply = [&](const eda::DecodedEvent& reply, std::deque<eda::DecodedEvent>& queue) {
    queue.push_back(reply);
    if (chance(random) < rates.duplicate) {
      ++result.duplicates;
      // The copy goes to a random place: replies are reordered too.
      queue.insert(queue.begin() + static_cast<long>(random() % (queue.size() + 1)), reply);
    }
  };
  rig.hold_command = [&](const eda::DecodedEvent&) {
    const bool hold = chance(random) < rates.timeout;
    result.held += hold ? 1 : 0;
    return hold;
  };
  const auto late_answers = [&] {
    // A participant that went quiet answers at last (usually after the deadline).
    if (rig.held.empty() || chance(random) > 0.05) return;
    for (const auto& command : rig.held) rig.commands.push_back(command);
    rig.held.clear();
  };

  for (std::uint64_t order = 1; order <= orders; ++order) {
    CheckoutRequest request = mixed_checkout(order);
    if (order != 11 && chance(random) < rates.decline) {
      request.card = std::string(declined_card);
      ++result.declined;
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
      ++result.crashes;
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
  result.timeouts = timeouts_before + counters.timeouts;
  result.stale = stale_before + counters.replies_stale;
  result.running = rig.orchestrator->running_count();
  for (std::uint64_t order = 1; order <= orders; ++order) {
    const auto saga = rig.orchestrator->find(order);
    const std::string status = saga ? std::string(to_string(saga->status)) : "missing";
    ++result.ends[status];
    if (keep_paths) {
      result.paths.push_back("order " + std::to_string(order) + " " + status + ": " +
                             (saga ? saga->describe() : std::string()));
    }
  }
  result.violations = invariant_violations(rig, 1, orders);
  return result;
}

}  // namespace eda::saga::test
