/// @file shop_simulator.hpp
/// @brief The simulated shop whose history bench-cqrs and the tour's CQRS stop both measure:
///        orders placed over 90 days, each with its commands and the events decide() made of
///        them, deterministic from a fixed seed.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "eda/sourcing/order.hpp"

namespace eda::workloads {

/// @brief Nanoseconds in a second.
inline constexpr std::int64_t second_ns = 1'000'000'000;
/// @brief Nanoseconds in a minute.
inline constexpr std::int64_t minute_ns = 60 * second_ns;
/// @brief Nanoseconds in an hour.
inline constexpr std::int64_t hour_ns = 60 * minute_ns;
/// @brief Nanoseconds in a day.
inline constexpr std::int64_t day_ns = 24 * hour_ns;

/// @brief When the simulated history begins: 2026-01-01T00:00:00Z, ns since the Unix epoch.
inline constexpr std::int64_t history_start_ns = 1'767'225'600 * second_ns;
/// @brief The days the history spans, whatever its size.
inline constexpr std::int64_t history_days = 90;
/// @brief When the simulated history ends.
inline constexpr std::int64_t history_end_ns = history_start_ns + history_days * day_ns;
/// @brief Events per customer: the shop gains customers as its history grows, so a customer
///        has about the same number of orders (about nine) in every history size.
inline constexpr std::uint64_t events_per_customer = 50;
/// @brief The products the shop sells (`sku-00` .. `sku-19`).
inline constexpr std::uint64_t product_count = 20;
/// @brief The seed every history is drawn from: the same size gives the same history.
inline constexpr std::uint64_t history_seed = 20260101;

/// @brief Dice from a fixed seed: the same run draws the same numbers (mt19937_64's output is
///        fixed by the standard; the arithmetic on it is ours, so every library draws alike).
class Dice {
 public:
  /// @brief Dice that start from `seed`.
  explicit Dice(std::uint64_t seed) : engine_(seed) {}
  /// @brief A number from 0 to n - 1 (n >= 1).
  std::uint64_t below(std::uint64_t n) { return engine_() % n; }
  /// @brief True `percent` times in a hundred.
  bool chance(std::uint64_t percent) { return below(100) < percent; }
  /// @brief A duration from `low` to `high` nanoseconds, both included.
  std::int64_t between(std::int64_t low, std::int64_t high) {
    return low + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(high - low) + 1));
  }

 private:
  std::mt19937_64 engine_;
};

/// @brief Customer number `n`'s name: `customer-0042` (at least four digits).
std::string customer_name(std::uint64_t n);
/// @brief Product number `n`'s SKU: `sku-07`.
std::string product_sku(std::uint64_t n);
/// @brief Product number `n`'s unit price in cents.
std::int64_t product_price_cents(std::uint64_t n);

/// @brief A command and the simulated time at which it is sent.
struct TimedCommand {
  sourcing::OrderCommand command;  ///< What was asked.
  std::int64_t at_ns = 0;          ///< When, ns since the Unix epoch.
};

/// @brief An event and its simulated time.
struct TimedEvent {
  sourcing::OrderEvent event;  ///< What happened.
  std::int64_t at_ns = 0;      ///< When, ns since the Unix epoch.
};

/// @brief One order's life: the commands sent for it, and the events decide() made of them.
struct OrderLife {
  std::uint64_t order_id = 0;          ///< The order (1, 2, ... in the order they were placed).
  std::vector<TimedCommand> commands;  ///< Its commands, in order.
  std::vector<TimedEvent> events;      ///< Their events, in order.
};

/// @brief Makes up the shop's history order by order, deterministically, until it holds
///        exactly `events_wanted` events.
///
/// A customer per 50 events (at least 20) and 20 products. An order is placed at the point of
/// the 90 days that the history has reached, so the history always spans them, whatever its
/// size; it gets 1-4 items (sometimes one is removed again), and is mostly paid and shipped,
/// sometimes cancelled (before or after payment), sometimes left open. Two simulators of the
/// same size make the same orders, commands and timestamps.
class ShopSimulator {
 public:
  /// @brief A simulator of a history of `events_wanted` events.
  explicit ShopSimulator(std::uint64_t events_wanted);

  /// @brief The next order's life; nothing once the history is complete. The last order may
  ///        be cut short (a prefix of a life is a life: it is simply still open).
  std::optional<OrderLife> next_order();

  /// @brief The orders made so far.
  [[nodiscard]] std::uint64_t orders() const { return orders_; }

  /// @brief The customers who have placed at least one order so far.
  [[nodiscard]] std::vector<std::string> customers() const;

 private:
  void live(std::int64_t placed_at);
  bool act(const sourcing::OrderCommand& command, std::int64_t at_ns);

  std::uint64_t events_wanted_;
  std::uint64_t customer_count_;
  Dice dice_;
  std::uint64_t events_ = 0;
  std::uint64_t orders_ = 0;
  sourcing::OrderState state_;
  OrderLife* life_ = nullptr;
  std::vector<bool> has_orders_;
};

/// @brief The first day of every simulated history, `YYYY-MM-DD`.
const std::string& first_day();
/// @brief The day after the history's last (payments late on its last day count),
///        `YYYY-MM-DD`.
const std::string& last_day();

}  // namespace eda::workloads
