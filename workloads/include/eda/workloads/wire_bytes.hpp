/// @file wire_bytes.hpp
/// @brief What event-carried state transfer and its baseline put on the wire: bytes per change
///        (fat event, and a thin notification for comparison) and bytes per label (the
///        baseline's call), as bench-state-transfer and the tour's state-transfer stop report
///        them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include <msgpack.hpp>

#include "eda/state_transfer/customer.hpp"

namespace eda::workloads {

/// @brief The thin alternative to CustomerUpdated, for comparison only: "customer 42 changed",
///        and nothing else (event notification: whoever needs the new address must then call
///        the owner for it).
struct CustomerChanged {
  static constexpr std::string_view event_type = "shop.customer.changed";  ///< Topic.
  static constexpr std::uint32_t schema_version = 1;  ///< Payload shape version.
  state_transfer::CustomerId customer_id = 0;         ///< Who changed.
  MSGPACK_DEFINE(customer_id)
};

/// @brief Bytes one baseline `GetCustomer` call moves for `customer`: the request's frames
///        (method name, encoded id) plus the reply's (status, encoded CustomerReply), encoded
///        exactly as the RPC encodes them. Frame contents only: ZeroMQ's few bytes of framing
///        per frame and the TCP/IP headers come on top, in both designs alike.
std::size_t rpc_bytes(const state_transfer::Customer& customer);

/// @brief rpc_bytes() averaged over every customer of `table`: the baseline's **bytes per
///        label** (bench-state-transfer's `bytes_per_shipment`).
double mean_rpc_bytes(const state_transfer::CustomerTable& table);

/// @brief Bytes on the wire per change: changes numbered 1, 2, ... made to a sample of
///        customers in turn, each measured as the message that publishes it (its one frame, the
///        record, encoded as the Publisher encodes it, with its sequence number).
///
/// **Bytes per change** (bench-state-transfer's `fat_bytes_per_change`): the mean size of the
/// CustomerUpdated messages, which every replica receives for every change. The sequence
/// number's encoding grows with it (1 to 9 bytes), so more changes mean a slightly larger
/// mean. `thin_bytes_per_change`: the same changes as CustomerChanged notifications.
class ChangeBytes {
 public:
  /// @brief Changes to a sample of `sample_customers` customers (ids 1..n, generated from
  ///        the default seed).
  explicit ChangeBytes(std::size_t sample_customers = 1000);

  /// @brief Encodes the next change both ways and adds up their sizes.
  void add_next();

  /// @brief The changes added so far.
  [[nodiscard]] std::uint64_t changes() const { return changes_; }
  /// @brief Mean bytes of a CustomerUpdated message (0 before the first change).
  [[nodiscard]] double fat_bytes_per_change() const;
  /// @brief Mean bytes of a CustomerChanged message (0 before the first change).
  [[nodiscard]] double thin_bytes_per_change() const;
  /// @brief The sample's customers.
  [[nodiscard]] const state_transfer::CustomerTable& sample() const { return table_; }

 private:
  state_transfer::CustomerTable table_;
  std::vector<state_transfer::Customer> sample_;
  std::uint64_t changes_ = 0;
  std::uint64_t fat_ = 0;
  std::uint64_t thin_ = 0;
};

}  // namespace eda::workloads
