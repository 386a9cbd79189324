#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "analysis_steps.hpp"
#include "event_index.hpp"

namespace eda::trace::detail {
namespace {

/// One reaction: an event of a consumer, and the cause it reacted to.
struct Reaction {
  std::size_t event = 0;  // index into Analysis::events
  std::size_t cause = 0;  // index into Analysis::events
};

}  // namespace

void check_reaction_order(Analysis& analysis) {
  const EventIndex index(analysis);
  // (consumer source, cause's source) -> the consumer's reactions to that source's events.
  std::map<std::pair<std::string, std::string>, std::vector<Reaction>> pairs;
  for (std::size_t i = 0; i < analysis.events.size(); ++i) {
    const TracedEvent& event = analysis.events[i];
    if (event.duplicate || event.meta.sequence == 0 || event.meta.causation_id.empty()) continue;
    const auto cause = index.find(event.meta.causation_id);
    if (!cause || analysis.events[*cause].meta.sequence == 0) continue;
    pairs[{event.meta.source, analysis.events[*cause].meta.source}].push_back(Reaction{i, *cause});
  }
  for (auto& [key, reactions] : pairs) {
    // In the consumer's own order (its sequence numbers), ties by arrival.
    std::stable_sort(
        reactions.begin(), reactions.end(), [&analysis](const Reaction& a, const Reaction& b) {
          return analysis.events[a.event].meta.sequence < analysis.events[b.event].meta.sequence;
        });
    const Reaction* latest = nullptr;  // the reaction to the highest cause sequence so far
    for (const Reaction& reaction : reactions) {
      const EventMetadata& cause = analysis.events[reaction.cause].meta;
      if (latest == nullptr || cause.sequence >= analysis.events[latest->cause].meta.sequence) {
        latest = &reaction;
        continue;
      }
      const TracedEvent& event = analysis.events[reaction.event];
      const EventMetadata& earlier_cause = analysis.events[latest->cause].meta;
      const EventMetadata& earlier_reaction = analysis.events[latest->event].meta;
      analysis.problems.push_back(
          Problem{ProblemKind::out_of_order_reaction, event.message, event.meta.source,
                  event.meta.event_id, event.meta.correlation_id,
                  event.meta.source + " reacted to " + cause.source + " #" +
                      std::to_string(cause.sequence) + " (" + cause.type + ") in its #" +
                      std::to_string(event.meta.sequence) + ", after reacting to the later " +
                      earlier_cause.source + " #" + std::to_string(earlier_cause.sequence) +
                      " in its #" + std::to_string(earlier_reaction.sequence)});
    }
  }
}

}  // namespace eda::trace::detail
