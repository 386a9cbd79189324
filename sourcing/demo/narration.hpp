/// @file narration.hpp
/// @brief What the sourcing demo says about orders and events, and the story it runs: shared
///        by the all-in-one run and the separate-process roles.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "eda/narrator.hpp"
#include "eda/sourcing/order.hpp"
#include "eda/sourcing/order_repository.hpp"

namespace eda::sourcing::demo {

/// @brief Cents as `12.50`.
std::string money(std::int64_t cents);

/// @brief An order's state in one line.
std::string describe(const OrderState& state);

/// @brief What an event says, for people.
std::string describe(const OrderEvent& event);

/// @brief A stored event in one line: position, stream, version, what it says.
std::string describe(const RecordedEvent& recorded);

/// @brief The commands every run makes: `count` orders from `first`, placed, changed and paid
///        (every third pays the wrong amount and is rejected).
std::vector<std::pair<std::uint64_t, OrderCommand>> story(std::uint64_t first, std::size_t count);

/// @brief Runs `command` on `order` through `orders`, narrating the outcome or the rejection
///        as `speaker`.
void run(Narrator& say, OrderRepository& orders, std::uint64_t order, const OrderCommand& command,
         const std::string& speaker = "order-service");

}  // namespace eda::sourcing::demo
