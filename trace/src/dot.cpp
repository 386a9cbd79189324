#include "eda/trace/dot.hpp"

#include <chrono>
#include <ostream>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "eda/child_process.hpp"
#include "eda/trace/report.hpp"

namespace eda::trace {
namespace {

/// How long dot may take: minutes for a capture of thousands of correlations, far less
/// usually; past it, dot is stopped and the error names the command and the limit.
constexpr std::chrono::minutes render_limit{5};

/// A DOT string literal: quotes and backslashes escaped, control bytes replaced.
std::string dot_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out.push_back('?');
    } else {
      out.push_back(c);
    }
  }
  return out + "\"";
}

/// A label of several lines (DOT's "\n" line break inside a quoted string).
std::string label_lines(const std::vector<std::string>& lines) {
  std::string joined;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string line = dot_string(lines[i]);
    joined += line.substr(1, line.size() - 2);
    if (i + 1 < lines.size()) joined += "\\n";
  }
  return "\"" + joined + "\"";
}

void write_tree(std::ostream& out, const CausalTree& tree, std::size_t cluster,
                const Analysis& analysis) {
  const std::string prefix = "c" + std::to_string(cluster) + "_";
  out << "  subgraph cluster_" << cluster << " {\n"
      << "    label=" << dot_string("correlation " + short_id(tree.correlation_id)) << ";\n";
  for (std::size_t i = 0; i < tree.nodes.size(); ++i) {
    const TreeNode& node = tree.nodes[i];
    out << "    " << prefix << i << " [label=";
    if (node.event) {
      const EventMetadata& meta = analysis.events[*node.event].meta;
      out << label_lines({meta.type, meta.source + " #" + std::to_string(meta.sequence),
                          "at " + format_ms(meta.timestamp_ns - analysis.info.started_ns)});
    } else {
      out << label_lines({"? " + short_id(node.event_id), "never seen"}) << ", style=dashed";
    }
    out << "];\n";
  }
  for (std::size_t i = 0; i < tree.nodes.size(); ++i) {
    const TreeNode& node = tree.nodes[i];
    for (const std::size_t child : node.children) {
      out << "    " << prefix << i << " -> " << prefix << child;
      const TreeNode& reaction = tree.nodes[child];
      if (node.event && reaction.event) {
        const std::int64_t hop = analysis.events[*reaction.event].meta.timestamp_ns -
                                 analysis.events[*node.event].meta.timestamp_ns;
        out << " [label=" << dot_string("+" + format_ms(hop)) << "]";
      } else {
        out << " [style=dashed]";
      }
      out << ";\n";
    }
  }
  out << "  }\n";
}

}  // namespace

std::size_t write_dot(std::ostream& out, const Analysis& analysis, const EventFilter& filter) {
  out << "digraph eda_trace {\n"
      << "  rankdir=LR;\n"
      << "  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=10];\n"
      << "  edge [fontname=\"Helvetica\", fontsize=9];\n";
  std::size_t written = 0;
  for (const CausalTree& tree : analysis.trees) {
    if (filter.matches(tree, analysis)) {
      write_tree(out, tree, written, analysis);
      ++written;
    }
  }
  out << "}\n";
  return written;
}

bool dot_available() { return find_on_path("dot").has_value(); }

void render_svg(const std::string& dot_file, const std::string& svg_file) {
  if (!dot_available()) {
    throw std::runtime_error("Graphviz's dot is not installed (apt-get install graphviz): " +
                             dot_file + " was written, but no SVG");
  }
  // dot's own messages (a syntax error, a warning) go where ours go.
  ChildProcess dot({.argv = {"dot", "-Tsvg", dot_file, "-o", svg_file}});
  const ChildResult result = dot.wait(render_limit);
  if (!result.succeeded()) {
    throw std::runtime_error("dot failed to render " + svg_file + " from " + dot_file + " (" +
                             result.describe() + ")");
  }
}

}  // namespace eda::trace
