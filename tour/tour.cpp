#include "tour.hpp"

#include <chrono>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>

#include "child_process.hpp"
#include "eda/clock.hpp"
#include "progress.hpp"
#include "text_table.hpp"

namespace eda::tour {

namespace {

using namespace std::chrono_literals;

constexpr std::size_t page_width = 96;
const std::string demo_prefix = "    | ";

/// A banner across the page with `title` in it.
void banner(std::ostream& out, const std::string& title) {
  const std::string rule(page_width, '=');
  out << '\n' << rule << '\n' << ' ' << title << '\n' << rule << '\n';
}

/// `text` wrapped to the page, each line after the first indented like the first's text.
void paragraph(std::ostream& out, const std::string& label, const std::string& text) {
  const std::string indent(label.size(), ' ');
  bool first = true;
  for (std::string& line : wrap(text, page_width - label.size())) {
    // wrap() starts continuation lines with two spaces; here the indent does that job.
    if (!first && line.starts_with("  ")) line.erase(0, 2);
    out << (first ? label : indent) << line << '\n';
    first = false;
  }
}

/// The command line of a demo as a person would type it.
std::string command_line(const std::string& program, const std::vector<std::string>& args) {
  std::string line = program.substr(program.find_last_of('/') + 1);
  for (const std::string& arg : args) line += " " + arg;
  return line;
}

/// What one stop gave: its findings, or why it failed.
struct StopOutcome {
  std::optional<Findings> findings;  ///< Set when the demo ran and the measurement completed.
  std::string failure;               ///< Otherwise: what failed, in words.
};

StopOutcome visit(const Stop& stop, std::size_t number, std::size_t total,
                  const TourOptions& options, std::ostream& out) {
  banner(out, std::to_string(number) + "/" + std::to_string(total) + "  " + stop.title + "  (" +
                  stop.name + "/README.md)");
  paragraph(out, "What it is:        ", stop.intent);
  paragraph(out, "Measured against:  ", stop.baseline);
  out << '\n';

  Progress progress(out, number, total, stop.name);
  const std::vector<std::string>& args = options.quick ? stop.quick_demo_args : stop.demo_args;
  progress.say("live demo: " + command_line(stop.demo_program, args));
  // A demo takes a few seconds; the limit only catches a hang (and leaves room for the
  // sanitizer builds, which run the quick tour too).
  ChildResult demo;
  const std::int64_t demo_start = monotonic_ns();
  try {
    demo = run_demo(stop.demo_program, args, 60s, out, demo_prefix);
  } catch (const std::exception& e) {  // it could not be started at all
    progress.say(std::string("the demo FAILED: ") + e.what());
    return {std::nullopt, e.what()};
  }
  if (!demo.succeeded()) {
    // Only the tour's interrupt stops a demo; a time limit it ran past is named with the limit.
    const std::string how = demo.stopped ? "interrupted" : demo.ending();
    progress.say("the demo FAILED (" + how + ")");
    return {std::nullopt, command_line(stop.demo_program, args) + ": " + how};
  }
  char took[32];
  std::snprintf(took, sizeof took, "%.2f s",
                static_cast<double>(monotonic_ns() - demo_start) / 1e9);
  progress.say(std::string("demo finished in ") + took + ". " + stop.demo_shows);
  if (interrupt_requested()) return {std::nullopt, "interrupted"};

  Findings findings;
  try {
    findings = stop.measure(options, progress);
  } catch (const std::exception& e) {
    progress.say(std::string("the measurement FAILED: ") + e.what());
    return {std::nullopt, std::string("measurement: ") + e.what()};
  }

  out << "\n  Side by side, measured just now:\n";
  TextTable table({"", "pattern", "baseline", "pattern vs baseline"}, {32, 20, 20, 20});
  for (const Comparison& row : findings.rows) {
    table.add_row({row.what, row.pattern, row.baseline, row.verdict});
  }
  table.print(out, "  ");
  for (const std::string& note : findings.notes) paragraph(out, "  - ", note);
  return {std::move(findings), {}};
}

}  // namespace

void list_stops(const std::vector<Stop>& stops, std::ostream& out) {
  for (const Stop& stop : stops) {
    out << stop.name << std::string(stop.name.size() < 16 ? 16 - stop.name.size() : 1, ' ')
        << stop.title << " (against " << stop.baseline << ")\n";
  }
}

int run_tour(const std::vector<Stop>& stops, const TourOptions& options, std::ostream& out) {
  const std::int64_t start = monotonic_ns();
  paragraph(out, "eda-tour: ",
            std::to_string(stops.size()) + (stops.size() == 1 ? " stop" : " stops") +
                (options.quick ? " (--quick: tiny runs for CI, the numbers are rough)" : "") +
                ". For each pattern: what it is, its demo live, then a measurement against its "
                "synchronous baseline, in this process, on this machine. Every number below is "
                "measured now.");

  TextTable summary({"pattern", "what it buys", "what it costs"}, {18, 38, 38});
  std::vector<std::string> failed;
  for (std::size_t i = 0; i < stops.size() && !interrupt_requested(); ++i) {
    const StopOutcome outcome = visit(stops[i], i + 1, stops.size(), options, out);
    if (outcome.findings) {
      summary.add_row(
          std::vector<Cell>{Cell{stops[i].title}, outcome.findings->buys, outcome.findings->costs});
    } else {
      failed.push_back(stops[i].name + " (" + outcome.failure + ")");
      summary.add_row(
          std::vector<Cell>{Cell{stops[i].title}, Cell{"FAILED: " + outcome.failure}, Cell{}});
    }
  }
  if (interrupt_requested()) failed.push_back("the tour was interrupted");

  banner(out, "Summary: what each pattern buys and what it costs, measured in this run");
  summary.print(out);
  out << "\nThe pattern pages (notification/README.md, state-transfer/README.md, "
         "sourcing/README.md,\n"
      << "cqrs/README.md, scaling/README.md, saga/README.md) explain what you saw; bench/ "
         "measures it at full size.\n";
  out << "eda-tour: finished in " << seconds_since(start);
  if (failed.empty()) {
    out << ", every stop ran.\n";
    return 0;
  }
  out << "; FAILED stops:";
  for (const std::string& name : failed) out << "\n  " << name;
  out << '\n';
  return 1;
}

}  // namespace eda::tour
