/// @file competing_consumers.hpp
/// @brief The design the partitioned group improves on: competing consumers, unkeyed. The
///        Order service pushes every event to a pool of Billing workers in turn (ZeroMQ
///        PUSH/PULL, the Guide's "ventilator"), and whichever worker gets an event charges it.
///
/// It scales as well as the group: N workers take N events at once. What it loses is order
/// per order: two events of one order can sit with two workers, and the second is charged
/// while the first still waits its turn (a slow gateway call, a busy worker). The reordering is
/// not hypothetical, and it is detected: the workers of a process share a ReorderDetector that
/// sees every charge and counts each step that arrives after a later step of its order, and the
/// gateway's record shows the same thing afterwards (BillingGateway::order_violations()).
///
/// A poison event (the gateway declines it every time) is retried where it is, with a backoff
/// that doubles, then dead-lettered. There is no partition to set it aside in: while it waits,
/// the events queued behind it at that worker wait too (the other workers go on).
///
/// The distributor connects to each worker's PULL endpoint: its PUSH socket then has one queue
/// per worker from the start and hands events out strictly in turn (with workers connecting to
/// a bound PUSH, the first to connect gets everything sent before the others arrive).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include <zmq.hpp>

#include "eda/codec.hpp"
#include "eda/dead_letter.hpp"
#include "eda/scaling/billing.hpp"
#include "eda/scaling/keyed_producer.hpp"
#include "eda/wire.hpp"

namespace eda::scaling {

/// @brief Counts the events applied after a later event of their order: the ordering bug.
///
/// @par Thread safety
/// All members may be called concurrently (the workers of one process share one).
class ReorderDetector {
 public:
  /// @brief Records that `step` of `order_id` was applied; false (and counted) when a later
  ///        step of that order was applied before it.
  bool observe(std::string_view order_id, std::uint32_t step);
  /// @brief Steps applied after a later step of their order.
  [[nodiscard]] std::uint64_t reorders() const;
  /// @brief The highest step applied for `order_id` (0: none).
  [[nodiscard]] std::uint32_t highest_step(std::string_view order_id) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::uint32_t, std::less<>> highest_;
  std::uint64_t reorders_ = 0;
};

/// @brief Pushes events to the workers in turn (see the file's description).
///
/// @par Thread safety
/// One thread.
class UnkeyedDistributor {
 public:
  /// @brief A distributor connected to every endpoint in `workers` (at least one), naming
  ///        itself `source`. Throws std::invalid_argument, TransportError.
  UnkeyedDistributor(zmq::context_t& context, const std::vector<std::string>& workers,
                     std::string source = "order-service");

  /// @brief Stamps `payload` (linked to `cause` when one is given) and sends it to the next
  ///        worker; blocks while that worker's queue (1000 events) is full. Returns its
  ///        metadata.
  template <EventPayload P>
  EventMetadata send(const P& payload, const Cause& cause = {}) {
    EventMetadata meta =
        new_event_metadata(P::event_type, P::schema_version, source_, ++sequence_, cause);
    buffer_.clear();
    encode_event(meta, payload, buffer_);
    (void)send_event(socket_, last_envelope());
    return meta;
  }

  /// @brief The envelope of the last event sent, exactly as sent (valid until the next send),
  ///        e.g. to announce it where a tracer can see it.
  [[nodiscard]] std::string_view last_envelope() const noexcept {
    return {buffer_.data(), buffer_.size()};
  }

 private:
  zmq::socket_t socket_;
  std::string source_;
  std::uint64_t sequence_ = 0;
  msgpack::sbuffer buffer_;
};

/// @brief How a competing worker runs.
struct CompetingWorkerOptions {
  std::string endpoint = "tcp://127.0.0.1:*";      ///< Where its PULL socket binds.
  std::string name = "worker";                     ///< Who charges (in the gateway's record).
  std::string gateway_path;                        ///< The BillingGateway's file.
  std::string gateway_endpoint{};  ///< The GatewayService's endpoint (when set: used instead).
  std::chrono::microseconds gateway_call_time{0};  ///< Time per gateway call.
  ReorderDetector* detector = nullptr;             ///< Shared detector (nothing: none).
  /// @brief Called with each event's order and step before it is charged: tests use it to
  ///        hold one worker back and force a reordering deterministically.
  std::function<void(const OrderStep&)> before_charge;
  int max_attempts = 4;  ///< Charges of a poison event before it is dead-lettered.
  std::chrono::milliseconds first_backoff{10};  ///< Wait before the first retry (then doubled).
  std::chrono::milliseconds max_backoff{200};   ///< The longest wait between two attempts.
  /// @brief Where poison and undecodable events go (nothing: they are only counted).
  std::shared_ptr<DeadLetterSink> dead_letters{};
  /// @brief Called on the worker's thread after each event the gateway charged (not for one
  ///        it had charged before, nor for a dead letter), with the worker's name and the
  ///        event's envelope: e.g. to announce the charge for a tracer. Empty: nothing is
  ///        called. It must not throw.
  std::function<void(const std::string& worker, std::string_view envelope)> on_charged{};
};

/// @brief What a competing worker has done.
struct CompetingWorkerStatus {
  std::uint64_t processed = 0;  ///< Events taken (charged, already charged or failed).
  std::uint64_t charged = 0;    ///< Charges the gateway recorded.
  std::uint64_t reorders = 0;   ///< Events this worker applied after a later one of their order.
  std::uint64_t failed = 0;     ///< Events dead-lettered: they did not decode, or the gateway
                                ///< declined every attempt.
  std::uint64_t retries = 0;    ///< Failed attempts that were retried after a backoff.
};

/// @brief One Billing worker of the unkeyed pool: binds in its constructor, serves in run().
///
/// @par Thread safety
/// run() on one thread; endpoint() and status() from any.
class CompetingWorker {
 public:
  /// @brief Binds the PULL socket and opens the gateway. Throws TransportError, StorageError.
  CompetingWorker(zmq::context_t& context, CompetingWorkerOptions options);

  /// @brief The endpoint bound, for the distributor.
  [[nodiscard]] const std::string& endpoint() const noexcept { return endpoint_; }
  /// @brief Charges the events it receives until `stop` is requested.
  void run(const std::stop_token& stop);
  /// @brief What it has done so far.
  [[nodiscard]] CompetingWorkerStatus status() const;

 private:
  void handle(const DecodedEvent& event, const std::stop_token& stop);
  void dead_letter(std::vector<std::string> frames, WireFault fault, const std::string& reason);

  CompetingWorkerOptions options_;
  zmq::socket_t socket_;
  std::string endpoint_;
  std::unique_ptr<PaymentGateway> gateway_;
  mutable std::mutex mutex_;
  CompetingWorkerStatus status_;
};

}  // namespace eda::scaling
