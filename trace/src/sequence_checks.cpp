#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "analysis_steps.hpp"

namespace eda::trace::detail {
namespace {

/// What the analysis remembers about one source while walking the capture.
struct SourceState {
  std::uint64_t last = 0;                                // highest sequence seen since (re)start
  std::unordered_map<std::uint64_t, std::string> ids{};  // sequence -> event id, since (re)start
};

std::string numbered(const EventMetadata& meta) {
  return meta.source + " #" + std::to_string(meta.sequence);
}

Problem problem_at(ProblemKind kind, const TracedEvent& event, std::string detail) {
  return Problem{kind,
                 event.message,
                 event.meta.source,
                 event.meta.event_id,
                 event.meta.correlation_id,
                 std::move(detail)};
}

}  // namespace

void check_sequences(Analysis& analysis) {
  // Gaps mean something only when the tap took every topic: sequences are per source across
  // all its event types, so a topic filter would make every filtered-out event look lost.
  const bool detect_gaps = analysis.info.topics.empty();
  std::unordered_map<std::string, std::size_t> first_by_id;  // event id -> capture message
  std::map<std::string, SourceState> sources;
  for (TracedEvent& event : analysis.events) {
    const EventMetadata& meta = event.meta;
    const auto [seen, fresh] = first_by_id.emplace(meta.event_id, event.message);
    if (!fresh) {
      event.duplicate = true;
      analysis.problems.push_back(problem_at(
          ProblemKind::duplicate, event,
          "event " + short_id(meta.event_id) + " (" + meta.type + ", " + numbered(meta) +
              ") seen again: first seen at message " + std::to_string(seen->second + 1)));
      continue;
    }
    if (meta.sequence == 0) {
      continue;  // unstamped: published outside a Publisher, no sequence to judge
    }
    SourceState& source = sources[meta.source];
    const std::uint64_t sequence = meta.sequence;
    if (source.last != 0 && (sequence < source.last || sequence == 1)) {
      // A lower number (or #1 again) on a new event: the numbering started over. Usually the publisher
      // restarted (a tap reconnecting to it may miss its first events, so the first number
      // seen need not be #1); the other cause is two publishers sharing a source name. Judged
      // from here on as a fresh start: the new numbers are no duplicates of the old ones.
      std::string detail = meta.source + " went back from #" + std::to_string(source.last) +
                           " to #" + std::to_string(sequence) + ": ";
      detail += sequence == 1
                    ? "the source restarted (numbering starts over)"
                    : "the source restarted and its events before #" + std::to_string(sequence) +
                          " were not seen, or two publishers share the source name";
      analysis.problems.push_back(
          problem_at(ProblemKind::sequence_regression, event, std::move(detail)));
      source = SourceState{};
    } else if (const auto reused = source.ids.find(sequence); reused != source.ids.end()) {
      analysis.problems.push_back(problem_at(
          ProblemKind::duplicate, event,
          numbered(meta) + " reused: event " + short_id(meta.event_id) + " (" + meta.type +
              ") carries the sequence number of event " + short_id(reused->second)));
      continue;
    } else if (detect_gaps && source.last != 0 && sequence > source.last + 1) {
      const std::uint64_t missing = sequence - source.last - 1;
      analysis.problems.push_back(problem_at(
          ProblemKind::gap, event,
          meta.source + " jumped from #" + std::to_string(source.last) + " to #" +
              std::to_string(sequence) + ": " +
              (missing == 1
                   ? "#" + std::to_string(source.last + 1)
                   : "#" + std::to_string(source.last + 1) + "..#" + std::to_string(sequence - 1)) +
              " never seen (" + std::to_string(missing) + (missing == 1 ? " event)" : " events)")));
    }
    source.ids.emplace(sequence, meta.event_id);
    source.last = std::max(source.last, sequence);
  }
}

}  // namespace eda::trace::detail
