#include <fstream>
#include <iostream>
#include <stdexcept>

#include "eda/trace/analysis.hpp"
#include "eda/trace/capture_file.hpp"
#include "eda/trace/dot.hpp"
#include "eda/trace/report.hpp"
#include "tool.hpp"

namespace eda::trace::tool {

int report(const Analysis& analysis, const Output& output) {
  if (output.trees) {
    print_report(std::cout, analysis, output.filter);
  } else if (output.summary) {
    print_summary(std::cout, analysis);
  }
  if (!output.dot_file.empty()) {
    std::ofstream dot(output.dot_file, std::ios::trunc);
    if (!dot) throw std::runtime_error("cannot create " + output.dot_file);
    const std::size_t written = write_dot(dot, analysis, output.filter);
    dot.close();
    if (!dot) throw std::runtime_error("writing " + output.dot_file + " failed");
    std::cerr << "eda-trace: wrote " << written << (written == 1 ? " correlation" : " correlations")
              << " to " << output.dot_file << '\n';
    if (!output.svg_file.empty()) {
      render_svg(output.dot_file, output.svg_file);
      std::cerr << "eda-trace: rendered " << output.svg_file << '\n';
    }
  }
  if (output.fail_on_problems && analysis.faults() > 0) {
    return problems_found_status;
  }
  return 0;
}

int run_replay(const std::string& file, const Output& output) {
  const Capture capture = load_capture(file);
  const Analysis analysis = analyse(capture);
  if (output.lines) {
    for (const TracedEvent& event : analysis.events) {
      if (output.filter.matches(event.meta)) {
        std::cout << event_line(event, capture.info.started_ns) << '\n';
      }
    }
  }
  return report(analysis, output);
}

}  // namespace eda::trace::tool
