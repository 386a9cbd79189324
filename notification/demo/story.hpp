/// @file story.hpp
/// @brief What the notification demo's command line says, and the small pieces every part of
///        the demo shares: how a reaction is put in words, a signal its threads wait on, and
///        the "effectively once" check.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "eda/cli.hpp"
#include "eda/notification/order_service.hpp"

namespace eda::notification::demo {

/// @brief Everything the command line says.
struct Settings {
  eda::cli::CommonOptions common;
  bool baseline = false;
  std::string role = "all";
  std::string slow;  ///< A role that takes `slow_ms` per order.
  std::string down;  ///< A role stopped for the first half of the orders.
  int slow_ms = 200;
  std::string events = "tcp://127.0.0.1:5556";
  std::string api = "tcp://127.0.0.1:5557";
  std::string listen = "tcp://127.0.0.1:*";
  std::string inventory, shipping, billing;  ///< Baseline downstream endpoints (role order).
  std::string checkpoint_file;
  int run_for_s = 600;
  std::string curve_keys;  ///< `--curve-keys DIR`: CURVE + ZAP on every socket.
  bool trace = false;      ///< `--trace`: tap the Order service and the consumers' follow-ups.
};

/// @brief What `role` did with an order, in words (`reserved 2 x gadget for order 1`).
std::string describe(std::string_view role, const OrderPlaced& placed, const Order* order);

/// @brief A counted signal the demo's threads wait on (a real one, not a sleep or a spin).
class Signal {
 public:
  /// @brief Counts one arrival and wakes the waiters.
  void raise();
  /// @brief Waits until at least `count` arrivals, at most `timeout`; false if it timed out.
  bool wait_for(int count, std::chrono::milliseconds timeout);

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int count_ = 0;
};

/// @brief What is wrong with one consumer's reactions, given the order ids `placed` and how
///        often it reacted to each order id: an order it handled never or more than once, or
///        one that was never placed. Empty when it handled each placed order exactly once.
std::string once_each(const std::vector<std::uint64_t>& placed,
                      const std::map<std::uint64_t, int>& reacted);

}  // namespace eda::notification::demo
