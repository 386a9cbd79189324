// saga-test-participant: the Inventory participant as a program of its own, for the crash
// tests to kill. It binds a Publisher, waits for the test's subscriber, then reserves stock for
// orders after the last one in its database — with an outbox and its relay (--mode outbox) or
// as a dual write (--mode dual-write) — and can kill itself at a chosen point of the write path.
//
//   saga-test-participant --mode outbox|outbox-writer|dual-write --db FILE --endpoint ENDPOINT
//                         [--orders N] [--die-after-commit-of ORDER] [--die-after-send-of POSITION]
//
// Exit status: 0 done (outbox: everything relayed and marked), 2 bad arguments, 3 no subscriber
// came, 4 ran out of time before writing N orders, 5 the relay could not drain, 6 an error.
// On success with an outbox it prints the relay's counters: "relay published=P republished=R".
#include <signal.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <map>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>

#include "eda/pubsub.hpp"
#include "eda/saga/baseline/dual_write_inventory.hpp"
#include "eda/saga/inventory.hpp"
#include "eda/saga/outbox_relay.hpp"

namespace {

constexpr std::string_view sku = "SKU-1";

struct Arguments {
  std::string mode{};
  std::string db{};
  std::string endpoint{};
  std::uint64_t orders = 1'000'000;
  std::optional<std::uint64_t> die_after_commit_of{};
  std::optional<std::uint64_t> die_after_send_of{};
};

std::optional<Arguments> parse(int argc, char** argv) {
  std::map<std::string, std::string> given;
  for (int i = 1; i + 1 < argc; i += 2) {
    given[argv[i]] = argv[i + 1];
  }
  if (argc % 2 != 1 || !given.contains("--mode") || !given.contains("--db") ||
      !given.contains("--endpoint")) {
    return std::nullopt;
  }
  Arguments arguments{
      .mode = given["--mode"], .db = given["--db"], .endpoint = given["--endpoint"]};
  if (given.contains("--orders")) arguments.orders = std::stoull(given["--orders"]);
  if (given.contains("--die-after-commit-of")) {
    arguments.die_after_commit_of = std::stoull(given["--die-after-commit-of"]);
  }
  if (given.contains("--die-after-send-of")) {
    arguments.die_after_send_of = std::stoull(given["--die-after-send-of"]);
  }
  if (arguments.mode != "outbox" && arguments.mode != "outbox-writer" &&
      arguments.mode != "dual-write") {
    return std::nullopt;
  }
  return arguments;
}

/// The point of the write path where a test wants this process dead: SIGKILL, as a crash.
void die_if(const std::optional<std::uint64_t>& chosen, std::uint64_t now) {
  if (chosen && *chosen == now) {
    ::raise(SIGKILL);
  }
}

std::uint64_t quantity_for(std::uint64_t order_id) { return 1 + order_id % 3; }

int run_outbox(const Arguments& arguments, zmq::context_t& context, eda::Publisher& publisher) {
  eda::saga::Inventory probe(arguments.db);  // creates the outbox table before the relay opens it
  const std::uint64_t first = probe.ledger().last_order_id() + 1;
  eda::saga::OutboxRelay relay(
      context, arguments.db, publisher,
      {.fallback_poll = std::chrono::milliseconds(50),
       .sent = [&](std::uint64_t last) { die_if(arguments.die_after_send_of, last); }});
  eda::saga::OutboxDoorbell doorbell(context, relay.doorbell_endpoint());
  eda::saga::Inventory inventory(arguments.db,
                                 {.committed = [&](const eda::saga::Reservation& decided) {
                                   die_if(arguments.die_after_commit_of, decided.order_id);
                                   doorbell.ring();
                                 }});
  const auto give_up_at = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  {
    std::jthread relaying([&](const std::stop_token& stop) { relay.run(stop); });
    for (std::uint64_t order = first; order < first + arguments.orders; ++order) {
      if (std::chrono::steady_clock::now() > give_up_at) return 4;
      inventory.reserve(order, sku, quantity_for(order));
    }
  }  // the relay thread stops here
  if (!relay.drain(std::chrono::seconds(30))) return 5;
  const eda::saga::RelayCounters counters = relay.counters();
  std::printf("relay published=%llu republished=%llu\n",
              static_cast<unsigned long long>(counters.published),
              static_cast<unsigned long long>(counters.republished));
  return 0;
}

/// Writes to the outbox only, with no relay of its own (one runs in another process).
int run_outbox_writer(const Arguments& arguments) {
  eda::saga::Inventory inventory(arguments.db,
                                 {.committed = [&](const eda::saga::Reservation& decided) {
                                   die_if(arguments.die_after_commit_of, decided.order_id);
                                 }});
  const std::uint64_t first = inventory.ledger().last_order_id() + 1;
  for (std::uint64_t order = first; order < first + arguments.orders; ++order) {
    inventory.reserve(order, sku, quantity_for(order));
  }
  return 0;
}

int run_dual_write(const Arguments& arguments, eda::Publisher& publisher) {
  eda::saga::baseline::DualWriteInventory inventory(
      arguments.db, publisher, {.committed = [&](const eda::saga::Reservation& decided) {
        die_if(arguments.die_after_commit_of, decided.order_id);
      }});
  const std::uint64_t first = inventory.ledger().last_order_id() + 1;
  const auto give_up_at = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  for (std::uint64_t order = first; order < first + arguments.orders; ++order) {
    if (std::chrono::steady_clock::now() > give_up_at) return 4;
    inventory.reserve(order, sku, quantity_for(order));
  }
  return 0;  // closing the publisher flushes what it sent (its linger)
}

}  // namespace

int main(int argc, char** argv) {
  const std::optional<Arguments> arguments = parse(argc, argv);
  if (!arguments) {
    std::fprintf(
        stderr,
        "usage: saga-test-participant --mode outbox|outbox-writer|dual-write --db FILE --endpoint "
        "ENDPOINT [--orders N] [--die-after-commit-of ORDER] [--die-after-send-of "
        "POSITION]\n");
    return 2;
  }
  try {
    if (arguments->mode == "outbox-writer") {
      return run_outbox_writer(*arguments);
    }
    zmq::context_t context;
    eda::Publisher publisher(context, {.source = "inventory", .endpoints = {arguments->endpoint}});
    if (!publisher.wait_for_subscribers(1, std::chrono::seconds(30))) {
      std::fprintf(stderr, "saga-test-participant: no subscriber came\n");
      return 3;
    }
    return arguments->mode == "outbox" ? run_outbox(*arguments, context, publisher)
                                       : run_dual_write(*arguments, publisher);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "saga-test-participant: %s\n", e.what());
    return 6;
  }
}
