/// @file dot.hpp
/// @brief Graphviz output of causal trees: a DOT file, and SVG when `dot` is installed.
#pragma once

#include <iosfwd>
#include <string>

#include "eda/trace/analysis.hpp"
#include "eda/trace/filter.hpp"

namespace eda::trace {

/// @brief Writes one DOT digraph with a cluster per correlation `filter` selects: a box per
///        event (type, source and sequence), a dashed box per cause never seen, and an edge
///        from each cause to its reaction labelled with the hop latency. Returns how many
///        correlations were written.
std::size_t write_dot(std::ostream& out, const Analysis& analysis, const EventFilter& filter = {});

/// @brief Whether Graphviz's `dot` program is on the PATH.
bool dot_available();

/// @brief Runs `dot -Tsvg dot_file -o svg_file` (no shell, its messages on our standard error,
///        at most 5 minutes); throws std::runtime_error with the command and how it ended when
///        it fails or runs past that, or when `dot` is not installed.
void render_svg(const std::string& dot_file, const std::string& svg_file);

}  // namespace eda::trace
