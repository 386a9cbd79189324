// eda-trace's commands: what the command line parsed, and the functions that run each one.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "eda/trace/analysis.hpp"
#include "eda/trace/filter.hpp"

namespace eda::trace::tool {

/// Exit status when --fail-on-problems is given and the analysis found faults.
inline constexpr int problems_found_status = 3;

/// What to print and write once the analysis is done (every command that analyses).
struct Output {
  EventFilter filter{};           ///< --type, --source, --correlation
  bool lines = true;              ///< one line per event (live, replay)
  bool trees = true;              ///< the trees, problems and summary
  bool summary = false;           ///< without trees: the summary line alone (record)
  std::string dot_file{};         ///< --dot FILE
  std::string svg_file{};         ///< --svg FILE (needs --dot; rendered with Graphviz)
  bool fail_on_problems = false;  ///< exit 3 when faults were found
};

/// What `live` and `record` tap, and for how long.
struct TapRun {
  std::vector<std::string> endpoints{};  ///< publishers
  std::vector<std::string> topics{};     ///< --topic prefixes
  double duration_s = 60;                ///< --duration
  std::size_t count = 0;                 ///< --count (0: no limit)
  std::size_t max_messages = 1'000'000;  ///< --max-messages kept in memory
  std::string record_file{};             ///< --record / --out
  std::string curve_keys{};              ///< --curve-keys DIR
};

/// `live` and `record`: taps until the duration, the count or Ctrl-C, then reports.
int run_live(const TapRun& run, const Output& output);

/// `replay FILE` and `tree FILE`: reads a capture and reports as live would have.
int run_replay(const std::string& file, const Output& output);

/// Prints the trees, problems and summary of `analysis` (when `output.trees`), writes the DOT
/// and SVG files asked for, and returns the exit status.
int report(const Analysis& analysis, const Output& output);

}  // namespace eda::trace::tool
