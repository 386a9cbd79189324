#include "eda/workloads/shop_questions.hpp"

#include "eda/clock.hpp"

namespace eda::workloads {

const char* name_of(ShopQuestion question) {
  switch (question) {
    case ShopQuestion::customer_orders:
      return "customer_orders";
    case ShopQuestion::sales_by_day:
      return "sales_by_day";
    case ShopQuestion::sales_by_day_all:
      return "sales_by_day_all";
    case ShopQuestion::awaiting_shipment:
      return "awaiting_shipment";
  }
  return "unknown";
}

QuestionDice::QuestionDice(const std::vector<std::string>& customers) : customers_(customers) {
  for (std::int64_t day = 0; day + 7 <= history_days; ++day) {
    weeks_.emplace_back(cqrs::utc_day(history_start_ns + day * day_ns),
                        cqrs::utc_day(history_start_ns + (day + 6) * day_ns));
  }
}

std::size_t ask_timed(const cqrs::ShopQueries& shop, ShopQuestion question, QuestionDice& dice,
                      LatencyRecorder& latency) {
  std::size_t rows = 0;
  // Times one query (not the drawing of its parameters, nor freeing its answer).
  const auto timed = [&](const auto& ask_once) {
    const std::int64_t start = monotonic_ns();
    const auto answer = ask_once();
    latency.record(monotonic_ns() - start);
    rows = answer.size();
  };
  switch (question) {
    case ShopQuestion::customer_orders: {
      const std::string& customer = dice.customer();
      timed([&] { return shop.customer_orders(customer); });
      break;
    }
    case ShopQuestion::sales_by_day: {
      const auto& [first, last] = dice.week();
      timed([&] { return shop.sales_by_day(first, last); });
      break;
    }
    case ShopQuestion::sales_by_day_all:
      timed([&] { return shop.sales_by_day(first_day(), last_day()); });
      break;
    case ShopQuestion::awaiting_shipment:
      timed([&] { return shop.awaiting_shipment(20); });
      break;
  }
  return rows;
}

}  // namespace eda::workloads
