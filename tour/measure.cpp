#include "measure.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "eda/latency.hpp"

namespace eda::tour {

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

std::string format_count(double value) {
  // Three significant digits at most below a thousand, whole numbers above.
  if (value < 10) {
    char text[16];
    std::snprintf(text, sizeof text, "%.2g", value);
    return text;
  }
  const std::string digits = std::to_string(static_cast<std::uint64_t>(std::llround(value)));
  // Group the digits by three from the right, with a space (the catalogue's pages write 95 000).
  std::string grouped;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) grouped += ' ';
    grouped += digits[i];
  }
  return grouped;
}

std::string format_rate(double per_second) { return format_count(per_second) + "/s"; }

std::string format_bytes(double bytes) {
  char text[32];
  if (bytes < 1024) {
    std::snprintf(text, sizeof text, "%.0f B", bytes);
  } else if (bytes < 1024.0 * 1024) {
    std::snprintf(text, sizeof text, "%.1f KiB", bytes / 1024);
  } else {
    std::snprintf(text, sizeof text, "%.1f MiB", bytes / (1024.0 * 1024));
  }
  return text;
}

std::string format_ns(double ns) {
  return format_duration(static_cast<std::int64_t>(std::llround(ns)));
}

std::string format_ratio(double numerator, double denominator) {
  if (denominator <= 0) return "-";
  const double ratio = numerator / denominator;
  char text[32];
  if (ratio >= 10) {
    std::snprintf(text, sizeof text, "%.0fx", ratio);
  } else if (ratio >= 1) {
    std::snprintf(text, sizeof text, "%.1fx", ratio);
  } else {
    std::snprintf(text, sizeof text, "%.2fx", ratio);
  }
  return text;
}

std::string compare_rates(double pattern_per_s, double baseline_per_s) {
  if (pattern_per_s <= 0 || baseline_per_s <= 0) return "-";
  return pattern_per_s >= baseline_per_s ? format_ratio(pattern_per_s, baseline_per_s) + " faster"
                                         : format_ratio(baseline_per_s, pattern_per_s) + " slower";
}

std::string compare_times(double pattern_ns, double baseline_ns) {
  // A shorter time is a higher rate: compare the rates.
  if (pattern_ns <= 0 || baseline_ns <= 0) return "-";
  return compare_rates(1 / pattern_ns, 1 / baseline_ns);
}

std::string format_share(std::size_t part, std::size_t whole) {
  return std::to_string(part) + " of " + std::to_string(whole);
}

}  // namespace eda::tour
