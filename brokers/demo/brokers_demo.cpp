// brokers-demo: the notification scenario's durable subscriptions, narrated, over one transport
// chosen on the command line — the producer's own log over ZeroMQ, NATS JetStream or RabbitMQ —
// with the server started (and stopped) by the demo itself.
//
// A sibling of notification-demo rather than a flag of it: that demo's roles are built on the
// kit's publish/subscribe and its in-memory replay buffer; this one drives the brokers module's
// EventTransport, so the same story runs unchanged on all three transports:
//   1. Inventory, Shipping and Billing each get a durable subscription;
//   2. the Order service places orders while Billing is down, and its publishes are still
//      acknowledged (nobody waits for Billing);
//   3. Billing comes back and catches up, each order applied once (it deduplicates by event id);
//   4. bytes that are no event are published, and every service sends them to its dead letters
//      instead of stopping;
//   5. the correlation id an order was placed with arrives with it.
// The exit code is 0 only when every one of those held.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "eda/brokers/jetstream_server.hpp"
#include "eda/brokers/jetstream_transport.hpp"
#include "eda/brokers/rabbitmq_node.hpp"
#include "eda/brokers/rabbitmq_transport.hpp"
#include "eda/brokers/zeromq_transport.hpp"
#include "eda/clock.hpp"
#include "eda/notification/shop.hpp"

namespace {

using namespace std::chrono_literals;
using eda::brokers::EventTransport;
using eda::brokers::Subscription;
using eda::notification::OrderPlaced;

/// The server a transport needs, kept alive for the demo's run.
struct Servers {
  std::optional<eda::brokers::JetStreamServer> jetstream;
  std::optional<eda::brokers::RabbitNode> rabbitmq;
  std::optional<eda::brokers::TemporaryFolder> log_folder;
  zmq::context_t context;
};

/// Starts what `kind` needs and returns its transport; throws with the server's own error.
std::unique_ptr<EventTransport> start(const std::string& kind, Servers& servers) {
  const eda::brokers::TransportOptions options{.name = "shop", .redeliver_after = 1s};
  if (kind == "jetstream") {
    const auto program = eda::brokers::find_nats_server();
    if (!program) throw std::runtime_error("nats-server is not installed (Debian: nats-server)");
    servers.jetstream.emplace(*program);
    std::cout << "  nats-server -js started on " << servers.jetstream->url() << "\n";
    return std::make_unique<eda::brokers::JetStreamTransport>(servers.jetstream->url(), options);
  }
  if (kind == "rabbitmq") {
    if (!eda::brokers::find_rabbitmq_server()) {
      throw std::runtime_error("rabbitmq-server is not installed (Debian: rabbitmq-server)");
    }
    std::cout << "  starting a throw-away RabbitMQ node (an Erlang VM boots: seconds)...\n";
    servers.rabbitmq.emplace();
    std::cout << "  RabbitMQ node " << servers.rabbitmq->address().node_name << " on 127.0.0.1:"
              << servers.rabbitmq->address().amqp_port << "\n";
    return std::make_unique<eda::brokers::RabbitTransport>(
        eda::brokers::AmqpEndpoint{.port = servers.rabbitmq->address().amqp_port}, options);
  }
  servers.log_folder.emplace("brokers-demo");
  auto transport = std::make_unique<eda::brokers::ZeroMqTransport>(
      servers.context, (servers.log_folder->path() / "order-log.db").string(), options);
  std::cout << "  no broker: the Order service serves its own SQLite log on "
            << transport->endpoint() << "\n";
  return transport;
}

/// A consuming service: applies each order once, whatever the transport redelivers.
struct Service {
  explicit Service(std::string service) : name(std::move(service)) {}
  std::string name;
  std::set<std::string> applied;  // event ids
  std::uint64_t duplicates = 0;

  /// Takes what is there (until `quiet` passes with nothing new); returns how many it applied.
  std::size_t consume(Subscription& subscription, std::chrono::milliseconds quiet,
                      std::map<std::string, std::string>* correlations = nullptr) {
    std::size_t fresh = 0;
    for (int bound = 0; bound < 10'000; ++bound) {
      const auto delivery = subscription.next(quiet);
      if (!delivery) break;
      const std::string id(delivery->event.event_id());
      if (applied.insert(id).second) {
        ++fresh;
        if (correlations != nullptr) (*correlations)[id] = delivery->event.meta().correlation_id;
      } else {
        ++duplicates;
      }
      subscription.ack(*delivery);
    }
    return fresh;
  }
};

/// Publishes orders `first..last`, each correlated with its own checkout id, and waits for the
/// acks; returns (event id, correlation id) per order.
std::map<std::string, std::string> place_orders(EventTransport& transport, std::uint64_t first,
                                                std::uint64_t last) {
  std::map<std::string, std::string> sent;
  for (std::uint64_t order = first; order <= last; ++order) {
    auto event = eda::make_event("order-service", OrderPlaced{order});
    event.meta.sequence = order;
    event.meta.correlation_id = "checkout-" + std::to_string(order);
    transport.publish(event);
    sent[event.meta.event_id] = event.meta.correlation_id;
  }
  transport.wait_for_acks();
  return sent;
}

/// Prints a check and remembers whether it failed.
struct Checks {
  bool all = true;
  void operator()(bool held, const std::string& what) {
    std::cout << (held ? "  ok: " : "  FAILED: ") << what << "\n";
    all = all && held;
  }
};

int run(const std::string& kind, std::uint64_t orders) {
  std::cout << "== brokers-demo over " << kind << "\n";
  Servers servers;
  const std::unique_ptr<EventTransport> transport = start(kind, servers);
  Checks check;

  std::cout << "\n1. Inventory, Shipping and Billing declare their durable subscriptions\n";
  std::vector<Service> services{Service("inventory"), Service("shipping"), Service("billing")};
  for (const auto& service : services) transport->add_service(service.name);
  Service& billing = services[2];

  std::cout << "\n2. Billing is down; the Order service places orders 1.." << orders << "\n";
  const eda::Deadline placed_within(60s);
  auto sent = place_orders(*transport, 1, orders);
  check(!placed_within.expired(),
        "every order acknowledged by " + std::string(transport->kind()) + " with Billing down");
  std::map<std::string, std::string> correlations;
  for (std::size_t i = 0; i < 2; ++i) {
    auto subscription = transport->subscribe(services[i].name);
    const auto got = services[i].consume(*subscription, 2s, &correlations);
    std::cout << "  " << services[i].name << " applied " << got << " orders\n";
  }

  std::cout << "\n3. More orders (" << orders + 1 << ".." << 2 * orders
            << ") are placed, then Billing comes back\n";
  const auto more = place_orders(*transport, orders + 1, 2 * orders);
  sent.insert(more.begin(), more.end());
  {
    auto subscription = transport->subscribe("billing");
    const auto got = billing.consume(*subscription, 2s);
    std::cout << "  billing applied " << got << " orders, " << billing.duplicates
              << " duplicate deliveries skipped\n";
  }
  check(billing.applied.size() == 2 * orders, "Billing caught up on every order, each once");

  std::cout << "\n4. Bytes that are no event are published to everyone\n";
  transport->publish("not-an-event-1", std::string_view("this is not an envelope"));
  transport->wait_for_acks();
  for (auto& service : services) {
    auto subscription = transport->subscribe(service.name);
    (void)service.consume(*subscription, 2s);
    const auto letters = transport->take_dead_letters(service.name, 10, 5s);
    std::cout << "  " << service.name << ": " << subscription->malformed()
              << " malformed message(s) sent to its dead letters, " << letters.size()
              << " taken out of them\n";
    check(letters.size() == 1 && letters.front() == "this is not an envelope",
          service.name + " dead-lettered the bytes and went on");
  }
  check(services[0].applied.size() == 2 * orders && services[1].applied.size() == 2 * orders,
        "Inventory and Shipping got every order too");

  std::cout << "\n5. Correlation ids travel with the events\n";
  bool same = !correlations.empty();
  for (const auto& [id, correlation] : correlations) same = same && sent[id] == correlation;
  if (!correlations.empty()) {
    std::cout << "  e.g. event " << correlations.begin()->first << " arrived with correlation id "
              << correlations.begin()->second << "\n";
  }
  check(same, "every delivered order carries the correlation id it was placed with");

  std::cout << "\n" << (check.all ? "all checks held" : "SOME CHECKS FAILED") << "; stopping "
            << kind << "\n";
  return check.all ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"The notification scenario's durable subscriptions over ZeroMQ, JetStream or "
               "RabbitMQ, narrated; the demo starts and stops the server itself"};
  std::string kind = "zeromq";
  std::uint64_t orders = 5;
  app.add_option("--transport", kind, "zeromq (the producer's own log), jetstream or rabbitmq")
      ->check(CLI::IsMember({"zeromq", "jetstream", "rabbitmq"}));
  app.add_option("--orders", orders, "Orders placed while Billing is down (and as many after)")
      ->check(CLI::Range(1, 1000));
  CLI11_PARSE(app, argc, argv);
  try {
    return run(kind, orders);
  } catch (const std::exception& e) {
    std::cerr << "brokers-demo: " << e.what() << "\n";
    return 2;
  }
}
