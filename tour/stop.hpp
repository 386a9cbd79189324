/// @file stop.hpp
/// @brief One stop of the tour: a pattern, its demo, and the measurement against its baseline.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace eda::tour {

class Progress;

/// @brief How the whole tour runs.
struct TourOptions {
  bool quick = false;  ///< CI mode: tiny demo runs, measurements well under a second each.
};

/// @brief One row of a stop's side-by-side table: the same thing measured on both designs.
struct Comparison {
  std::string what;      ///< What was measured, e.g. `orders/s the producer accepts`.
  std::string pattern;   ///< The pattern's result, e.g. `95 000/s`.
  std::string baseline;  ///< The baseline's result, e.g. `2 500/s`.
  std::string verdict;   ///< How they compare, e.g. `38x more`.
};

/// @brief What a stop's measurement found: the side-by-side table, and the lines of the
///        tour's summary table. Every number in them was measured in this run.
struct Findings {
  std::vector<Comparison> rows;    ///< The stop's side-by-side table.
  std::vector<std::string> notes;  ///< Sentences printed under it (sizes, what was run).
  std::vector<std::string> buys;   ///< Summary: what the pattern buys.
  std::vector<std::string> costs;  ///< Summary: what it costs.
};

/// @brief A stop of the tour.
struct Stop {
  std::string name;      ///< The name `--pattern` takes, e.g. `state-transfer`.
  std::string title;     ///< The pattern's name for people, e.g. `Event-carried state transfer`.
  std::string intent;    ///< What it is, in two sentences.
  std::string baseline;  ///< The synchronous design it is measured against, in a few words.
  std::string demo_program;                  ///< The demo's executable.
  std::vector<std::string> demo_args;        ///< Its flags for the full tour.
  std::vector<std::string> quick_demo_args;  ///< Its flags under `--quick`.
  std::string demo_shows;  ///< What to look for in the demo's output, in one sentence.
  /// Measures the pattern against its baseline, announcing each stage on `progress`.
  std::function<Findings(const TourOptions&, Progress& progress)> measure;
};

/// @brief The event-notification stop.
Stop notification_stop();
/// @brief The event-carried-state-transfer stop.
Stop state_transfer_stop();
/// @brief The event-sourcing stop.
Stop sourcing_stop();
/// @brief The CQRS stop.
Stop cqrs_stop();
/// @brief The partitioned-consumer-group stop.
Stop scaling_stop();
/// @brief The outbox-and-sagas stop.
Stop saga_stop();

/// @brief All the stops, in the order the tour visits them.
std::vector<Stop> all_stops();

}  // namespace eda::tour
