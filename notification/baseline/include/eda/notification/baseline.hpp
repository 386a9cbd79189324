/// @file baseline.hpp
/// @brief The synchronous baseline of event notification: the Order service calls Inventory,
///        Shipping and Billing itself, one blocking request after the other, and only then
///        answers its caller.
#pragma once
#include <atomic>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <zmq.hpp>

#include "eda/notification/shop.hpp"
#include "eda/rpc.hpp"

namespace eda::notification::baseline {

/// @brief The method a downstream role answers: `ReserveStock`, `ScheduleShipment` or
///        `ChargePayment` (for `inventory`, `shipping`, `billing` and names starting with them).
///        Throws std::invalid_argument for any other role.
std::string_view method_for(std::string_view role);

/// @brief How a DownstreamService is set up.
struct DownstreamOptions {
  std::string role;                            ///< `inventory`, `shipping` or `billing`.
  std::string endpoint = "tcp://127.0.0.1:*";  ///< Where it answers.
  std::chrono::microseconds work_time{0};      ///< Simulated work per call (a slow service).
  /// Plaintext (the default) or CURVE (the service binds: the CURVE server).
  Security security{};
};

/// @brief A downstream service of the baseline: it answers its one method with the order it
///        was sent (the caller sends the details, so there is no fetch-back).
///
/// @par Thread safety
/// One thread at a time.
class DownstreamService {
 public:
  /// @brief Binds the endpoint; throws std::invalid_argument for an unknown role.
  DownstreamService(zmq::context_t& context, DownstreamOptions options);
  /// @brief Answers at most one call, waiting up to `wait`; false if none came.
  bool serve_once(std::chrono::milliseconds wait) { return server_.serve_once(wait); }
  /// @brief Serves until `keep_going()` returns false.
  void serve_while(const std::function<bool()>& keep_going,
                   std::chrono::milliseconds tick = std::chrono::milliseconds(20)) {
    server_.serve_while(keep_going, tick);
  }
  /// @brief Where it answers (connectable form).
  [[nodiscard]] const std::string& endpoint() const { return server_.endpoints().front(); }
  /// @brief Calls handled (may be read from any thread while it serves).
  [[nodiscard]] std::uint64_t handled() const noexcept { return handled_.load(); }

 private:
  DownstreamOptions options_;
  RpcServer server_;
  std::atomic<std::uint64_t> handled_{0};
};

/// @brief One downstream service the synchronous Order service calls.
struct Downstream {
  std::string role;      ///< `inventory`, `shipping` or `billing` (decides the method).
  std::string endpoint;  ///< Where it answers.
};

/// @brief How a SyncOrderService is set up.
struct SyncOrderServiceOptions {
  std::string api_endpoint = "tcp://127.0.0.1:*";  ///< PlaceOrder and GetOrder.
  std::vector<Downstream> downstream;              ///< Called in this order for every order.
  std::chrono::milliseconds call_timeout{1000};    ///< Per downstream call.
  int call_attempts = 1;  ///< Attempts per downstream call (these calls are not idempotent).
  /// Plaintext (the default) or CURVE: the service answers its API (a CURVE server) and calls
  /// the downstream services (a CURVE client), so a CURVE Security here holds both halves.
  Security security{};
};

/// @brief Counters a SyncOrderService keeps.
struct SyncOrderServiceStats {
  std::uint64_t orders = 0;            ///< Orders placed (every downstream answered).
  std::uint64_t failed_orders = 0;     ///< Orders refused because a downstream failed.
  std::uint64_t downstream_calls = 0;  ///< Calls made to downstream services.
};

/// @brief The Order service of the baseline: `place()` returns only after every downstream
///        service has answered, so it is as slow as their sum and fails when any one is down.
///
/// @par Thread safety
/// One thread at a time.
class SyncOrderService {
 public:
  /// @brief Binds the API and connects to every downstream service (without waiting).
  SyncOrderService(zmq::context_t& context, SyncOrderServiceOptions options);

  /// @brief Stores the order and calls every downstream service in turn; returns the order id.
  ///        Throws RpcTimeout or RpcError naming the downstream service when one fails; the
  ///        order is then not placed.
  std::uint64_t place(const OrderRequest& request);

  /// @brief Answers at most one API request, waiting up to `wait`.
  bool serve_once(std::chrono::milliseconds wait) { return api_.serve_once(wait); }
  /// @brief Serves until `keep_going()` returns false.
  void serve_while(const std::function<bool()>& keep_going,
                   std::chrono::milliseconds tick = std::chrono::milliseconds(20)) {
    api_.serve_while(keep_going, tick);
  }
  /// @brief Where the API answers (connectable form).
  [[nodiscard]] const std::string& api_endpoint() const { return api_.endpoints().front(); }
  /// @brief Counters so far.
  [[nodiscard]] const SyncOrderServiceStats& stats() const noexcept { return stats_; }

 private:
  struct Client {
    std::string role;
    std::string method;
    std::unique_ptr<RpcClient> rpc;
  };
  SyncOrderServiceOptions options_;
  RpcServer api_;
  std::vector<Client> clients_;
  std::unordered_map<std::uint64_t, Order> orders_;
  std::uint64_t next_id_ = 0;
  SyncOrderServiceStats stats_;
};

}  // namespace eda::notification::baseline
