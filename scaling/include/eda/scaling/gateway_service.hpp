/// @file gateway_service.hpp
/// @brief The stand-in payment gateway as a service of its own: one process (or thread) holds
///        the record of charges, and Billing instances call it over ZeroMQ (RemoteGateway).
///
/// Why it exists: when every Billing instance opens the record's SQLite file itself
/// (BillingGateway), each charge is a write transaction of its own under the file's one write
/// lock, about 0.1 ms of system calls each on the machine measured. Eight members making a
/// thousand charges a second each queue on that lock, and the *stand-in* becomes what limits
/// the group (measured in bench-scaling: BM_Scaling_Gateway). A real card processor is a
/// service that takes many calls at once; so is this one. It keeps the two promises of the
/// file: a charge is recorded, with its idempotency check, in the same transaction before it is
/// answered (a crash loses no answered charge), and a key is charged once. What it changes is
/// how many charges share a transaction: it takes every request that has arrived and records
/// them together (a group commit), so under load one commit serves many calls.
///
/// The call's time (about 1 ms, I/O-bound) is still spent on every call: RemoteGateway waits it
/// before sending, as BillingGateway waits it before recording.
///
/// @par Frames
/// | direction | frames |
/// |---|---|
/// | call (DEALER → ROUTER) | one: MessagePack `[call id, ChargeRequest]` |
/// | answer | one: MessagePack `[call id, outcome, message]`; outcome 0 charged, 1 already charged, 2 declined, 3 refused (a request that did not decode), 4 not recorded (the record failed: try again) |
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <zmq.hpp>

#include "eda/scaling/billing.hpp"

namespace eda::scaling {

/// @brief How a gateway service runs.
struct GatewayServiceOptions {
  std::string endpoint = "tcp://127.0.0.1:*";  ///< Where its ROUTER binds.
  std::string record_path;                     ///< The record's file (BillingGateway's schema).
  std::size_t max_batch = 256;                 ///< The most calls recorded in one transaction.
};

/// @brief What a gateway service has done.
struct GatewayServiceStatus {
  std::uint64_t calls = 0;            ///< Calls answered.
  std::uint64_t charged = 0;          ///< Charges recorded.
  std::uint64_t already_charged = 0;  ///< Calls whose key had been charged before.
  std::uint64_t declined = 0;         ///< Calls declined (a negative amount).
  std::uint64_t malformed = 0;        ///< Messages that did not decode (answered "refused").
  std::uint64_t not_recorded = 0;     ///< Calls the record could not take (answered so).
  std::uint64_t commits = 0;          ///< Transactions: calls / commits is the batching.
};

/// @brief The gateway service (see the file's description): binds and serves on a thread of
///        its own from its constructor until stop() or destruction.
///
/// @par Thread safety
/// endpoint(), status() and stop() from any thread.
class GatewayService {
 public:
  /// @brief Opens the record (creating it if needed), binds, starts serving. Throws
  ///        eda::StorageError, eda::TransportError.
  GatewayService(zmq::context_t& context, GatewayServiceOptions options);
  /// @brief Stops serving.
  ~GatewayService();
  GatewayService(const GatewayService&) = delete;
  GatewayService& operator=(const GatewayService&) = delete;

  /// @brief The endpoint bound (with the real port), for RemoteGateway.
  [[nodiscard]] const std::string& endpoint() const noexcept { return endpoint_; }
  /// @brief A copy of what it has done so far, taken after each turn's answers were sent (so it
  ///        may lag an answer a caller has just received by a moment).
  [[nodiscard]] GatewayServiceStatus status() const;
  /// @brief Stops serving and closes the socket. Idempotent.
  void stop();

 private:
  class Loop;  // the serving loop's state, owned by its thread

  std::string endpoint_;
  mutable std::mutex mutex_;
  GatewayServiceStatus status_;
  std::unique_ptr<Loop> loop_;
  std::jthread thread_;
};

/// @brief Billing's side of a GatewayService: each charge waits the call's time, then asks the
///        service and waits for its answer.
///
/// @par Thread safety
/// One thread per object.
class RemoteGateway : public PaymentGateway {
 public:
  /// @brief A client of the service at `endpoint`; each call takes `call_time` and waits at
  ///        most `timeout` for the answer. Throws eda::TransportError for a bad endpoint.
  RemoteGateway(zmq::context_t& context, const std::string& endpoint,
                std::chrono::microseconds call_time,
                std::chrono::milliseconds timeout = std::chrono::seconds(5));

  /// @brief As PaymentGateway::charge(); throws eda::TransportError when no answer came in
  ///        time (the charge may or may not have been recorded: a retry with the same key is
  ///        safe), eda::StorageError when the service could not record it.
  bool charge(const ChargeRequest& request) override;

 private:
  zmq::socket_t socket_;
  std::chrono::microseconds call_time_;
  std::chrono::milliseconds timeout_;
  std::uint64_t next_call_ = 0;
};

/// @brief The gateway a Billing instance uses: the service at `endpoint` when it is not empty,
///        else the record's file at `path` opened directly.
std::unique_ptr<PaymentGateway> open_gateway(zmq::context_t& context, const std::string& path,
                                             const std::string& endpoint,
                                             std::chrono::microseconds call_time);

}  // namespace eda::scaling
