// The contract again, for consumers that take a batch (TransportOptions::max_in_flight above 1):
// batching must change the cost, never what a service sees. Run against every transport; the
// crash test kills a consumer program (brokers-test-consumer) with SIGKILL.
#include <signal.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "eda/child_process.hpp"
#include "eda/clock.hpp"
#include "eda/notification/shop.hpp"
#include "transport_targets.hpp"

namespace {

using namespace std::chrono_literals;
using eda::brokers::EventTransport;
using eda::brokers::Subscription;
using eda::brokers::testing::contract_options;
using eda::brokers::testing::IdempotentService;
using eda::brokers::testing::place_orders;
using JetStream = eda::brokers::testing::JetStream;  // the names the test names show
using RabbitMQ = eda::brokers::testing::RabbitMQ;
using ZeroMQ = eda::brokers::testing::ZeroMQ;

/// The batch these tests fetch: larger than the few events a test takes before going down.
constexpr std::uint32_t batch = 8;

/// `ids` without those in `removed`, order kept.
std::vector<std::string> without(std::vector<std::string> ids,
                                 const std::vector<std::string>& removed) {
  std::erase_if(ids, [&](const std::string& id) {
    return std::find(removed.begin(), removed.end(), id) != removed.end();
  });
  return ids;
}

/// `ids` sorted: the same events, whatever the order they came in.
std::vector<std::string> sorted(std::vector<std::string> ids) {
  std::sort(ids.begin(), ids.end());
  return ids;
}

/// A service that rejects the event `poison` every time and applies the others, until nothing
/// has come for `quiet`; records the attempt numbers the poison came with.
struct PoisonedService {
  std::string poison;
  IdempotentService service;
  std::vector<std::uint32_t> poison_attempts;

  void consume(Subscription& subscription, std::chrono::milliseconds quiet) {
    const eda::Deadline deadline(30s);
    while (!deadline.expired()) {
      auto delivery = subscription.next(quiet);
      if (!delivery) return;
      if (delivery->event.event_id() == poison) {
        poison_attempts.push_back(delivery->attempt);
        subscription.reject(*delivery);
      } else {
        service.handle(subscription, *delivery);
      }
    }
  }
};

}  // namespace

TEMPLATE_TEST_CASE(
    "batch contract: a poison event in the middle of a batch is dead-lettered, its neighbours "
    "applied once and in order",
    "[brokers][contract][batch]", ZeroMQ, JetStream, RabbitMQ) {
  TestType target;
  if (!target.start()) return;
  const auto options = contract_options(batch);
  const std::unique_ptr<EventTransport> transport = target.make(options);
  transport->add_service("billing");
  // Two batches' worth; the poison sits in the middle of the first.
  const auto ids = place_orders(*transport, 1, 2 * batch);
  const std::string poison = ids[batch / 2];

  PoisonedService billing;
  billing.poison = poison;
  {
    auto subscription = transport->subscribe("billing");
    // 1.5 s of quiet outlasts the 1 s redelivery wait: nothing more is coming after it.
    billing.consume(*subscription, 1500ms);
  }
  CHECK(billing.poison_attempts == std::vector<std::uint32_t>{1, 2, 3});
  // Neither held back nor dropped by the rejects: every neighbour once, in publishing order.
  CHECK(billing.service.applied == without(ids, {poison}));
  CHECK(billing.service.duplicates == 0);

  const auto letters = transport->take_dead_letters("billing", 10, 10s);
  REQUIRE(letters.size() == 1);
  CHECK(eda::DecodedEvent::decode(letters[0]).event_id() == poison);
}

TEMPLATE_TEST_CASE(
    "batch contract: a service that goes down mid-batch gets the unacknowledged rest again, "
    "and not what it acknowledged",
    "[brokers][contract][batch]", ZeroMQ, JetStream, RabbitMQ) {
  TestType target;
  if (!target.start()) return;
  const std::unique_ptr<EventTransport> transport = target.make(contract_options(batch));
  transport->add_service("inventory");
  const auto ids = place_orders(*transport, 1, 3 * batch);

  IdempotentService inventory;
  std::vector<std::string> held;  // taken and never acknowledged
  {
    auto subscription = transport->subscribe("inventory");
    // Three acknowledged, a fourth taken and held: the rest of the batch is fetched, unseen.
    REQUIRE(inventory.consume_until(*subscription, 3));
    auto taken = subscription->next(10s);
    REQUIRE(taken);
    held.emplace_back(taken->event.event_id());
  }  // down
  CHECK(inventory.applied == std::vector<std::string>(ids.begin(), ids.begin() + 3));
  CHECK(held == std::vector<std::string>{ids[3]});

  IdempotentService returning;
  {
    auto subscription = transport->subscribe("inventory");
    REQUIRE(returning.consume_until(*subscription, ids.size() - 3));
    returning.consume_for(*subscription, 1500ms);  // outlasts the 1 s redelivery wait
  }
  // Everything not acknowledged comes again, once; what was acknowledged never does.
  CHECK(sorted(returning.applied) == sorted({ids.begin() + 3, ids.end()}));
  CHECK(returning.duplicates == 0);
  // Redelivered events may come back behind newer ones (after AckWait or a lease); the events
  // published after the first batch keep their order.
  const std::vector<std::string> first_batch(ids.begin(), ids.begin() + batch);
  CHECK(without(returning.applied, first_batch) ==
        std::vector<std::string>(ids.begin() + batch, ids.end()));
}

TEMPLATE_TEST_CASE(
    "batch contract: a consumer killed by SIGKILL mid-batch loses nothing, the unacknowledged "
    "rest comes again and each event is applied once",
    "[brokers][contract][batch][crash]", ZeroMQ, JetStream, RabbitMQ) {
  TestType target;
  if (!target.start()) return;
  const auto options = contract_options(batch);
  const std::unique_ptr<EventTransport> transport = target.make(options);
  transport->add_service("shipping");
  const auto ids = place_orders(*transport, 1, 3 * batch);

  // Another process takes the first batch, acknowledges three, takes a fourth, and is killed.
  constexpr unsigned acknowledged = 3;
  eda::ChildSpec spec;
  spec.argv = {EDA_BROKERS_TEST_CONSUMER, "--transport", std::string(transport->kind()),
               "--address", target.address(*transport), "--name", options.name,
               "--service", "shipping", "--in-flight", std::to_string(batch),
               "--ack", std::to_string(acknowledged)};
  spec.output = eda::ChildOutput::capture;
  eda::ChildProcess child(std::move(spec));
  const eda::ChildResult killed = child.wait(60s);
  INFO(killed.describe() << "\n" << killed.output);
  REQUIRE(killed.signal == SIGKILL);

  // What it applied before it died is in the service's own state (its database, in a real
  // service): the returning process starts from it.
  IdempotentService shipping;
  std::string held;
  std::istringstream lines(killed.output);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("applied ")) {
      shipping.seen.insert(line.substr(8));
      shipping.applied.push_back(line.substr(8));
    } else if (line.starts_with("holding ")) {
      held = line.substr(8);
    }
  }
  REQUIRE(shipping.applied == std::vector<std::string>(ids.begin(), ids.begin() + acknowledged));
  REQUIRE(held == ids[acknowledged]);

  {
    auto subscription = transport->subscribe("shipping");
    REQUIRE(shipping.consume_until(*subscription, ids.size()));
    shipping.consume_for(*subscription, 1500ms);  // outlasts the 1 s redelivery wait
  }
  // Nothing lost, nothing applied twice. Acks still on their way when it died (the ZeroMQ log's
  // travel with the next Fetch, JetStream's batch acks are not waited for) bring those events
  // back, and the idempotent service skips them: at most the three it acknowledged.
  CHECK(sorted(shipping.applied) == sorted(ids));
  CHECK(shipping.duplicates <= acknowledged);
}
