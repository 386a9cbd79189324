#include "eda/trace/demo_trace.hpp"

#include <ostream>
#include <stdexcept>

#include "eda/clock.hpp"
#include "eda/trace/report.hpp"

namespace eda::trace {
namespace {

TapOptions tap_options(const DemoTraceOptions& options) {
  if (options.endpoints.empty()) {
    throw std::invalid_argument("--trace needs at least one publisher endpoint to tap");
  }
  return TapOptions{
      .endpoints = options.endpoints, .topics = options.topics, .security = options.security};
}

std::string joined(const std::vector<std::string>& endpoints) {
  std::string text;
  for (const std::string& endpoint : endpoints) {
    text += (text.empty() ? "" : ", ") + endpoint;
  }
  return text;
}

}  // namespace

DemoTrace::DemoTrace(zmq::context_t& context, DemoTraceOptions options)
    : options_(std::move(options)), tap_(context, tap_options(options_)) {
  bool confirmed = false;
  if (options_.serve_publishers) {
    // This thread serves the publishers: it takes turns with the tap's thread, bounded.
    const Deadline deadline(options_.handshake_timeout);
    while (!confirmed && !deadline.expired()) {
      options_.serve_publishers();
      confirmed = tap_.await_handshake(std::chrono::milliseconds(1));
    }
  } else {
    confirmed = tap_.await_handshake(options_.handshake_timeout);
  }
  if (!confirmed) {
    throw std::runtime_error("--trace: the tap's subscription was not confirmed within " +
                             std::to_string(options_.handshake_timeout.count()) + " ms by " +
                             joined(options_.endpoints));
  }
}

Analysis DemoTrace::report(std::ostream& out, std::size_t expected,
                           std::chrono::milliseconds timeout) {
  if (reported_) {
    return Analysis{};
  }
  reported_ = true;
  const bool complete = tap_.await_messages(expected, timeout);
  Analysis analysis = analyse(tap_.stop());
  out << "\n== Trace of this run: tapped " << joined(options_.endpoints) << " ==\n";
  if (!complete) {
    out << "(the tap saw " << analysis.messages << " of the " << expected
        << " messages expected within " << timeout.count() << " ms)\n";
  }
  print_report(out, analysis, {}, options_.trees_shown);
  return analysis;
}

}  // namespace eda::trace
