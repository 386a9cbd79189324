/// @file rabbitmq_transport.hpp
/// @brief The durable event transport over RabbitMQ (librabbitmq, AMQP 0-9-1): a durable fanout
///        exchange, one durable queue per consuming service, a dead-letter exchange.
///
/// The topology is the one SNS fanning out to SQS queues has: the producer knows one exchange,
/// every service owns a queue that receives a copy of each event and keeps it while the service
/// is away.
///
/// | transport need | RabbitMQ 3.10 (librabbitmq 0.11) |
/// |---|---|
/// | publish, acknowledged once stored | persistent messages (delivery mode 2) on a channel in confirm mode (`confirm.select`); the `basic.ack` frames are read by hand (`amqp_simple_wait_frame_noblock`: `amqp_publisher_confirm_wait` came in 0.15) |
/// | durable subscription | a durable quorum queue `<name>.<service>` bound to the fanout exchange `<name>` |
/// | explicit ack, prefetch | `basic.ack` (one frame, not confirmed: AMQP has no ack confirmation); `basic.qos` prefetch of `max_in_flight` (a service going down holds at most that many events) |
/// | redelivery | `basic.nack` with requeue; a closed channel requeues what it held |
/// | dead letters | the queue's dead-letter exchange `<name>.dead` routes to `<name>.<service>.dead`; the last allowed delivery is rejected without requeue, and the queue's `x-delivery-limit` bounds deliveries of a message whose consumers keep dying |
/// | de-duplication | none: a second publish is a second message, and the consumer deduplicates by event id |
///
/// @par Durability
/// A persistent message routed to a quorum queue is confirmed once the queue's log has written
/// and fsynced it (RabbitMQ's publisher-confirms documentation).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "eda/brokers/transport.hpp"

namespace eda::brokers {

namespace detail {
struct AmqpConnection;  ///< One AMQP connection with one channel (librabbitmq: one per thread).
}  // namespace detail

/// @brief Where a RabbitMQ broker listens (guest/guest works from 127.0.0.1 only).
struct AmqpEndpoint {
  std::string host = "127.0.0.1";  ///< The broker's address.
  std::uint16_t port = 5672;       ///< Its AMQP port.
  std::string user = "guest";      ///< User name.
  std::string password = "guest";  ///< Password.
  std::string vhost = "/";         ///< Virtual host.
};

/// @brief The durable event transport over RabbitMQ (see the file's notes).
class RabbitTransport : public EventTransport {
 public:
  /// @brief Connects to `endpoint` and declares the exchanges `options.name` (fanout) and
  ///        `<name>.dead` (direct), durable. Throws BrokerError when the broker cannot be
  ///        reached or refuses.
  RabbitTransport(AmqpEndpoint endpoint, TransportOptions options = {});
  ~RabbitTransport() override;
  RabbitTransport(const RabbitTransport&) = delete;             ///< Owns a connection.
  RabbitTransport& operator=(const RabbitTransport&) = delete;  ///< Owns a connection.

  /// @brief `rabbitmq`.
  [[nodiscard]] std::string_view kind() const override { return "rabbitmq"; }
  /// @brief Declares and binds the queues `<name>.<service>` and `<name>.<service>.dead`.
  void add_service(const std::string& service) override;
  /// @brief A persistent `basic.publish` to the fanout exchange, message id = event id.
  void publish(std::string_view event_id, std::string_view envelope) override;
  /// @brief Reads publisher confirms until every publish is acknowledged; throws BrokerError on a
  ///        `basic.nack` or when `ack_timeout` passes.
  void wait_for_acks() override;
  /// @brief A consumer on the service's queue, on a connection of its own.
  std::unique_ptr<Subscription> subscribe(const std::string& service) override;
  /// @brief Consumes and acknowledges up to `max` messages of `<name>.<service>.dead`.
  std::vector<std::string> take_dead_letters(const std::string& service, std::size_t max,
                                             std::chrono::milliseconds wait) override;
  /// @brief False: RabbitMQ stores a second publish as a second message.
  [[nodiscard]] bool deduplicates_publishes() const override { return false; }

  using EventTransport::publish;

 private:
  AmqpEndpoint endpoint_;
  TransportOptions options_;
  std::unique_ptr<detail::AmqpConnection> publisher_;
  std::uint64_t published_ = 0;     // delivery tags handed out on the confirm channel
  std::uint64_t acknowledged_ = 0;  // every tag up to it is confirmed
};

}  // namespace eda::brokers
