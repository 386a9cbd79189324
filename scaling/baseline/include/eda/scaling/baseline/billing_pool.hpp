/// @file billing_pool.hpp
/// @brief The synchronous baseline: the Order service calls a pool of N Billing servers
///        round-robin (a load balancer) and waits for each charge before the next.
///
/// Same events, same codec, same handler (bill()) and gateway as the two event-driven designs.
/// Order per order is kept for free: the Order service makes one call at a time, so the
/// second event of an order is not sent before the first is charged. The price is the one the
/// catalogue measures everywhere: the caller waits for every gateway call, so N servers help
/// only as many callers as there are in flight at once (one here), and a server that is down
/// stalls the caller for its timeout.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include <zmq.hpp>

#include "eda/codec.hpp"
#include "eda/rpc.hpp"
#include "eda/scaling/billing.hpp"
#include "eda/scaling/keyed_producer.hpp"

/// @brief The scaling module's synchronous baseline.
namespace eda::scaling::baseline {

/// @brief The method a Billing server answers: request body = the event's envelope, reply
///        body = `charged` or `already_charged`.
inline constexpr std::string_view charge_method = "billing.charge";

/// @brief How a Billing server runs.
struct BillingServerOptions {
  std::string endpoint = "tcp://127.0.0.1:*";      ///< Where it binds.
  std::string name = "server";                     ///< Who charges (in the gateway's record).
  std::string gateway_path;                        ///< The BillingGateway's file.
  std::chrono::microseconds gateway_call_time{0};  ///< Time per gateway call.
  std::string gateway_endpoint{};  ///< The GatewayService's endpoint (when set: used instead).
};

/// @brief One synchronous Billing server: answers charge calls with bill(). A declined charge
///        or an undecodable event is answered with an error (RpcError at the caller).
///
/// @par Thread safety
/// serve() on one thread; endpoint() from any.
class BillingServer {
 public:
  /// @brief Binds and opens the gateway; throws TransportError, StorageError.
  BillingServer(zmq::context_t& context, BillingServerOptions options);
  /// @brief The endpoint bound.
  [[nodiscard]] const std::string& endpoint() const noexcept { return server_.endpoints().front(); }
  /// @brief Answers calls until `stop` is requested.
  void serve(const std::stop_token& stop);
  /// @brief Calls answered so far (ok and failed); read after serve() returned.
  [[nodiscard]] const RpcServerStats& stats() const noexcept { return server_.stats(); }

 private:
  BillingServerOptions options_;
  std::unique_ptr<PaymentGateway> gateway_;
  RpcServer server_;
};

/// @brief The Order service's side: stamps each event and calls the next server of the pool
///        with it, waiting for the charge.
///
/// @par Thread safety
/// One thread.
class BillingPool {
 public:
  /// @brief A pool calling `servers` (at least one) in turn; each call waits `timeout` per
  ///        attempt, `attempts` times (then RpcTimeout).
  BillingPool(zmq::context_t& context, const std::vector<std::string>& servers,
              std::chrono::milliseconds timeout = std::chrono::seconds(1), int attempts = 3);

  /// @brief Charges one event synchronously; returns what the server did. Throws RpcTimeout
  ///        when the server does not answer, RpcError when it refuses (a declined charge).
  template <EventPayload P>
  BillingOutcome charge(const P& payload) {
    const EventMetadata meta =
        new_event_metadata(P::event_type, P::schema_version, "order-service", ++sequence_);
    return call(encode_event(Event<P>{meta, payload}));
  }

 private:
  BillingOutcome call(const std::string& envelope);

  std::vector<std::unique_ptr<RpcClient>> clients_;
  std::size_t next_ = 0;
  std::uint64_t sequence_ = 0;
};

}  // namespace eda::scaling::baseline
