#include "eda/sequence.hpp"

namespace eda {

SequenceCheck SequenceTracker::observe(std::string_view source, std::uint64_t sequence,
                                       bool detect_gaps) {
  auto it = last_.find(source);
  if (it == last_.end()) {
    last_.emplace(std::string(source), sequence);
    return {Continuity::first, 0};
  }
  std::uint64_t& last = it->second;
  if (sequence == last + 1) {
    last = sequence;
    return {Continuity::in_order, 0};
  }
  if (sequence <= last) {
    ++duplicates_;
    return {Continuity::duplicate, 0};
  }
  if (!detect_gaps) {
    last = sequence;
    return {Continuity::later, 0};
  }
  const std::uint64_t skipped = sequence - last - 1;
  ++gaps_;
  missed_ += skipped;
  last = sequence;
  return {Continuity::gap, skipped};
}

std::optional<std::uint64_t> SequenceTracker::last(std::string_view source) const {
  const auto it = last_.find(source);
  if (it == last_.end()) {
    return std::nullopt;
  }
  return it->second;
}

void SequenceTracker::forget(std::string_view source) {
  const auto it = last_.find(source);
  if (it != last_.end()) {
    last_.erase(it);
  }
}

}  // namespace eda
