// The transactional outbox against the dual write (part 1 of the module), narrated: Inventory
// runs as a process of its own that reserves stock for orders and announces each decision; it
// is killed (SIGKILL, by itself, at a chosen point) between the commit of one order and the
// publication of its event, then restarted. A consumer here counts which orders it heard of.
// The dual write loses the event of the order committed at the kill, for good; the outbox's
// relay, restarted, publishes it.
#include <signal.h>

#include <iostream>
#include <set>

#include "demo.hpp"
#include "eda/child_process.hpp"
#include "eda/clock.hpp"
#include "eda/pubsub.hpp"
#include "eda/saga/stock_events.hpp"
#include "eda/saga/inventory.hpp"

namespace eda::saga::demo {
namespace {

using namespace std::chrono_literals;

/// What one design did across the kill.
struct WriterRun {
  std::uint64_t committed = 0;        ///< Orders the database says were decided.
  std::set<std::uint64_t> heard{};    ///< Orders the consumer received an event for.
  std::uint64_t lost = 0;             ///< Committed orders it never heard of.
  bool killed = false;                ///< The first writer died by SIGKILL, as planned.
};

/// Notes the order an Inventory event announces.
void hear(const Delivery& delivery, WriterRun& run) {
  if (delivery.event.is<StockReserved>()) {
    run.heard.insert(delivery.event.payload_as<StockReserved>().order_id);
  } else if (delivery.event.is<StockRejected>()) {
    run.heard.insert(delivery.event.payload_as<StockRejected>().order_id);
  }
}

/// Runs the writer (this program, `--role writer`) once; the consumer takes what it publishes.
ChildResult run_writer(const Settings& s, const std::string& mode, const WorkFolder& dir,
                       const std::string& endpoint, std::uint64_t orders,
                       std::uint64_t die_after_commit_of, Subscriber& inbox, WriterRun& run) {
  std::vector<std::string> argv{s.self,  "--role",     "writer",   "--writer",
                                mode,    "--dir",      dir.path().string(),
                                "--inventory", endpoint, "--count", std::to_string(orders), "-q"};
  if (die_after_commit_of > 0) {
    argv.insert(argv.end(), {"--die-after-commit-of", std::to_string(die_after_commit_of)});
  }
  ChildProcess child(ChildSpec{.argv = argv, .output = ChildOutput::inherit, .grace = 1000ms});
  const Deadline deadline(60s);
  while (!deadline.expired()) {
    if (auto delivery = inbox.receive(10ms)) hear(*delivery, run);
    if (auto ended = child.wait_for(0ms)) return *ended;
  }
  return child.stop();
}

WriterRun show(const Settings& s, Narrator& say, const std::string& mode) {
  const WorkFolder dir({}, "saga-demo-" + mode);
  const std::uint64_t orders = s.common.count;
  const std::uint64_t victim = (orders + 1) / 2;
  const std::string endpoint = ephemeral_endpoint(Transport::ipc, "inventory-" + mode);
  zmq::context_t context;
  Subscriber inbox(context, {.endpoints = {endpoint}, .drop_duplicates = false});
  WriterRun run;
  say.say("inventory", "reserves stock for orders 1.." + std::to_string(orders) +
                           "; dies (SIGKILL) right after committing order " +
                           std::to_string(victim) + ", before its event is out");
  const ChildResult first = run_writer(s, mode, dir, endpoint, orders, victim, inbox, run);
  run.killed = first.signal == SIGKILL;
  say.say("inventory", "ended: " + first.ending());
  say.say("inventory", "restarted: reserves orders " + std::to_string(victim + 1) + ".." +
                           std::to_string(orders));
  const ChildResult second = run_writer(s, mode, dir, endpoint, orders - victim, 0, inbox, run);
  if (!second.succeeded()) say.say("inventory", "the restarted writer failed: " + second.ending());
  // Whatever is still on its way (bounded).
  const Deadline settle(2s);
  while (!settle.expired() && run.heard.size() < orders) {
    if (auto delivery = inbox.receive(10ms)) hear(*delivery, run);
  }
  const Inventory books(dir.file("inventory.db"));  // reads the ledger either design wrote
  const std::vector<Reservation> decided = books.ledger().reservations();
  run.committed = decided.size();
  std::string which;
  for (const Reservation& r : decided) {
    if (run.heard.contains(r.order_id)) continue;
    ++run.lost;
    which += (which.empty() ? "" : ", ") + std::to_string(r.order_id);
  }
  say.say("consumer", "heard of " + std::to_string(run.heard.size()) + " orders; the database " +
                          "committed " + std::to_string(run.committed) + "; lost: " +
                          std::to_string(run.lost) +
                          (run.lost > 0 ? " (order " + which +
                                              ": stock held, nobody was told, ever)"
                                        : ""));
  if (run.lost > 1) {
    // An event published just before the kill can die too: publish() hands it to ZeroMQ's I/O
    // thread, which had not written it to the socket yet.
    say.say("consumer", "(more than order " + std::to_string(victim) +
                            ": a SIGKILL also loses what was published but not yet written "
                            "to the socket)");
  }
  return run;
}

}  // namespace

int run_dual_write(const Settings& s, Narrator& say) {
  say.heading("The dual write: commit the reservation, then publish its event (two writes)");
  const WriterRun dual = show(s, say, "dual-write");
  say.heading("The transactional outbox: the reservation and its event in one transaction; a "
              "relay publishes");
  const WriterRun outbox = show(s, say, "outbox");
  say.heading("Summary (outbox against dual write)");
  std::cout << "dual write: " << dual.lost << " of " << dual.committed
            << " committed orders never announced\n"
            << "outbox:     " << outbox.lost << " of " << outbox.committed
            << " committed orders never announced (the restarted relay found the unsent row)\n";
  // The demo shows the difference: it fails when the kill did not come, the dual write lost
  // nothing (the order committed at the kill must be lost) or the outbox lost one.
  const bool shown = dual.killed && outbox.killed && dual.lost >= 1 && outbox.lost == 0 &&
                     dual.committed == s.common.count && outbox.committed == s.common.count;
  return shown ? 0 : 1;
}

}  // namespace eda::saga::demo
