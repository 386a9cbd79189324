// Helpers shared by the kit's tests: sample payloads, and publishers driven by hand.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "eda/pubsub.hpp"

namespace eda::test {

/// A six-field payload, the size the codec's performance notes talk about.
struct OrderPlaced {
  static constexpr std::string_view event_type = "shop.order.placed";
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t order_id = 0;
  std::string customer;
  std::string item;
  std::uint32_t quantity = 0;
  std::int64_t price_cents = 0;
  bool express = false;
  MSGPACK_DEFINE(order_id, customer, item, quantity, price_cents, express)
  friend bool operator==(const OrderPlaced&, const OrderPlaced&) = default;
};

/// A follow-up event, to check correlation and causation.
struct StockReserved {
  static constexpr std::string_view event_type = "shop.stock.reserved";
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t order_id = 0;
  MSGPACK_DEFINE(order_id)
};

/// A sample order with every field set to something distinctive.
OrderPlaced sample_order(std::uint64_t id);

/// Drives a publisher and a subscriber living in the same thread through the handshake.
bool handshake(Publisher& publisher, Subscriber& subscriber,
               std::chrono::milliseconds timeout = std::chrono::seconds(10));

/// An XPUB socket that answers handshakes by hand and sends whatever frames a test wants:
/// the way to put malformed messages and duplicates on the wire.
class RawPublisher {
 public:
  explicit RawPublisher(zmq::context_t& context);
  [[nodiscard]] const std::string& endpoint() const { return endpoint_; }
  bool handshake(Subscriber& subscriber, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  void send(const std::vector<std::string>& frames);

 private:
  zmq::socket_t socket_;
  std::string endpoint_;
};

}  // namespace eda::test
