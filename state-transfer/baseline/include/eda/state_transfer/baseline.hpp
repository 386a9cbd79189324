/// @file baseline.hpp
/// @brief The synchronous baseline of event-carried state transfer: Shipping asks the Customer
///        service for the record over RPC, every time it ships.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <msgpack.hpp>
#include <zmq.hpp>

#include "eda/rpc.hpp"
#include "eda/state_transfer/customer.hpp"
#include "eda/state_transfer/shipping.hpp"

namespace eda::state_transfer::baseline {

/// @brief Method names of the baseline Customer service.
namespace method {
inline constexpr std::string_view get_customer = "GetCustomer";  ///< CustomerId -> CustomerReply.
}  // namespace method

/// @brief The answer to `GetCustomer`.
struct CustomerReply {
  bool found = false;          ///< Whether the customer exists.
  Customer customer;           ///< The record (when found).
  std::uint64_t sequence = 0;  ///< How many changes the service had made when it answered.
  MSGPACK_DEFINE(found, customer, sequence)
};

/// @brief How the baseline CustomerService is set up.
struct CustomerServiceOptions {
  std::vector<std::string> endpoints{};  ///< Where `GetCustomer` is answered.
  Security security{};  ///< Plaintext (the default) or CURVE (it binds: the CURVE server).
};

/// @brief The Customer service of the baseline: it owns the records, changes them in place
///        and answers `GetCustomer` for every shipment. It publishes nothing.
///
/// @par Thread safety
/// One thread at a time: it owns its socket and its records.
class CustomerService {
 public:
  /// @brief Binds the endpoints and starts from `records`.
  CustomerService(zmq::context_t& context, CustomerServiceOptions options,
                  CustomerTable records = {});

  /// @brief Creates or replaces a record; returns the change's sequence number.
  std::uint64_t upsert(const Customer& customer);

  /// @brief Deletes a record; returns the change's sequence number, or nothing when absent.
  std::optional<std::uint64_t> remove(CustomerId id);

  /// @brief Answers at most one call, waiting up to `wait`; false if none came.
  bool serve_once(std::chrono::milliseconds wait) { return server_.serve_once(wait); }

  /// @brief Answers calls until `keep_going()` returns false.
  void serve_while(const std::function<bool()>& keep_going,
                   std::chrono::milliseconds tick = std::chrono::milliseconds(20)) {
    server_.serve_while(keep_going, tick);
  }

  /// @brief Where it answers (connectable form).
  [[nodiscard]] const std::vector<std::string>& endpoints() const noexcept {
    return server_.endpoints();
  }

  /// @brief Calls answered: the load every shipment puts on the owner of the data.
  [[nodiscard]] std::uint64_t lookups_served() const noexcept { return server_.stats().served; }

  /// @brief All records.
  [[nodiscard]] const CustomerTable& records() const noexcept { return records_; }

 private:
  CustomerTable records_;
  std::uint64_t sequence_ = 0;
  RpcServer server_;
};

/// @brief Shipping of the baseline: one `GetCustomer` call per label. When the Customer
///        service is down, it cannot ship (the call times out).
///
/// @par Thread safety
/// One thread at a time (it owns an RPC client).
class SyncShipping {
 public:
  /// @brief Shipping calling the Customer service described by `options`.
  SyncShipping(zmq::context_t& context, RpcClientOptions options) : client_(context, options) {}

  /// @brief The label for `order`, or nothing when there is no such customer. Throws
  ///        RpcTimeout when the Customer service does not answer, RpcError when it fails.
  [[nodiscard]] std::optional<ShippingLabel> label_for(const ShipOrder& order);

  /// @brief Calls made so far.
  [[nodiscard]] std::uint64_t calls() const noexcept { return calls_; }

 private:
  RpcClient client_;
  std::uint64_t calls_ = 0;
};

}  // namespace eda::state_transfer::baseline
