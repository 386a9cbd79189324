/// @file zeromq_transport.hpp
/// @brief The durable event transport over ZeroMQ: with no broker, the producer's own log plays
///        its part — a SQLite file of events and of each service's deliveries, served over a
///        ZeroMQ request-reply endpoint (the kit's RpcServer and Lazy Pirate RpcClient).
///
/// ZeroMQ moves bytes; it keeps nothing for a consumer that is away. Everything a broker would
/// keep is written here by hand, the way the catalogue's other modules do it (the saga module's
/// transactional outbox, the notification module's replay from the Order service):
///
/// | transport need | built here |
/// |---|---|
/// | publish, acknowledged once stored | wait_for_acks() sends the publishes in one `Append` request; the reply comes after the SQLite commit (`synchronous=FULL`: fsynced) |
/// | de-duplication | the log's unique event id: a second publish of an id is not stored (no time window) |
/// | durable subscription | a row per service with the next position it has not seen; consumers pull (`Fetch` leases up to `max_in_flight`) |
/// | explicit ack | an ack (or reject) travels with the consumer's next `Fetch`, which settles it and leases the next batch in one commit: one fsync per batch |
/// | redelivery | a rejected delivery is offered again at once, an unacknowledged one after its lease (`redeliver_after`); the lowest position first |
/// | dead letters | a delivery rejected on its last allowed attempt, or whose lease ran out on it, is marked dead; `TakeDead` hands dead letters out once |
///
/// @par What it is not
/// A broker: one process (the producer's) serves the log, so when it is down nobody can
/// consume, and the log grows until someone trims it (nothing here does). Consumers poll: an
/// empty `Fetch` is asked again after a few milliseconds (fetch_poll), the cost of pulling over
/// request-reply without a notification channel.
#pragma once

#include <chrono>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>

#include <zmq.hpp>

#include "eda/brokers/transport.hpp"

namespace eda::brokers {

namespace detail {
class EventLogService;  ///< The log and its request-reply server (one thread).
}  // namespace detail

/// @brief The durable event transport over ZeroMQ (see the file's notes).
///
/// @par Thread safety
/// The transport from one thread; each subscription from one thread (it has its own socket).
class ZeroMqTransport : public EventTransport {
 public:
  /// @brief Opens (creating if needed) the log at `database_path` and serves it on `endpoint`
  ///        (default: a free tcp port on 127.0.0.1) from a thread of its own, in `context`
  ///        (which must outlive this). Throws eda::StorageError or eda::TransportError.
  ZeroMqTransport(zmq::context_t& context, const std::string& database_path,
                  TransportOptions options = {}, const std::string& endpoint = "tcp://127.0.0.1:*");
  /// @brief Stops serving (subscriptions still open get timeouts) and closes the log.
  ~ZeroMqTransport() override;
  ZeroMqTransport(const ZeroMqTransport&) = delete;             ///< Owns a thread.
  ZeroMqTransport& operator=(const ZeroMqTransport&) = delete;  ///< Owns a thread.

  /// @brief Where the log is served (connectable form), for consumers in other processes.
  [[nodiscard]] const std::string& endpoint() const noexcept { return endpoint_; }

  /// @brief `zeromq`.
  [[nodiscard]] std::string_view kind() const override { return "zeromq"; }
  /// @brief Registers the service: it gets every event appended from now on.
  void add_service(const std::string& service) override;
  /// @brief Keeps the envelope until wait_for_acks() sends it.
  void publish(std::string_view event_id, std::string_view envelope) override;
  /// @brief Appends what was published in one request; returns once it is committed.
  void wait_for_acks() override;
  /// @brief A pulling subscription with a request socket of its own.
  std::unique_ptr<Subscription> subscribe(const std::string& service) override;
  /// @brief A subscription of `service` to the log served at `endpoint` by a ZeroMqTransport in
  ///        another process (`options` as that transport's: the name aside, its batch and
  ///        timeouts apply), in `context` (which must outlive it).
  static std::unique_ptr<Subscription> subscribe_to(zmq::context_t& context,
                                                    const std::string& endpoint,
                                                    const std::string& service,
                                                    const TransportOptions& options);
  /// @brief Takes up to `max` dead letters of `service`, waiting at most `wait` for the first.
  std::vector<std::string> take_dead_letters(const std::string& service, std::size_t max,
                                             std::chrono::milliseconds wait) override;
  /// @brief True: the log refuses a second row with the same event id.
  [[nodiscard]] bool deduplicates_publishes() const override { return true; }

  using EventTransport::publish;

 private:
  zmq::context_t& context_;
  TransportOptions options_;
  std::unique_ptr<detail::EventLogService> service_;
  std::string endpoint_;
  std::vector<std::pair<std::string, std::string>> unsent_;  // (event id, envelope)
  std::jthread serving_;  // last: stopped and joined before the rest goes
};

}  // namespace eda::brokers
