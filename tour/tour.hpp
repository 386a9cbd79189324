/// @file tour.hpp
/// @brief The guided tour: visits stops in turn (what the pattern is, its demo live, its
///        measurement against the baseline), then prints the summary table of all of them.
#pragma once

#include <ostream>
#include <vector>

#include "stop.hpp"

namespace eda::tour {

/// @brief Runs `stops` in order, writing everything to `out`; returns the exit status: 0 when
///        every demo ran and every measurement completed, 1 otherwise (each failed stop is
///        named, and the tour goes on with the next).
int run_tour(const std::vector<Stop>& stops, const TourOptions& options, std::ostream& out);

/// @brief Prints the stops' names and titles, one a line (for `--list`).
void list_stops(const std::vector<Stop>& stops, std::ostream& out);

}  // namespace eda::tour
