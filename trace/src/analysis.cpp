#include "eda/trace/analysis.hpp"

#include <algorithm>

#include <zmq.hpp>

#include "analysis_steps.hpp"
#include "eda/codec.hpp"
#include "eda/errors.hpp"
#include "eda/json.hpp"
#include "eda/wire.hpp"

namespace eda::trace {
namespace {

/// Decodes one captured message with the kit's own validation (the same the Subscriber runs).
DecodedEvent decode_message(const CapturedMessage& message) {
  std::vector<zmq::message_t> frames;
  frames.reserve(message.frames.size());
  for (const std::string& frame : message.frames) {
    frames.emplace_back(frame.data(), frame.size());
  }
  return decode_event_frames(frames, frames.size());
}

void decode_all(const Capture& capture, Analysis& analysis) {
  for (std::size_t i = 0; i < capture.messages.size(); ++i) {
    try {
      analysis.events.push_back(trace_message(capture.messages[i], i));
    } catch (const MalformedMessage& e) {
      analysis.problems.push_back(Problem{ProblemKind::malformed,
                                          i,
                                          {},
                                          {},
                                          {},
                                          std::string(to_string(e.fault())) + ": " + e.what()});
    }
  }
}

}  // namespace

TracedEvent trace_message(const CapturedMessage& captured, std::size_t message) {
  const DecodedEvent event = decode_message(captured);
  TracedEvent traced;
  traced.message = message;
  traced.received_ns = captured.received_ns;
  traced.meta = event.meta();
  // Strings on the wire need not be UTF-8: replace bad bytes rather than throw.
  traced.payload = eda::one_line(eda::to_json(event)["payload"]);
  return traced;
}

const TracedEvent* Analysis::find(std::string_view event_id) const {
  const auto it = std::find_if(events.begin(), events.end(), [event_id](const TracedEvent& e) {
    return e.meta.event_id == event_id;
  });
  return it == events.end() ? nullptr : &*it;
}

std::size_t Analysis::count(ProblemKind kind) const noexcept {
  return static_cast<std::size_t>(std::count_if(
      problems.begin(), problems.end(), [kind](const Problem& p) { return p.kind == kind; }));
}

std::size_t Analysis::faults() const noexcept {
  return static_cast<std::size_t>(std::count_if(problems.begin(), problems.end(),
                                                [](const Problem& p) { return !is_note(p.kind); }));
}

Analysis analyse(const Capture& capture) {
  Analysis analysis;
  analysis.info = capture.info;
  analysis.messages = capture.messages.size();
  decode_all(capture, analysis);
  detail::check_sequences(analysis);
  detail::build_trees(analysis);
  detail::check_reaction_order(analysis);
  // Problems in the order of the messages they were found at; rules apply in a fixed order
  // within one message, so the result is the same on every run over the same capture.
  std::stable_sort(analysis.problems.begin(), analysis.problems.end(),
                   [](const Problem& a, const Problem& b) { return a.message < b.message; });
  return analysis;
}

}  // namespace eda::trace
