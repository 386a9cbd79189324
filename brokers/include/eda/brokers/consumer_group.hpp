/// @file consumer_group.hpp
/// @brief Partitioned consumer groups on the brokers: events keyed by order id, every event of
///        one key on one partition, each partition consumed by one member at a time, so that the
///        events of one order are applied in the order they were published however many
///        members share the work. scaling/ builds this by hand over ZeroMQ and SQLite; here the
///        broker does the partitioning and the failover.
///
/// | the group's need | scaling/ (built here) | JetStream 2.9 | RabbitMQ 3.10 |
/// |---|---|---|---|
/// | key -> partition | the producer's Partitioner (FNV-1a + mix64, mod N) | the server's subject mapping `partition(N, token)` | the producer's Partitioner, the partition as routing key of a direct exchange |
/// | a partition | a log per partition (SQLite) | a durable pull consumer per partition (a filter on the partition's subjects) | a quorum queue per partition |
/// | one member at a time per partition | the coordinator's assignment | `MaxAckPending = 1` on the partition's consumer: one event out until it is acknowledged, whoever fetched it | `x-single-active-consumer`: the broker delivers a queue to one consumer, the others wait |
/// | a dead member's partitions move | session timeout, rebalance, resume from the checkpoint | the unacknowledged event is delivered again after `AckWait` to whichever member fetches | the broker sees the connection close, returns the unacknowledged events and activates the next consumer |
/// | no double effect on redelivery | idempotency key at the gateway | the same | the same |
///
/// The members run the scaling module's Billing handler (eda::scaling::bill), and the scaling
/// module's gateway checks the order afterwards (BillingGateway::order_violations()).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

#include "eda/scaling/billing.hpp"
#include "eda/scaling/partitioner.hpp"

namespace eda::brokers {

/// @brief How a partitioned group is laid out on its broker; the publisher and every member use
///        the same.
struct GroupOptions {
  std::string name = "orders";   ///< The stream or exchange (letters, digits, '-', '_').
  std::uint32_t partitions = 4;  ///< How many partitions keys are spread over (1..64).
  /// JetStream: how long an event fetched by a member that then died waits before it goes to
  /// another member (the partition's consumer's AckWait).
  std::chrono::milliseconds redeliver_after{2'000};
  /// RabbitMQ: events the broker sends a member ahead of its acknowledgements, per queue.
  std::uint16_t prefetch = 10;
  /// How long a publish waits for the broker's acknowledgement.
  std::chrono::milliseconds ack_timeout{10'000};
};

/// @brief `options` once checked (a valid name, 1..64 partitions, a positive redelivery time
///        and prefetch); throws std::invalid_argument otherwise.
GroupOptions checked_group_options(GroupOptions options);

/// @brief One event handed to a member.
struct KeyedDelivery {
  std::string envelope;                ///< The event as published (the kit's envelope).
  scaling::PartitionId partition = 0;  ///< The partition it came from.
  std::uint64_t handle = 0;            ///< The member's own reference, for ack().
};

/// @brief The Order service's side: publishes each event under its key.
class KeyedPublisher {
 public:
  virtual ~KeyedPublisher() = default;
  /// @brief Publishes `envelope` under `key` (letters, digits, '-', '_'); `event_id` lets the
  ///        broker drop a second publish of the same event where it can.
  virtual void publish(std::string_view key, std::string_view event_id,
                       std::string_view envelope) = 0;
  /// @brief Waits until the broker has stored everything published; throws BrokerError when it
  ///        refused one or did not answer in time.
  virtual void wait_for_acks() = 0;
};

/// @brief One member of the group: takes events from whichever partitions the broker gives it.
///
/// Destroying it (or killing its process) is the member going down: what it took and did not
/// acknowledge goes to another member, in order.
class GroupMember {
 public:
  virtual ~GroupMember() = default;
  /// @brief The next event, waiting at most `wait`; nothing when none came.
  virtual std::optional<KeyedDelivery> next(std::chrono::milliseconds wait) = 0;
  /// @brief The event is processed: the partition's next one may go out.
  virtual void ack(const KeyedDelivery& delivery) = 0;
};

/// @brief What a member's billing loop did.
struct BillingTally {
  std::uint64_t charged = 0;          ///< Events the gateway recorded.
  std::uint64_t already_charged = 0;  ///< Redeliveries the gateway had already charged.
  std::uint64_t unreadable = 0;  ///< Events that were not Billing events: acknowledged, skipped.
};

/// @brief Runs the scaling module's Billing handler over `member` until `stop`: each event is
///        charged at `gateway` (its event id as idempotency key) as `member_name`, then
///        acknowledged. A declined charge (the poison event) is acknowledged and counted as
///        unreadable: this loop does not dead-letter.
BillingTally run_billing(GroupMember& member, scaling::PaymentGateway& gateway,
                         const std::string& member_name, const std::stop_token& stop,
                         std::chrono::milliseconds tick = std::chrono::milliseconds(50));

}  // namespace eda::brokers
