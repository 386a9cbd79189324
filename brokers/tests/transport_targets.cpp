// The transports under contract, and the idempotent service.
#include "transport_targets.hpp"

#include <unistd.h>

#include <atomic>
#include <random>

#include "eda/clock.hpp"
#include "eda/notification/shop.hpp"

namespace eda::brokers::testing {

std::string unique_scenario_name() {
  static std::atomic<int> counter{0};
  static const unsigned salt = std::random_device{}() % 100'000;
  return "shop-" + std::to_string(::getpid()) + "-" + std::to_string(salt) + "-" +
         std::to_string(++counter);
}

TransportOptions contract_options(std::uint32_t max_in_flight) {
  using namespace std::chrono_literals;
  return TransportOptions{.name = unique_scenario_name(),
                          .max_deliveries = 3,
                          .ack_timeout = 30s,
                          .redeliver_after = 1s,
                          .max_in_flight = max_in_flight};
}

std::vector<std::string> place_orders(EventTransport& transport, std::uint64_t first,
                                      std::uint64_t last) {
  std::vector<std::string> ids;
  for (std::uint64_t order = first; order <= last; ++order) {
    auto event = eda::make_event("order-service", notification::OrderPlaced{order});
    event.meta.sequence = order;
    transport.publish(event);
    ids.push_back(event.meta.event_id);
  }
  transport.wait_for_acks();
  return ids;
}

bool JetStream::start() {
  const auto program = nats_server_or_skip();
  if (!program) return false;
  server.emplace(*program);
  return true;
}

std::unique_ptr<EventTransport> JetStream::make(const TransportOptions& options) const {
  return std::make_unique<JetStreamTransport>(server->url(), options);
}

bool RabbitMQ::start() {
  node = rabbit_node_or_skip();
  return node != nullptr;
}

std::unique_ptr<EventTransport> RabbitMQ::make(const TransportOptions& options) const {
  return std::make_unique<RabbitTransport>(AmqpEndpoint{.port = node->amqp_port}, options);
}

std::unique_ptr<EventTransport> ZeroMQ::make(const TransportOptions& options) {
  return std::make_unique<ZeroMqTransport>(
      context, (folder.path() / (options.name + ".db")).string(), options);
}

std::string JetStream::address(const EventTransport&) const { return server->url(); }

std::string RabbitMQ::address(const EventTransport&) const {
  return std::to_string(node->amqp_port);
}

std::string ZeroMQ::address(const EventTransport& transport) const {
  return dynamic_cast<const ZeroMqTransport&>(transport).endpoint();
}

void IdempotentService::handle(Subscription& subscription, const Delivery& delivery) {
  const std::string id(delivery.event.event_id());
  if (seen.insert(id).second) {
    applied.push_back(id);
  } else {
    ++duplicates;
  }
  subscription.ack(delivery);
}

bool IdempotentService::consume_until(Subscription& subscription, std::size_t count) {
  const Deadline deadline(std::chrono::seconds(30));
  while (applied.size() < count && !deadline.expired()) {
    if (auto delivery = subscription.next(std::chrono::milliseconds(500))) {
      handle(subscription, *delivery);
    }
  }
  return applied.size() >= count;
}

void IdempotentService::consume_for(Subscription& subscription, std::chrono::milliseconds quiet) {
  for (int bound = 0; bound < 10'000; ++bound) {
    auto delivery = subscription.next(quiet);
    if (!delivery) return;
    handle(subscription, *delivery);
  }
}

}  // namespace eda::brokers::testing
