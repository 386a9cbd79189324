/// @file order_service.hpp
/// @brief The Order service of the event-notification pattern: it accepts orders, publishes a
///        thin `OrderPlaced` event for each, and answers consumers' fetch-backs and replays.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>

#include <zmq.hpp>

#include "eda/notification/outbox.hpp"
#include "eda/notification/shop.hpp"
#include "eda/pubsub.hpp"
#include "eda/rpc.hpp"

namespace eda::notification {

/// @brief How an OrderService is set up.
struct OrderServiceOptions {
  std::string events_endpoint = "tcp://127.0.0.1:*";  ///< Where `OrderPlaced` is published.
  std::string api_endpoint = "tcp://127.0.0.1:*";     ///< PlaceOrder, GetOrder, Replay.
  std::size_t outbox_capacity = 100'000;              ///< Events kept for consumers that come back.
  int send_high_water_mark = 100'000;  ///< Per-subscriber queue before live events drop.
  /// Plaintext (the default) or CURVE on both sockets (the service binds them: the CURVE
  /// server, CurveSetup::server()).
  Security security{};
};

/// @brief Counters an OrderService keeps.
struct OrderServiceStats {
  std::uint64_t orders = 0;           ///< Orders accepted.
  std::uint64_t fetch_backs = 0;      ///< GetOrder calls answered: the cost of thin events.
  std::uint64_t replays = 0;          ///< Replay calls answered.
  std::uint64_t replayed_events = 0;  ///< Events sent in replays.
};

/// @brief The producer: accepts an order, stores it, publishes `OrderPlaced`, and answers at
///        once — it does not know or wait for the services that react.
///
/// @par Example
/// @code
/// eda::notification::OrderService orders(context, {});
/// orders.serve_while([&] { return running; });   // answers PlaceOrder, GetOrder, Replay
/// @endcode
///
/// @par Thread safety
/// One thread at a time: place() and the serve functions share the order table and sockets.
class OrderService {
 public:
  /// @brief Binds the event and API endpoints; throws when they cannot be bound.
  OrderService(zmq::context_t& context, OrderServiceOptions options);

  /// @brief Stores the order, publishes `OrderPlaced` and keeps it in the outbox; returns the
  ///        new order's id. Does not wait for any consumer.
  std::uint64_t place(const OrderRequest& request);

  /// @brief Handles at most one API request, or pending subscription handshakes, waiting up to
  ///        `wait`; false when nothing arrived.
  bool serve_once(std::chrono::milliseconds wait);

  /// @brief Serves until `keep_going()` returns false (checked at least every `tick`).
  void serve_while(const std::function<bool()>& keep_going,
                   std::chrono::milliseconds tick = std::chrono::milliseconds(20));

  /// @brief The order with `order_id`, if it exists.
  [[nodiscard]] const Order* find(std::uint64_t order_id) const;

  /// @brief Where events are published (connectable form).
  [[nodiscard]] const std::string& events_endpoint() const {
    return publisher_.endpoints().front();
  }
  /// @brief Where the API answers (connectable form).
  [[nodiscard]] const std::string& api_endpoint() const { return api_.endpoints().front(); }
  /// @brief The publisher (to wait for subscribers, read the sequence).
  [[nodiscard]] Publisher& publisher() noexcept { return publisher_; }
  /// @brief The outbox of recent events.
  [[nodiscard]] const Outbox& outbox() const noexcept { return outbox_; }
  /// @brief Counters so far.
  [[nodiscard]] const OrderServiceStats& stats() const noexcept { return stats_; }

 private:
  Publisher publisher_;
  RpcServer api_;
  Outbox outbox_;
  std::unordered_map<std::uint64_t, Order> orders_;
  OrderServiceStats stats_;
};

}  // namespace eda::notification
