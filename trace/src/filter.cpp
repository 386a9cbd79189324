#include "eda/trace/filter.hpp"

#include <algorithm>

namespace eda::trace {
namespace {

bool any_of(const std::vector<std::string>& values, const auto& test) {
  return values.empty() || std::any_of(values.begin(), values.end(), test);
}

}  // namespace

bool EventFilter::empty() const noexcept {
  return types.empty() && sources.empty() && correlations.empty();
}

bool EventFilter::matches(const EventMetadata& meta) const {
  return any_of(types, [&meta](const std::string& t) { return meta.type.starts_with(t); }) &&
         any_of(sources, [&meta](const std::string& s) { return meta.source == s; }) &&
         any_of(correlations, [&meta](const std::string& c) {
           return !c.empty() && meta.correlation_id.ends_with(c);
         });
}

bool EventFilter::matches(const CausalTree& tree, const Analysis& analysis) const {
  if (!any_of(correlations, [&tree](const std::string& c) {
        return !c.empty() && tree.correlation_id.ends_with(c);
      })) {
    return false;
  }
  if (types.empty() && sources.empty()) return true;
  const EventFilter by_event{types, sources, {}};
  return std::any_of(tree.nodes.begin(), tree.nodes.end(), [&](const TreeNode& node) {
    return node.event && by_event.matches(analysis.events[*node.event].meta);
  });
}

}  // namespace eda::trace
