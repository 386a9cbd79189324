// The fault matrix, once, for the test (300 checkouts) and the benchmark (10 000): checkouts
// through the orchestrator and the three participants (the in-memory rig) with faults injected
// from a seeded generator: the orchestrator crashes at random steps (everything in flight
// lost), replies are duplicated and reordered, participants go quiet past the step timeout and
// answer late, cards are declined, carriers refuse, stock runs out, refunds fail and must be
// retried. Then every saga is run to its end and the books are audited. The same faults with
// the crash a real SIGKILL of the process are in killed_matrix.hpp.
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
  double failing_refund = 0.10;  ///< Orders whose refunds fail at first (FaultInjector::request).
};

/// What a run of the matrix injected, and how it ended.
struct FaultMatrixResult {
  std::uint64_t orders = 0;      ///< Checkouts started.
  std::uint64_t crashes = 0;     ///< Orchestrator crashes.
  std::uint64_t resumed = 0;     ///< Sagas a crash interrupted, resumed by the next orchestrator.
  std::uint64_t duplicates = 0;  ///< Replies delivered twice.
  std::uint64_t held = 0;        ///< Commands held by a participant gone quiet.
  std::uint64_t timeouts = 0;    ///< Step timeouts (all orchestrators).
  std::uint64_t declined = 0;    ///< Declined cards.
  std::uint64_t refusals = 0;    ///< Refunds refused.
  std::uint64_t stale = 0;       ///< Replies ignored as stale (all orchestrators).
  std::uint64_t running = 0;     ///< Sagas still running at the end (stuck).
  std::map<std::string, std::uint64_t> ends{};  ///< Terminal status -> sagas.
  std::vector<std::string> violations{};        ///< The audit's findings (checkout_violations).
  std::vector<std::string> paths{};             ///< With `keep_paths`: each saga's status and path.

  /// One line of what was injected.
  [[nodiscard]] std::string summary() const {
    return std::to_string(orders) + " checkouts, " + std::to_string(crashes) +
           " orchestrator crashes (" + std::to_string(resumed) + " sagas resumed after them), " +
           std::to_string(duplicates) + " duplicate replies, " + std::to_string(held) +
           " commands held by a participant gone quiet, " + std::to_string(timeouts) +
           " step timeouts, " + std::to_string(declined) + " declined cards, " +
           std::to_string(refusals) + " refunds refused, " + std::to_string(stale) +
           " replies ignored as stale";
  }
};

/// The faults of the matrix that one life of the shop injects into a CheckoutRig, drawn from
/// one seeded generator: replies duplicated and reordered, commands held by a participant gone
/// quiet (and answered late), declined cards, refunds that fail 1 to 3 times. The orchestrator
/// crash is the caller's: in-process (run_fault_matrix) or a real SIGKILL of the process the
/// rig runs in (killed_matrix.hpp). Counts what it injected into `tally`.
class FaultInjector {
 public:
  FaultInjector(std::uint32_t seed, FaultMatrixResult& tally) : random(seed), tally_(tally) {}
  FaultInjector(const FaultInjector&) = delete;
  FaultInjector& operator=(const FaultInjector&) = delete;

  /// The rig's options: the matrix's timeouts and retries, and a card network that refuses the
  /// refunds of the orders request() armed (this injector must outlive the rig).
  RigOptions rig_options() {
    using namespace std::chrono_literals;
    return {
        .orchestrator = {.step_timeout = 2s, .first_retry = 50ms, .max_retry = 400ms},
        .payment = {.refund_network = [this](std::uint64_t order) -> std::optional<std::string> {
          auto found = refund_failures_.find(order);
          if (found == refund_failures_.end() || found->second == 0) return std::nullopt;
          --found->second;
          ++tally_.refusals;
          return "card network unavailable";
        }}};
  }

  /// Makes the rig's bus misbehave: replies duplicated to a random place, commands held.
  void attach(CheckoutRig& rig) {
    rig.on_reply = [this](const eda::DecodedEvent& reply, std::deque<eda::DecodedEvent>& queue) {
      queue.push_back(reply);
      if (chance() < rates.duplicate) {
        ++tally_.duplicates;
        // The copy goes to a random place: replies are reordered too.
        queue.insert(queue.begin() + static_cast<long>(random() % (queue.size() + 1)), reply);
      }
    };
    rig.hold_command = [this](const eda::DecodedEvent&) {
      const bool hold = chance() < rates.timeout;
      tally_.held += hold ? 1 : 0;
      return hold;
    };
  }

  /// The checkout of `order`: the mixed checkout, its card declined at the matrix's rate, and
  /// its refunds armed to fail. Failing compensations: a tenth of the orders get refunds that
  /// fail 1 to 3 times before one goes through; only orders rolled back after their charge are
  /// refunded, so about 1% of the checkouts meet a failing compensation. Order 11 (its parcel
  /// is refused) always does.
  CheckoutRequest request(std::uint64_t order) {
    CheckoutRequest request = mixed_checkout(order);
    if (order != 11 && chance() < rates.decline) {
      request.card = std::string(declined_card);
      ++tally_.declined;
    }
    if (order == 11 || chance() < rates.failing_refund) {
      refund_failures_[order] = 1 + static_cast<int>(random() % 3);
    }
    return request;
  }

  /// Moves some of what is in flight, in a random order of the three kinds of move.
  void move(CheckoutRig& rig) {
    for (int step = 0; step < 3; ++step) {
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
  }

  /// A participant that went quiet answers at last (usually after the deadline), sometimes;
  /// then up to 0.3 s pass on the orchestrator's clock.
  void pass_time(CheckoutRig& rig) {
    if (!rig.held.empty() && chance() <= 0.05) rig.release_held_keep_holding();
    (void)rig.advance_clock(std::chrono::milliseconds(random() % 300));
  }

  /// Time passes with the quiet participants still quiet (their steps time out), then they
  /// answer at last, and everything ends.
  static void finish(CheckoutRig& rig) {
    (void)rig.run_to_end();
    for (int round = 0; round < 100 && (rig.orchestrator->running_count() > 0 || !rig.held.empty());
         ++round) {
      rig.release_held();
      (void)rig.run_to_end();
    }
  }

  /// A draw in [0, 1).
  double chance() { return std::uniform_real_distribution<double>(0.0, 1.0)(random); }

  const FaultRates rates{};  ///< The matrix's rates.
  std::mt19937 random;       ///< Every draw of this life.

 private:
  FaultMatrixResult& tally_;
  std::map<std::uint64_t, int> refund_failures_;  // order -> refusals still to come
};

/// Fills in how the matrix ended: sagas still running, each saga's terminal state (and, with
/// `keep_paths`, its path), and the audit of the books.
inline void audit_fault_matrix(CheckoutRig& rig, FaultMatrixResult& result, bool keep_paths) {
  result.running = rig.orchestrator->running_count();
  for (std::uint64_t order = 1; order <= result.orders; ++order) {
    const auto saga = rig.orchestrator->find(order);
    const std::string status = saga ? std::string(to_string(saga->status)) : "missing";
    ++result.ends[status];
    if (keep_paths) {
      result.paths.push_back("order " + std::to_string(order) + " " + status + ": " +
                             (saga ? saga->describe() : std::string()));
    }
  }
  result.violations = invariant_violations(rig, 1, result.orders);
}

/// Runs `orders` checkouts under the matrix's faults from `seed`, with the databases in
/// `paths`, the orchestrator crashing in-process (thrown away with everything in flight and
/// rebuilt from its store) after 5% of the checkouts started; every saga is then run to its end
/// and the books audited.
inline FaultMatrixResult run_fault_matrix(std::uint64_t orders, std::uint32_t seed,
                                          const RigPaths& paths, bool keep_paths = false) {
  FaultMatrixResult result;
  result.orders = orders;
  FaultInjector faults(seed, result);
  CheckoutRig rig(paths, faults.rig_options());
  // Runs out part way (a third more units than orders), and oversized orders are refused anyway.
  rig.stock_up("SKU-1", orders * 4 / 3);
  faults.attach(rig);

  std::uint64_t stale_before = 0;  // counted by orchestrators that crashed since
  std::uint64_t timeouts_before = 0;
  for (std::uint64_t order = 1; order <= orders; ++order) {
    rig.orchestrator->start(faults.request(order));
    faults.move(rig);
    if (faults.chance() < faults.rates.crash) {
      ++result.crashes;
      stale_before += rig.orchestrator->counters().replies_stale;
      timeouts_before += rig.orchestrator->counters().timeouts;
      rig.crash_orchestrator();
      result.resumed += rig.orchestrator->counters().resumed;
    }
    faults.pass_time(rig);
  }
  FaultInjector::finish(rig);

  const auto& counters = rig.orchestrator->counters();
  result.timeouts = timeouts_before + counters.timeouts;
  result.stale = stale_before + counters.replies_stale;
  audit_fault_matrix(rig, result, keep_paths);
  return result;
}

}  // namespace eda::saga::test
