/// @file rabbitmq_group.hpp
/// @brief The partitioned consumer group on RabbitMQ 3.10: a quorum queue per partition with
///        `x-single-active-consumer`, bound to a direct exchange by the partition's name.
///
/// The publisher computes the partition of each key itself, with the scaling module's
/// Partitioner (the same hash as the ZeroMQ group), and publishes to the exchange `<name>` with
/// the routing key `p<partition>`; queue `<name>.p<partition>` is bound with that key. Every
/// member consumes every queue; single active consumer makes the broker deliver a queue to one
/// of them at a time (the first to subscribe) and keep the others waiting. When the active
/// member's connection closes (it stopped, or was killed), the broker returns what it had not
/// acknowledged to the queue and activates the next consumer, which receives those events
/// first: the partition is taken over, in order.
///
/// Why a direct exchange and not the consistent-hash exchange: Debian's rabbitmq-server 3.10
/// ships the `rabbitmq_consistent_hash_exchange` plugin, but the throw-away node starts with no
/// plugins (an empty plugins file) and its tests share one node; enabling a plugin would change
/// that node for every test. The producer-side hash also keeps one key -> partition rule for
/// the ZeroMQ group and RabbitMQ. What it gives up: with the modulus, adding a queue moves most
/// keys (the consistent hash moves about 1/N of them), which matters only when the partition
/// count changes, and then a key's old events must be drained before its new queue is read.
///
/// Unlike JetStream's one-event-in-flight, the active member may hold `prefetch` events of its
/// queue at once: order holds because one consumer receives the queue, in order, and a quorum
/// queue delivers the events a dead consumer returned before any later one (the consumer group
/// tests kill the active member holding up to `prefetch` events and count no order violation).
/// What single active consumer does not do is spread queues: the first member to subscribe to
/// a queue keeps it while it lives. Every member here subscribes to every queue, so the first
/// member up is active on all of them and the others stand by: failover, not parallelism.
/// Spreading them would need each member to subscribe to its own share of the queues first, and
/// to the rest only once the others hold theirs: RabbitMQ 3.10 never moves an active consumer.
#pragma once

#include <memory>
#include <string>

#include "eda/brokers/consumer_group.hpp"
#include "eda/brokers/rabbitmq_transport.hpp"

namespace eda::brokers {

/// @brief Publishes keyed events to the group's exchange, persistent, with publisher confirms.
class RabbitKeyedPublisher : public KeyedPublisher {
 public:
  /// @brief Connects to `endpoint` and declares the exchange and the partitions' queues
  ///        (idempotent). Throws BrokerError.
  RabbitKeyedPublisher(const AmqpEndpoint& endpoint, GroupOptions options = {});
  ~RabbitKeyedPublisher() override;
  RabbitKeyedPublisher(const RabbitKeyedPublisher&) = delete;             ///< Owns a connection.
  RabbitKeyedPublisher& operator=(const RabbitKeyedPublisher&) = delete;  ///< Owns a connection.

  /// @brief basic.publish to `<name>` with routing key `p<partition of key>`.
  void publish(std::string_view key, std::string_view event_id, std::string_view envelope) override;
  /// @brief Reads the broker's confirms until every publish is confirmed.
  void wait_for_acks() override;

 private:
  GroupOptions options_;
  scaling::Partitioner partitioner_;
  std::unique_ptr<detail::AmqpConnection> connection_;
  std::uint64_t published_ = 0;
  std::uint64_t confirmed_ = 0;
};

/// @brief A member: a consumer on every partition's queue, on one connection; the broker makes
///        it the active consumer of the queues it subscribed to first.
///
/// @par Thread safety
/// One thread at a time (one AMQP connection).
class RabbitGroupMember : public GroupMember {
 public:
  /// @brief Connects to `endpoint`, declares the group and consumes every queue.
  RabbitGroupMember(const AmqpEndpoint& endpoint, GroupOptions options = {});
  ~RabbitGroupMember() override;
  RabbitGroupMember(const RabbitGroupMember&) = delete;             ///< Owns a connection.
  RabbitGroupMember& operator=(const RabbitGroupMember&) = delete;  ///< Owns a connection.

  /// @brief The next event of any queue it is active on, waiting at most `wait`.
  std::optional<KeyedDelivery> next(std::chrono::milliseconds wait) override;
  /// @brief basic.ack of the delivery.
  void ack(const KeyedDelivery& delivery) override;

 private:
  GroupOptions options_;
  std::unique_ptr<detail::AmqpConnection> connection_;
};

}  // namespace eda::brokers
