// eda-tour: the guided tour of the catalogue of event-driven patterns.
//
// For each pattern in turn: what it is in two sentences, a short live run of its demo, and a
// live measurement against its synchronous baseline; then a summary table of all of them.

#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "child_process.hpp"
#include "eda/cli.hpp"
#include "stop.hpp"
#include "tour.hpp"

namespace {

/// The stop names, e.g. `notification, state-transfer, sourcing, cqrs`.
std::string names_of(const std::vector<eda::tour::Stop>& stops) {
  std::string names;
  for (const auto& stop : stops) names += (names.empty() ? "" : ", ") + stop.name;
  return names;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<eda::tour::Stop> stops = eda::tour::all_stops();
  CLI::App app{
      "eda-tour: a guided tour of the catalogue of event-driven patterns.\n"
      "For each pattern (" +
      names_of(stops) +
      "): what it is, a short live run of\n"
      "its demo, and a live measurement against its synchronous baseline; then a summary table\n"
      "of what each pattern buys and what it costs. Every number is measured in the run.\n"
      "The whole tour takes about half a minute on a 2-core machine, --quick a few seconds.\n"};
  app.name("eda-tour");

  eda::tour::TourOptions options;
  std::string pattern;
  bool list = false;
  const CLI::Validator known_pattern(
      [&stops](std::string& name) -> std::string {
        for (const auto& stop : stops) {
          if (stop.name == name) return {};
        }
        return "unknown pattern '" + name + "': choose one of: " + names_of(stops);
      },
      "NAME");
  app.add_option("-p,--pattern", pattern, "Run only this stop: one of " + names_of(stops))
      ->check(known_pattern);
  app.add_flag("--quick", options.quick,
               "Tiny demo runs and measurements of well under a second each (for CI): the numbers "
               "are rough, the tour takes seconds");
  app.add_flag("--list", list, "List the stops (the names --pattern takes) and exit");

  return eda::cli::run(app, argc, argv, [&] {
    if (list) {
      eda::tour::list_stops(stops, std::cout);
      return 0;
    }
    std::vector<eda::tour::Stop> chosen;
    for (const auto& stop : stops) {
      if (pattern.empty() || stop.name == pattern) chosen.push_back(stop);
    }
    eda::tour::stop_on_interrupt();
    return eda::tour::run_tour(chosen, options, std::cout);
  });
}
