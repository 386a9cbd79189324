/// @file report.hpp
/// @brief The tracer's text output: one line per event, indented causal trees with per-hop
///        latency, the problems, and a summary.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>

#include "eda/trace/analysis.hpp"
#include "eda/trace/filter.hpp"

namespace eda::trace {

/// @brief One line for an event: time since `origin_ns` (the capture start), source, type,
///        sequence, short correlation id and the start of the payload.
std::string event_line(const TracedEvent& event, std::int64_t origin_ns);

/// @brief A duration in ns as milliseconds with three decimals, e.g. `0.412 ms`.
std::string format_ms(std::int64_t ns);

/// @brief Every tree, when passed as `max_trees`.
inline constexpr std::size_t all_trees = static_cast<std::size_t>(-1);

/// @brief Prints the causal tree of every correlation `filter` selects, the first `max_trees`
///        of them in capture order, and how many more were left out.
void print_trees(std::ostream& out, const Analysis& analysis, const EventFilter& filter = {},
                 std::size_t max_trees = all_trees);

/// @brief Prints every problem (notes included), one per line, or that there were none.
void print_problems(std::ostream& out, const Analysis& analysis);

/// @brief Prints the counts: messages, events, correlations, problems by kind.
void print_summary(std::ostream& out, const Analysis& analysis);

/// @brief Trees (at most `max_trees`), problems and summary: what a demo's `--trace` prints at
///        its end.
void print_report(std::ostream& out, const Analysis& analysis, const EventFilter& filter = {},
                  std::size_t max_trees = all_trees);

}  // namespace eda::trace
