// saga-demo's roles, each a process of its own: the orchestrator and the three participants of
// the orchestrated checkout (over --commands and the participants' reply endpoints), the
// baseline's participants and Order service (over RPC), and the writer the --dual-write run
// kills. Each keeps its database in --dir.
#include <signal.h>

#include <filesystem>
#include <iostream>
#include <stop_token>
#include <thread>
#include <vector>

#include "demo.hpp"
#include "participant_role.hpp"
#include "eda/clock.hpp"
#include "eda/pubsub.hpp"
#include "eda/saga/baseline/dual_write_inventory.hpp"
#include "eda/saga/baseline/sync_checkout.hpp"
#include "eda/saga/checkout_messages.hpp"
#include "eda/saga/checkout_transport.hpp"
#include "eda/saga/inventory.hpp"
#include "eda/saga/outbox_relay.hpp"
#include "eda/saga/payment.hpp"
#include "eda/saga/shipping.hpp"
#include "eda/sourcing/sqlite_store.hpp"

namespace eda::saga::demo {
namespace {

using namespace std::chrono_literals;

int run_participant(const Settings& s, Narrator& say) {
  OpenParticipant participant(s, shipping_options_of(s));
  zmq::context_t context;
  const Deadline deadline = role_deadline(s);
  if (s.baseline) {
    baseline::SyncParticipant server(context, {participant.reply_endpoint}, participant.handle,
                                     *participant.outbox);
    say.say(s.role,
            "serving RPC at " + server.endpoints().front() + "; database " + participant.path);
    while (!deadline.expired() && !cli::stop_requested()) {
      (void)cli::unless_stopped([&] { return server.serve_once(100ms); });
    }
    say.say(s.role, "stopped");
    return 0;
  }
  ParticipantHost host(context, participant.path, participant.handle,
                       {.name = s.role,
                        .command_topic = std::string(participant.command_topic),
                        .command_endpoints = {s.commands},
                        .reply_endpoints = {participant.reply_endpoint}});
  say.say(s.role, "takes commands from " + s.commands + ", replies at " +
                      host.reply_endpoints().front() + "; database " + participant.path);
  std::uint64_t told = 0;
  while (!deadline.expired() && !cli::stop_requested()) {
    (void)cli::unless_stopped([&] { return host.poll(100ms); });
    const ParticipantHostCounters& c = host.counters();
    if (c.executed + c.repeated + c.refused != told) {
      told = c.executed + c.repeated + c.refused;
      say.say(s.role, "commands executed " + std::to_string(c.executed) + ", answered again " +
                          std::to_string(c.repeated) + ", refused " + std::to_string(c.refused));
    }
  }
  say.say(s.role, "stopped; its outbox holds " +
                      std::to_string(participant.outbox->last_position() -
                                     host.relay().counters().published_through) +
                      " events not yet recorded published");
  return 0;
}

/// Whether a running saga of `orders` holds its stock (it is between steps, mid-saga).
bool some_saga_past_reserving(const CheckoutOrchestrator& orders) {
  for (const std::uint64_t id : orders.running()) {
    const auto saga = orders.find(id);
    if (saga && saga->held[0]) return true;
  }
  return false;
}

int run_orchestrator(const Settings& s, Narrator& say) {
  sourcing::SqliteEventStore store({.path = database_of(s, "orders")});
  zmq::context_t context;
  OrchestratorHost host(
      context, store,
      {.command_endpoints = {s.commands},
       .reply_endpoints = {s.inventory, s.payment, s.shipping},
       .orchestrator = {.step_timeout = std::chrono::milliseconds(s.step_timeout_ms)}});
  auto& orders = host.orchestrator();
  say.say("order-saga", "commands at " + s.commands + "; found " +
                            std::to_string(orders.counters().resumed) + " saga(s) running");
  const Deadline connecting(60s);
  while (!(host.ready() && host.participants_subscribed() == 3)) {
    if (connecting.expired() || cli::stop_requested()) {
      say.say("order-saga", "the three participants did not all connect within 60 s");
      return 1;
    }
    (void)cli::unless_stopped([&] { return host.poll(10ms); });
  }
  say.say("order-saga", "connected to inventory, payment and shipping");
  if (s.die_mid_saga) {
    // The test freezes a participant now, and lets this go on by creating --dir/go (bounded).
    const Deadline waiting(30s);
    while (!std::filesystem::exists(database_of(s, "go")) && !waiting.expired()) {
      (void)cli::unless_stopped([&] { return host.poll(10ms); });
    }
  }
  (void)orders.resume();
  place_role_orders(s, say, "order-saga",
                    [&](const CheckoutRequest& request) { orders.start(request); });
  const Deadline deadline(s.run_for_s > 0 ? std::chrono::seconds(s.run_for_s) : 120s);
  while (orders.running_count() > 0 && !deadline.expired() && !cli::stop_requested()) {
    (void)cli::unless_stopped([&] { return host.poll(10ms); });
    // The test hook of the separate-processes test: a real crash, mid-saga.
    if (s.die_mid_saga && some_saga_past_reserving(orders)) ::raise(SIGKILL);
  }
  // Every checkout this store has, up to the last one started here (earlier runs' too).
  for (std::uint64_t order = 1; order < s.first_order + s.common.count; ++order) {
    if (const auto saga = orders.find(order)) {
      say.say("order-saga", "order " + std::to_string(order) + ": " + saga->describe());
    }
  }
  std::cout << "order-saga: " << orders.running_count() << " saga(s) still running\n";
  return orders.running_count() == 0 ? 0 : 1;
}

/// The baseline's Order service: checkouts one after the other; with --stop-after it stops
/// after that step and waits to be killed (the --baseline run kills it there).
int run_sync_order(const Settings& s, Narrator& say) {
  zmq::context_t context;
  baseline::SyncCheckout orders(context, {.inventory = s.inventory,
                                          .payment = s.payment,
                                          .shipping = s.shipping,
                                          .after_step = [&](Step step) {
                                            if (name_of(step) != s.stop_after) return;
                                            std::cout << "after " << s.stop_after << std::endl;
                                            const Deadline waiting(60s);
                                            while (!waiting.expired() && !cli::stop_requested())
                                              std::this_thread::sleep_for(50ms);
                                          }});
  for (std::uint64_t n = s.first_order; n < s.first_order + s.common.count; ++n) {
    if (cli::stop_requested()) break;
    const baseline::SyncResult result = orders.checkout(sample_checkout(n, 1));
    say.say("order-service", "order " + std::to_string(n) + " " +
                                 (result.completed ? "completed" : "rejected: " + result.reason));
  }
  return 0;
}

/// Kills this process, as a crash would, when `order_id` is the chosen one.
void die_after(const Settings& s, std::uint64_t order_id) {
  if (s.die_after_commit_of == order_id) ::raise(SIGKILL);
}

/// The --dual-write run's Inventory: reserves --count orders after the last one in its
/// database, with an outbox and its relay, or as a dual write.
int run_writer(const Settings& s) {
  const std::string file = database_of(s, "inventory");
  zmq::context_t context;
  Publisher publisher(context, {.source = "inventory", .endpoints = {s.inventory}});
  if (!publisher.wait_for_subscribers(1, 30s)) {
    std::cerr << "writer: no consumer subscribed within 30 s\n";
    return 3;
  }
  if (s.writer == "dual-write") {
    baseline::DualWriteInventory inventory(
        file, publisher, {.committed = [&](const Reservation& r) { die_after(s, r.order_id); }});
    inventory.stock_up("SKU-1", s.common.count * 3);
    const std::uint64_t first = inventory.ledger().last_order_id() + 1;
    for (std::uint64_t n = first; n < first + s.common.count; ++n) inventory.reserve(n, "SKU-1", 1);
    return 0;  // closing the publisher sends what it holds (its linger)
  }
  const Inventory created(file);  // the outbox table exists before the relay opens it
  OutboxRelay relay(context, file, publisher);
  OutboxDoorbell doorbell(context, relay.doorbell_endpoint());
  Inventory inventory(file, {.committed = [&](const Reservation& r) {
                        die_after(s, r.order_id);
                        doorbell.ring();
                      }});
  inventory.stock_up("SKU-1", s.common.count * 3);
  const std::uint64_t first = inventory.ledger().last_order_id() + 1;
  {
    std::jthread relaying([&](const std::stop_token& stop) { relay.run(stop); });
    for (std::uint64_t n = first; n < first + s.common.count; ++n) inventory.reserve(n, "SKU-1", 1);
  }
  return relay.drain(30s) ? 0 : 5;
}

}  // namespace

int run_role(const Settings& s, Narrator& say) {
  if (s.style == "choreography") return run_choreography_role(s, say);
  if (s.role == "desk") {
    throw std::invalid_argument("--role desk is the choreography's: add --style choreography");
  }
  if (s.role == "writer") return run_writer(s);
  if (s.role == "orchestrator") {
    if (s.baseline) throw std::invalid_argument("the baseline has no orchestrator: --role order");
    return run_orchestrator(s, say);
  }
  if (s.role == "order") {
    if (!s.baseline) throw std::invalid_argument("--role order is the baseline's: add --baseline");
    return run_sync_order(s, say);
  }
  return run_participant(s, say);
}

}  // namespace eda::saga::demo
