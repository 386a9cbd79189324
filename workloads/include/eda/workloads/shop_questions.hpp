/// @file shop_questions.hpp
/// @brief The questions both shop designs are asked, and how one answer is timed: the query
///        latency that bench-cqrs (`BM_Cqrs_Query/...`, `BM_SingleModel_Query/...`) and the
///        tour's CQRS stop report.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "eda/cqrs/queries.hpp"
#include "eda/latency.hpp"
#include "eda/workloads/shop_simulator.hpp"

namespace eda::workloads {

/// @brief A question asked of the shop, by either design.
enum class ShopQuestion {
  customer_orders,    ///< A random customer who has orders: their orders.
  sales_by_day,       ///< Sales per product per day over a random 7-day window of the 90 days.
  sales_by_day_all,   ///< Sales per product per day over all 90 days.
  awaiting_shipment,  ///< The oldest 20 paid orders awaiting shipment.
};

/// @brief The question's name in benchmark names, e.g. `sales_by_day`.
const char* name_of(ShopQuestion question);

/// @brief The parameters of a run's questions, drawn from a fixed seed so that both designs
///        are asked the same ones in the same order.
class QuestionDice {
 public:
  /// @brief Dice over `customers` (who must outlive them; those who have orders).
  explicit QuestionDice(const std::vector<std::string>& customers);
  /// @brief A customer who has orders.
  const std::string& customer() { return customers_[dice_.below(customers_.size())]; }
  /// @brief Seven consecutive days of the history: first and last.
  const std::pair<std::string, std::string>& week() { return weeks_[dice_.below(weeks_.size())]; }

 private:
  const std::vector<std::string>& customers_;
  std::vector<std::pair<std::string, std::string>> weeks_;
  Dice dice_{7};
};

/// @brief Asks `shop` one `question`, its parameters drawn from `dice`, and records in
///        `latency` how long the query took.
///
/// **Query latency** is the time of the query call alone: drawing its parameters and freeing
/// its answer are outside it; the two clock reads around it are inside.
/// @return The rows in the answer.
std::size_t ask_timed(const cqrs::ShopQueries& shop, ShopQuestion question, QuestionDice& dice,
                      LatencyRecorder& latency);

}  // namespace eda::workloads
