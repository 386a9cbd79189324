/// @file transport_targets.hpp
/// @brief The transports the contract suite runs against, each with the server it needs, and
///        the idempotent service the suite consumes with.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "broker_fixtures.hpp"
#include "eda/brokers/jetstream_transport.hpp"
#include "eda/brokers/rabbitmq_transport.hpp"
#include "eda/brokers/zeromq_transport.hpp"

namespace eda::brokers::testing {

/// @brief A fresh scenario name (stream, exchange), unique across the test processes that share
///        a broker.
std::string unique_scenario_name();

/// @brief The contract's options: a fresh scenario name, three deliveries at most, a short
///        redelivery wait (1 s) for a consumer that dies holding an event, and `max_in_flight`.
TransportOptions contract_options(std::uint32_t max_in_flight = 1);

/// @brief Publishes orders `first..last` from the Order service (sequence = order id) and waits
///        for the broker's acks; returns their event ids in order.
std::vector<std::string> place_orders(EventTransport& transport, std::uint64_t first,
                                      std::uint64_t last);

/// @brief NATS JetStream, on a server of this test's own.
struct JetStream {
  std::optional<JetStreamServer> server;
  /// @brief Starts the server; false (the test skips, and says so) when nats-server is absent.
  bool start();
  /// @brief A transport for `options` on that server.
  [[nodiscard]] std::unique_ptr<EventTransport> make(const TransportOptions& options) const;
  /// @brief Where a consumer in another process connects: the server's URL.
  [[nodiscard]] std::string address(const EventTransport& transport) const;
};

/// @brief RabbitMQ, on the node the test run shares (a scenario name of the test's own).
struct RabbitMQ {
  const RabbitNodeAddress* node = nullptr;
  /// @brief Finds the node; false (the test skips, and says so) when rabbitmq-server is absent.
  bool start();
  /// @brief A transport for `options` on that node.
  [[nodiscard]] std::unique_ptr<EventTransport> make(const TransportOptions& options) const;
  /// @brief Where a consumer in another process connects: the node's AMQP port.
  [[nodiscard]] std::string address(const EventTransport& transport) const;
};

/// @brief ZeroMQ, with the producer's log in a temporary folder.
struct ZeroMQ {
  zmq::context_t context;
  TemporaryFolder folder{"zeromq-log"};
  /// @brief Nothing to start: true.
  bool start() { return true; }
  /// @brief A transport for `options`, its log served on a free loopback port.
  [[nodiscard]] std::unique_ptr<EventTransport> make(const TransportOptions& options);
  /// @brief Where a consumer in another process connects: the endpoint the log is served on.
  [[nodiscard]] std::string address(const EventTransport& transport) const;
};

/// @brief A consuming service as the notification scenario has them: it applies each event once
///        (idempotent by event id), acknowledging every delivery, duplicates included.
struct IdempotentService {
  std::unordered_set<std::string> seen;  ///< Event ids applied.
  std::vector<std::string> applied;      ///< Event ids in the order applied.
  std::uint64_t duplicates = 0;          ///< Deliveries of an event applied before.

  /// @brief Applies (or skips as a duplicate) and acknowledges one delivery.
  void handle(Subscription& subscription, const Delivery& delivery);

  /// @brief Handles deliveries until `count` events are applied in all, or 30 s pass; returns
  ///        whether it got there.
  bool consume_until(Subscription& subscription, std::size_t count);

  /// @brief Handles whatever arrives within `quiet` of the last delivery (to see that nothing
  ///        more comes).
  void consume_for(Subscription& subscription, std::chrono::milliseconds quiet);
};

}  // namespace eda::brokers::testing
