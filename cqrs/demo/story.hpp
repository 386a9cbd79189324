/// @file story.hpp
/// @brief The shop's story as the CQRS demo tells it: the commands it sends, and how orders,
///        sales and answers are put in words. Shared by the all-in-one run and the roles.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "eda/cqrs/queries.hpp"
#include "eda/sourcing/order.hpp"

namespace eda::cqrs::demo {

/// @brief Cents as `12.50`.
std::string money(std::int64_t cents);

/// @brief A command in a few words, e.g. `AddItem 2 x widget at 12.50`.
std::string describe(const sourcing::OrderCommand& command);

/// @brief One row of the order summary, e.g. `order 3: paid, 3 items, 34.99`.
std::string describe(const OrderSummary& order);

/// @brief One row of the sales totals, e.g. `2026-11-26 widget: 4 sold, 50.00`.
std::string describe(const ProductDaySales& sales);

/// @brief The customers of the story.
const std::vector<std::string>& customers();

/// @brief The commands for `count` orders from `first`: each is placed, given items and paid;
///        some are shipped, some cancelled after payment, and one in four asks to remove an
///        item it does not have (rejected).
std::vector<std::pair<std::uint64_t, sourcing::OrderCommand>> story(std::uint64_t first,
                                                                    std::size_t count);

}  // namespace eda::cqrs::demo
