/// @file shipping.hpp
/// @brief Shipping: "where do I ship order X?", answered from the local replica.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <msgpack.hpp>

#include "eda/state_transfer/customer.hpp"

namespace eda::state_transfer {

class Replica;

/// @brief An order ready to ship: which order, for which customer.
struct ShipOrder {
  std::uint64_t order_id = 0;  ///< The order.
  CustomerId customer_id = 0;  ///< Who ordered it.
  MSGPACK_DEFINE(order_id, customer_id)
};

/// @brief Shipping's answer: the label to print, and how current the address on it is.
struct ShippingLabel {
  std::uint64_t order_id = 0;             ///< The order.
  CustomerId customer_id = 0;             ///< The recipient.
  std::string address;                    ///< One line, see address_label().
  bool express = false;                   ///< Gold customers ship express.
  std::uint64_t as_of_sequence = 0;       ///< The Customer service sequence the address reflects.
  std::chrono::nanoseconds staleness{0};  ///< How old that knowledge may be (0: just asked).
};

/// @brief The label for `order` sent to `customer`, reflecting `sequence`.
ShippingLabel make_label(const ShipOrder& order, const Customer& customer, std::uint64_t sequence,
                         std::chrono::nanoseconds staleness);

/// @brief The Shipping service of the pattern: labels come from its replica, never from a
///        call to the Customer service, so it ships while the Customer service is down.
///
/// @par Thread safety
/// Any number of threads (the replica's reads are thread-safe).
class Shipping {
 public:
  /// @brief Shipping answering from `replica` (which must outlive it).
  explicit Shipping(const Replica& replica) : replica_(replica) {}

  /// @brief The label for `order`, or nothing when the replica has no such customer (not
  ///        created yet, or removed).
  [[nodiscard]] std::optional<ShippingLabel> label_for(const ShipOrder& order) const;

 private:
  const Replica& replica_;
};

}  // namespace eda::state_transfer
