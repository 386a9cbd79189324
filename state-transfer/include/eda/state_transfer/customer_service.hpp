/// @file customer_service.hpp
/// @brief The Customer service: owner of the customer records. Every change goes out as a fat
///        event; a snapshot of all records is served to any replica that asks.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <msgpack.hpp>
#include <zmq.hpp>

#include "eda/pubsub.hpp"
#include "eda/state_transfer/customer.hpp"

namespace eda::state_transfer {

/// @brief How a CustomerService is set up.
struct CustomerServiceOptions {
  std::string source = "customer-service";            ///< Source name stamped on its events.
  std::vector<std::string> update_endpoints{};        ///< Where updates are published (PUB).
  std::vector<std::string> snapshot_endpoints{};      ///< Where snapshots are served (ROUTER).
  std::chrono::milliseconds heartbeat_interval{250};  ///< Time between two heartbeats.
  std::size_t snapshot_chunk_records = 1000;          ///< Records per `snapshot.chunk` message.
  int send_high_water_mark = 100'000;  ///< Updates queued per replica before new ones drop.
  /// Snapshot chunks queued per replica. The source never waits for a replica that reads a
  /// snapshot slowly: a snapshot that does not fit is abandoned, and the replica asks again.
  int snapshot_high_water_mark = 10'000;
  /// ZMTP heartbeats on the replicas' connections (updates and snapshots): a replica that
  /// stops answering (frozen, its host gone) is cut off and its queue freed; it reconnects
  /// when it runs again.
  Heartbeat heartbeat{};
  /// Plaintext (the default) or CURVE on both sockets (the service binds them: the CURVE
  /// server, CurveSetup::server()).
  Security security{};
};

/// @brief Counters a CustomerService keeps.
struct CustomerServiceStats {
  std::uint64_t updates = 0;              ///< CustomerUpdated events published.
  std::uint64_t removals = 0;             ///< CustomerRemoved tombstones published.
  std::uint64_t heartbeats = 0;           ///< Heartbeats published.
  std::uint64_t snapshots_served = 0;     ///< Complete snapshots sent.
  std::uint64_t snapshots_abandoned = 0;  ///< Snapshots given up (the replica went away).
  std::uint64_t bad_requests = 0;         ///< Malformed snapshot requests refused.
};

/// @brief The source of truth for customer records, and the publisher of every change to them.
///
/// Each change is applied to the records and published as one event carrying the whole new
/// record (`CustomerUpdated`) or a tombstone (`CustomerRemoved`), numbered by the publisher's
/// per-source sequence. The same thread answers snapshot requests between changes, so a
/// snapshot is always exactly the state after some sequence number, and says which.
///
/// @par Example
/// @code
/// eda::state_transfer::CustomerService customers(context, {
///     .update_endpoints = {"tcp://127.0.0.1:*"}, .snapshot_endpoints = {"tcp://127.0.0.1:*"}});
/// customers.upsert(customer);                       // published as CustomerUpdated #1
/// customers.serve(std::chrono::milliseconds(10));   // snapshots, handshakes, heartbeats
/// @endcode
///
/// @par Thread safety
/// One thread at a time: it owns its sockets and its records.
class CustomerService {
 public:
  /// @brief Binds both endpoint lists and starts from `records` (e.g. loaded from a
  ///        database); throws std::invalid_argument for bad options, std::runtime_error when
  ///        an endpoint cannot be bound.
  CustomerService(zmq::context_t& context, CustomerServiceOptions options,
                  CustomerTable records = {});

  /// @brief Creates or replaces a record and publishes it whole; returns its sequence number.
  ///        Throws std::invalid_argument for a record with id 0.
  std::uint64_t upsert(const Customer& customer);

  /// @brief Deletes a record and publishes the tombstone; returns its sequence number, or
  ///        nothing (and publishes nothing) when there was no such record.
  std::optional<std::uint64_t> remove(CustomerId id);

  /// @brief Answers snapshot requests and subscription handshakes, and sends a heartbeat when
  ///        one is due, for up to `wait`; returns as soon as something was handled.
  void serve(std::chrono::milliseconds wait);

  /// @brief The record with `id`, if any (the owner's own read, e.g. for the baseline).
  [[nodiscard]] const Customer* find(CustomerId id) const;

  /// @brief All records.
  [[nodiscard]] const CustomerTable& records() const noexcept { return records_; }

  /// @brief The sequence number of the last message published (0 before the first).
  [[nodiscard]] std::uint64_t sequence() const noexcept { return updates_.last_sequence(); }

  /// @brief This run's random id, sent in heartbeats and snapshots so that replicas notice a
  ///        restart (a restarted source numbers its messages from 1 again).
  [[nodiscard]] Incarnation incarnation() const noexcept { return incarnation_; }

  /// @brief Where updates are published (connectable form, real ports).
  [[nodiscard]] const std::vector<std::string>& update_endpoints() const noexcept {
    return updates_.endpoints();
  }

  /// @brief Where snapshots are served (connectable form, real ports).
  [[nodiscard]] const std::vector<std::string>& snapshot_endpoints() const noexcept {
    return snapshot_endpoints_;
  }

  /// @brief Counters so far.
  [[nodiscard]] const CustomerServiceStats& stats() const noexcept { return stats_; }

  /// @brief The replicas' update connections: open now, closed so far (a replica that stopped
  ///        answering heartbeats is one of them).
  const PeerStatus& replica_connections() { return updates_.peers(); }

  /// @brief The update publisher (e.g. to wait for a number of subscribers).
  [[nodiscard]] Publisher& publisher() noexcept { return updates_; }

 private:
  void publish_heartbeat_if_due();
  void answer_snapshot_request();
  void send_snapshot(const zmq::message_t& requester);
  bool send_to(const zmq::message_t& requester, std::string_view command, std::string_view body);

  CustomerServiceOptions options_;
  CustomerTable records_;
  Publisher updates_;
  zmq::socket_t snapshots_;
  std::vector<std::string> snapshot_endpoints_{};
  Incarnation incarnation_;
  std::int64_t next_heartbeat_ns_ = 0;  // monotonic time the next heartbeat is due
  CustomerServiceStats stats_;
  std::vector<zmq::message_t> frames_{};
  msgpack::sbuffer buffer_{64 * 1024};
};

}  // namespace eda::state_transfer
