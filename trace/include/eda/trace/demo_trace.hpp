/// @file demo_trace.hpp
/// @brief A demo's `--trace`: a wire tap started before the story and a report after it.
///
/// Every demo accepts `--trace`. It taps the demo's own publishers (the same tap as
/// `eda-trace live`, in the demo's process), lets the story run, then prints the causal trees
/// of the first correlations, the problems the analysis found and a summary. Tracing observes:
/// it never changes what the demo does or its exit status (a flagged gap is a finding, not a
/// failure of the demo).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "eda/trace/analysis.hpp"
#include "eda/trace/tap.hpp"

namespace eda::trace {

/// @brief The `--help` text of a demo's `--trace` flag.
inline constexpr const char* trace_flag_help =
    "Tap this demo's own publishers and print the causal trees, the problems found (gaps,\n"
    "duplicates, missing causes) and a summary at the end (see eda-trace for the full tool)";

/// @brief What a demo traces and how much of it is printed.
struct DemoTraceOptions {
  std::vector<std::string> endpoints{};  ///< The publishers to tap; at least one.
  std::vector<std::string> topics{};     ///< Event-type prefixes; empty = every event.
  std::size_t trees_shown = 5;           ///< Causal trees printed; the rest are counted.
  std::chrono::milliseconds handshake_timeout =
      std::chrono::seconds(10);  ///< For each publisher to let it in.
  Security security{};           ///< As TapOptions::security.
  /// Called over and over while the tap waits for its handshake, for a demo whose publishers
  /// are served by the thread that creates the trace (a lambda that calls their serve() with
  /// a few milliseconds to wait); empty when they are served on threads of their own.
  std::function<void()> serve_publishers{};
};

/// @brief The tap of a demo's `--trace`.
///
/// @par Example
/// @code
/// std::optional<eda::trace::DemoTrace> trace;
/// if (settings.trace) trace.emplace(context, eda::trace::DemoTraceOptions{.endpoints = {...}});
/// ... the story ...
/// if (trace) trace->report(std::cout, expected_messages);
/// @endcode
class DemoTrace {
 public:
  /// @brief Starts the tap and waits (bounded) until every publisher has confirmed its
  ///        subscription, so nothing published afterwards is missed. The publishers must be
  ///        serving meanwhile (their own threads, or publishing). Throws std::runtime_error
  ///        naming the endpoints when the handshake does not complete in time. Publishers
  ///        served by this thread are served through `options.serve_publishers`.
  DemoTrace(zmq::context_t& context, DemoTraceOptions options);

  /// @brief Waits until `expected` messages were captured (at most `timeout`), stops the tap
  ///        and prints the report to `out`; says so when fewer messages came than expected.
  ///        Returns the analysis (empty after the first call).
  Analysis report(std::ostream& out, std::size_t expected,
                  std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));

 private:
  DemoTraceOptions options_;
  BackgroundTap tap_;
  bool reported_ = false;
};

}  // namespace eda::trace
