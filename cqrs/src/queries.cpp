#include "eda/cqrs/queries.hpp"

#include <chrono>
#include <cstdio>
#include <stdexcept>

namespace eda::cqrs {

std::string utc_day(std::int64_t timestamp_ns) {
  using namespace std::chrono;
  const sys_days day = floor<days>(sys_time<nanoseconds>(nanoseconds(timestamp_ns)));
  const year_month_day date(day);
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return text;
}

std::chrono::sys_days parse_day(const std::string& text, std::string_view which) {
  bool shaped = text.size() == 10;
  for (std::size_t i = 0; shaped && i < text.size(); ++i) {
    const bool dash_expected = i == 4 || i == 7;
    shaped = dash_expected ? text[i] == '-' : text[i] >= '0' && text[i] <= '9';
  }
  if (shaped) {
    const auto number = [&](std::size_t from, std::size_t count) {
      return std::stoi(text.substr(from, count));
    };
    const std::chrono::year_month_day day{std::chrono::year{number(0, 4)},
                                          std::chrono::month(static_cast<unsigned>(number(5, 2))),
                                          std::chrono::day(static_cast<unsigned>(number(8, 2)))};
    if (day.ok()) return day;
  }
  throw std::invalid_argument(std::string(which) + " '" + text +
                              "' is not a calendar day written YYYY-MM-DD (e.g. 2026-11-25)");
}

}  // namespace eda::cqrs
