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

LatencyRecorder::LatencyRecorder(std::size_t capacity)
    : capacity_(std::max<std::size_t>(1, capacity)) {
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
  if (other.count_ == 0) {
    return;
  }
  // Count, min, max and the sum are exact on both sides: combine them as they are, not from
  // the samples (a recorder that overflowed keeps only some of its samples).
  min_ = count_ == 0 ? other.min_ : std::min(min_, other.min_);
  max_ = count_ == 0 ? other.max_ : std::max(max_, other.max_);
  sum_ += other.sum_;
  const std::uint64_t mine = count_;
  count_ += other.count_;
  const std::size_t kept = samples_.size() + other.samples_.size();
  if (kept <= capacity_ && samples_.size() == mine && other.samples_.size() == other.count_) {
    samples_.insert(samples_.end(), other.samples_.begin(), other.samples_.end());  // all kept
    return;
  }
  // Each side's samples stand for all the samples it recorded: give each a share of the room
  // in proportion to its count, drawn at random from what it kept, so the percentiles of the
  // merged recorder stay representative of both runs.
  const std::size_t room = std::min(capacity_, kept);
  const double my_share = static_cast<double>(mine) / static_cast<double>(count_);
  std::size_t from_mine =
      std::min(samples_.size(),
               static_cast<std::size_t>(std::llround(my_share * static_cast<double>(room))));
  const std::size_t from_other = std::min(other.samples_.size(), room - from_mine);
  from_mine = std::min(samples_.size(), room - from_other);
  std::shuffle(samples_.begin(), samples_.end(), random_);
  samples_.resize(from_mine);
  std::vector<std::int64_t> theirs = other.samples_;
  std::shuffle(theirs.begin(), theirs.end(), random_);
  samples_.insert(samples_.end(), theirs.begin(),
                  theirs.begin() + static_cast<std::ptrdiff_t>(from_other));
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
