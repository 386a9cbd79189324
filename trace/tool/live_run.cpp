#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>

#include <zmq.hpp>

#include "eda/cli.hpp"
#include "eda/clock.hpp"
#include "eda/errors.hpp"
#include "eda/trace/capture_file.hpp"
#include "eda/trace/report.hpp"
#include "eda/trace/tap.hpp"
#include "tool.hpp"

namespace eda::trace::tool {
namespace {

std::chrono::nanoseconds seconds(double s) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(s));
}

/// Prints one message as it arrives, marking a repeated event id as the analysis will, so that
/// a replay of the recording prints the same lines.
void print_line(const CapturedMessage& message, std::size_t index, std::int64_t origin_ns,
                const EventFilter& filter, std::unordered_set<std::string>& seen_ids) {
  try {
    TracedEvent event = trace_message(message, index);
    event.duplicate = !seen_ids.insert(event.meta.event_id).second;
    if (filter.matches(event.meta)) std::cout << event_line(event, origin_ns) << '\n';
  } catch (const MalformedMessage& e) {
    std::cout << "   (malformed message " << index + 1 << ": " << e.what() << ")\n";
  }
}

}  // namespace

int run_live(const TapRun& run, const Output& output) {
  zmq::context_t context;
  const auto curve = cli::curve_setup(context, run.curve_keys);
  Tap tap(context, TapOptions{.endpoints = run.endpoints,
                              .topics = run.topics,
                              .max_messages = run.max_messages,
                              .security = curve.client()});
  std::unique_ptr<CaptureWriter> writer;
  if (!run.record_file.empty()) {
    writer = std::make_unique<CaptureWriter>(run.record_file, tap.capture().info);
  }
  // Before saying it taps: a Ctrl-C from then on must reach the handler. Ctrl-C and SIGTERM
  // end the tapping, not the process: the analysis of what was seen still prints. A second
  // signal finds the default handler back and ends the process.
  const cli::StopOnSignals stop_on_signals;
  std::cerr << "eda-trace: tapping " << run.endpoints.size()
            << (run.endpoints.size() == 1 ? " publisher" : " publishers") << " for up to "
            << run.duration_s << " s"
            << (run.count > 0 ? " or " + std::to_string(run.count) + " messages" : "")
            << " (Ctrl-C stops and still reports)\n";
  const Deadline deadline(seconds(run.duration_s));
  bool confirmed = false;
  std::size_t handled = 0;
  std::unordered_set<std::string> seen_ids;
  while (!cli::stop_requested() && !deadline.expired() && (run.count == 0 || handled < run.count)) {
    (void)tap.poll(std::min(deadline.remaining(), std::chrono::milliseconds(100)));
    if (!confirmed && tap.handshake_complete()) {
      confirmed = true;
      std::cerr << "eda-trace: every publisher confirmed the tap: nothing is lost from here on\n";
    }
    const auto& messages = tap.capture().messages;
    for (; handled < messages.size() && (run.count == 0 || handled < run.count); ++handled) {
      if (output.lines)
        print_line(messages[handled], handled, tap.capture().info.started_ns, output.filter,
                   seen_ids);
      if (writer) writer->append(messages[handled]);
    }
    std::cout.flush();
  }
  if (!confirmed) {
    std::cerr << "eda-trace: the publishers never confirmed the tap (unreachable, idle, or not kit "
                 "Publishers): "
                 "events may have been missed at the start\n";
  }
  Capture capture = tap.take_capture();
  capture.messages.resize(std::min(capture.messages.size(), handled));
  if (tap.overflowed() > 0) {
    std::cerr << "eda-trace: " << tap.overflowed()
              << " messages past --max-messages were not kept\n";
  }
  if (writer) {
    std::cerr << "eda-trace: recorded " << writer->written() << " messages to " << run.record_file
              << '\n';
  }
  return report(analyse(capture), output);
}

}  // namespace eda::trace::tool
