#include "eda/latency.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace eda {

std::string LatencySummary::to_string() const {
  return "n=" + std::to_string(count) + " p50=" + format_duration(p50_ns) +
         " p90=" + format_duration(p90_ns) + " p99=" + format_duration(p99_ns) +
         " max=" + format_duration(max_ns);
}

std::string format_duration(std::int64_t ns) {
  char text[32];
  const double v = static_cast<double>(ns);
  if (ns < 1'000) {
    std::snprintf(text, sizeof text, "%lldns", static_cast<long long>(ns));
  } else if (ns < 1'000'000) {
    std::snprintf(text, sizeof text, "%.1fus", v / 1e3);
  } else if (ns < 1'000'000'000) {
    std::snprintf(text, sizeof text, "%.2fms", v / 1e6);
  } else {
    std::snprintf(text, sizeof text, "%.2fs", v / 1e9);
  }
  return text;
}

LatencyRecorder::LatencyRecorder(std::size_t capacity) : capacity_(std::max<std::size_t>(1, capacity)) {
  samples_.reserve(std::min<std::size_t>(capacity_, 4096));
}

void LatencyRecorder::record(std::int64_t ns) {
  ns = std::max<std::int64_t>(0, ns);
  if (count_ == 0) {
    min_ = max_ = ns;
  } else {
    min_ = std::min(min_, ns);
    max_ = std::max(max_, ns);
  }
  ++count_;
  sum_ += ns;
  if (samples_.size() < capacity_) {
    samples_.push_back(ns);
    return;
  }
  // Reservoir sampling: keep this sample with probability capacity / count.
  std::uniform_int_distribution<std::uint64_t> pick(0, count_ - 1);
  const std::uint64_t slot = pick(random_);
  if (slot < capacity_) {
    samples_[slot] = ns;
  }
}

void LatencyRecorder::merge(const LatencyRecorder& other) {
  for (const std::int64_t ns : other.samples_) {
    record(ns);
  }
}

LatencySummary LatencyRecorder::summary() const {
  LatencySummary s;
  if (count_ == 0) {
    return s;
  }
  std::vector<std::int64_t> sorted = samples_;
  std::sort(sorted.begin(), sorted.end());
  // Nearest-rank percentile: the smallest sample with at least p% of samples at or below it.
  const auto rank = [&](double p) {
    const auto n = static_cast<double>(sorted.size());
    const auto index = static_cast<std::size_t>(std::ceil(p / 100.0 * n));
    return sorted[std::min(sorted.size() - 1, index == 0 ? 0 : index - 1)];
  };
  s.count = count_;
  s.min_ns = min_;
  s.max_ns = max_;
  s.p50_ns = rank(50);
  s.p90_ns = rank(90);
  s.p99_ns = rank(99);
  s.mean_ns = static_cast<double>(sum_ / static_cast<long double>(count_));
  return s;
}

void LatencyRecorder::reset() {
  samples_.clear();
  count_ = 0;
  min_ = max_ = 0;
  sum_ = 0;
}

}  // namespace eda
