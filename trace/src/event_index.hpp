// Private to eda::trace: finding an event of the analysis by its id.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "eda/trace/analysis.hpp"

namespace eda::trace::detail {

/// The first (non-duplicate) occurrence of every event id, by index into Analysis::events.
class EventIndex {
 public:
  explicit EventIndex(const Analysis& analysis) {
    for (std::size_t i = 0; i < analysis.events.size(); ++i) {
      if (!analysis.events[i].duplicate) by_id_.emplace(analysis.events[i].meta.event_id, i);
    }
  }

  /// The index of the event with id `event_id`, if the capture holds it.
  [[nodiscard]] std::optional<std::size_t> find(const std::string& event_id) const {
    const auto it = by_id_.find(event_id);
    if (it == by_id_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::unordered_map<std::string, std::size_t> by_id_;
};

}  // namespace eda::trace::detail
