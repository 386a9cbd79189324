/// @file jetstream_group.hpp
/// @brief The partitioned consumer group on NATS JetStream 2.9: deterministic subject
///        partitioning by the server, one durable pull consumer per partition.
///
/// The publisher sends an event of order `order-42` to `orders.order-42`. The server's subject
/// mapping (in its configuration, see partition_mapping_config()) rewrites that subject to
/// `orders.<p>.order-42`, where `p = partition(N, key)` is the server's own stable hash of the
/// key token: every event of one order lands on one partition, whoever publishes it. The stream
/// `orders` captures `orders.*.*`; partition `p` is the durable consumer `orders-p<p>`, filtered
/// on `orders.<p>.*`, with `MaxAckPending = 1`.
///
/// Each member fetches from every partition's consumer in turn. `MaxAckPending = 1` makes the
/// server hand out a partition's next event only once the last one is acknowledged, whichever
/// member holds it: one member at a time per partition, per-key order kept, and no assignment
/// protocol at all. A member that dies holding an event leaves it unacknowledged; after
/// `AckWait` (GroupOptions::redeliver_after) the server delivers it again to the next member
/// that fetches, and the partition moves on. JetStream 2.9 has no pinned consumers (2.11) and no
/// rebalancing of its own: this is the design its documentation gives for strict order, and its
/// price is one event in flight per partition (throughput comes from the number of partitions).
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "eda/brokers/consumer_group.hpp"
#include "eda/brokers/jetstream_server.hpp"

namespace eda::brokers {

/// @brief The server configuration that partitions the group's subjects: a `mappings` block
///        turning `<name>.<key>` into `<name>.{{partition(N,1)}}.<key>` (nats-server >= 2.8).
[[nodiscard]] std::string partition_mapping_config(const GroupOptions& options);

/// @brief A throw-away JetStream server started with the partition mapping of `options` in its
///        configuration file (written in a temporary folder that lives as long as the server, so
///        that crash_and_restart() reads it again).
class PartitionedJetStreamServer {
 public:
  /// @brief Writes the configuration and starts `program` with it (see JetStreamServer).
  PartitionedJetStreamServer(const std::string& program, const GroupOptions& options);

  /// @brief The server.
  [[nodiscard]] JetStreamServer& server() noexcept { return server_; }
  /// @brief Where clients connect.
  [[nodiscard]] const std::string& url() const noexcept { return server_.url(); }

 private:
  TemporaryFolder folder_;  // declared first: removed after the server has stopped
  std::filesystem::path config_;
  JetStreamServer server_;
};

/// @brief Publishes keyed events to `<name>.<key>` with the event id as MsgId, each publish
///        waiting for the server's acknowledgement (js_Publish): simple, not fast.
///
/// @par Errors
/// BrokerError when the server cannot be reached or refuses a publish, and from publish() when
/// no stream takes the subject: the server was started without the partition mapping.
class JetStreamKeyedPublisher : public KeyedPublisher {
 public:
  /// @brief Connects to `url` and declares the group.
  JetStreamKeyedPublisher(const std::string& url, GroupOptions options = {});
  ~JetStreamKeyedPublisher() override;
  JetStreamKeyedPublisher(const JetStreamKeyedPublisher&) = delete;  ///< Owns a connection.
  JetStreamKeyedPublisher& operator=(const JetStreamKeyedPublisher&) = delete;  ///< Owns one.

  /// @brief js_Publish to `<name>.<key>`; returns once the server stored it.
  void publish(std::string_view key, std::string_view event_id, std::string_view envelope) override;
  /// @brief Nothing to wait for: every publish() was acknowledged before it returned.
  void wait_for_acks() override;

 private:
  struct State;
  GroupOptions options_;
  std::unique_ptr<State> state_;
};

/// @brief A member: a pull subscription on every partition's consumer, fetched in turn.
///
/// @par Thread safety
/// One thread at a time.
class JetStreamGroupMember : public GroupMember {
 public:
  /// @brief Connects to `url`, declares the group and binds to every partition.
  JetStreamGroupMember(const std::string& url, GroupOptions options = {});
  ~JetStreamGroupMember() override;
  JetStreamGroupMember(const JetStreamGroupMember&) = delete;             ///< Owns a connection.
  JetStreamGroupMember& operator=(const JetStreamGroupMember&) = delete;  ///< Owns a connection.

  /// @brief The next event of any partition, waiting at most `wait`.
  std::optional<KeyedDelivery> next(std::chrono::milliseconds wait) override;
  /// @brief natsMsg_AckSync: the partition's next event may go out.
  void ack(const KeyedDelivery& delivery) override;

 private:
  struct State;
  GroupOptions options_;
  std::unique_ptr<State> state_;
};

}  // namespace eda::brokers
