#include "eda/trace/report.hpp"

#include <cstdio>
#include <map>
#include <ostream>
#include <vector>

#include "eda/errors.hpp"

namespace eda::trace {
namespace {

constexpr std::size_t payload_width = 60;
constexpr std::size_t max_drawn_depth = 24;  // deeper levels are numbered, not indented further

std::string padded(std::string text, std::size_t width) {
  if (text.size() < width) text.append(width - text.size(), ' ');
  return text;
}

std::string shortened(const std::string& text, std::size_t width) {
  return text.size() <= width ? text : text.substr(0, width - 3) + "...";
}

std::string numbered(const EventMetadata& meta) {
  return printable(meta.source, 40) + " #" + std::to_string(meta.sequence);
}

std::string missing_label(const TreeNode& node, const Analysis& analysis) {
  const auto made = event_id_time_ns(node.event_id);
  const std::int64_t started = analysis.info.started_ns;
  const bool before = made && started > 0 && *made / 1'000'000 < started / 1'000'000;
  return "? " + printable(short_id(node.event_id), 8) + " never seen (" +
         (before ? "made before the tap started" : "lost, or not tapped") + ")";
}

std::string node_label(const TreeNode& node, const TreeNode* parent, const Analysis& analysis) {
  if (!node.event) return missing_label(node, analysis);
  const TracedEvent& event = analysis.events[*node.event];
  std::string label = event.meta.type + " (" + numbered(event.meta) + ")  ";
  if (parent != nullptr && parent->event) {
    label += "+" +
             format_ms(event.meta.timestamp_ns - analysis.events[*parent->event].meta.timestamp_ns);
  } else {
    // A root, or an event below a cause never seen (the hop cannot be measured): the time in
    // the capture.
    label += "at " + format_ms(event.meta.timestamp_ns - analysis.info.started_ns);
  }
  return label + "  " + shortened(event.payload, 40);
}

void print_tree(std::ostream& out, const CausalTree& tree, const Analysis& analysis) {
  out << "correlation " << printable(short_id(tree.correlation_id), 8) << ": " << tree.event_count
      << (tree.event_count == 1 ? " event" : " events");
  if (tree.event_count > 1) out << " over " << format_ms(tree.last_ns - tree.first_ns);
  out << '\n';
  struct Step {
    std::size_t node;
    const TreeNode* parent;
    std::string prefix;  // drawn before the branch of this node
    bool last;
    std::size_t depth;
  };
  std::vector<Step> stack;
  for (auto root = tree.roots.rbegin(); root != tree.roots.rend(); ++root) {
    stack.push_back(Step{*root, nullptr, "", true, 0});
  }
  while (!stack.empty()) {
    Step step = std::move(stack.back());
    stack.pop_back();
    const TreeNode& node = tree.nodes[step.node];
    out << "  " << step.prefix;
    if (step.depth > 0) out << (step.last ? "└─ " : "├─ ");
    if (step.depth > max_drawn_depth) out << "[depth " << step.depth << "] ";
    out << node_label(node, step.parent, analysis) << '\n';
    std::string child_prefix = step.prefix;
    if (step.depth > 0 && step.depth <= max_drawn_depth) child_prefix += step.last ? "   " : "│  ";
    for (std::size_t i = node.children.size(); i-- > 0;) {
      stack.push_back(Step{node.children[i], &node, child_prefix, i + 1 == node.children.size(),
                           step.depth + 1});
    }
  }
}

}  // namespace

std::string format_ms(std::int64_t ns) {
  char text[48];
  std::snprintf(text, sizeof text, "%.3f ms", static_cast<double>(ns) / 1e6);
  return text;
}

std::string event_line(const TracedEvent& event, std::int64_t origin_ns) {
  const EventMetadata& meta = event.meta;
  std::string time = format_ms(meta.timestamp_ns - origin_ns);
  if (time.size() < 12) time.insert(0, 12 - time.size(), ' ');
  return time + "  " + padded(printable(meta.source, 40), 16) + "  " + padded(meta.type, 24) +
         "  " + padded("#" + std::to_string(meta.sequence), 5) + "  corr " +
         padded(printable(short_id(meta.correlation_id), 8), 8) + "  " +
         shortened(event.payload, payload_width) + (event.duplicate ? "  (duplicate)" : "");
}

void print_trees(std::ostream& out, const Analysis& analysis, const EventFilter& filter,
                 std::size_t max_trees) {
  std::size_t shown = 0;
  for (const CausalTree& tree : analysis.trees) {
    if (filter.matches(tree, analysis)) ++shown;
  }
  out << "== Causal trees: " << shown << (shown == 1 ? " correlation" : " correlations");
  if (shown != analysis.trees.size()) out << " of " << analysis.trees.size();
  out << " (per hop: reaction's timestamp - cause's) ==\n";
  std::size_t printed = 0;
  for (const CausalTree& tree : analysis.trees) {
    if (printed == max_trees) break;
    if (filter.matches(tree, analysis)) {
      print_tree(out, tree, analysis);
      ++printed;
    }
  }
  if (printed < shown) {
    out << "  ... and " << shown - printed
        << " more (record the capture with eda-trace to see them all)\n";
  }
}

void print_problems(std::ostream& out, const Analysis& analysis) {
  if (analysis.problems.empty()) {
    out << "== Problems: none ==\n";
    return;
  }
  const std::size_t notes = analysis.problems.size() - analysis.faults();
  out << "== Problems: " << analysis.faults();
  if (notes > 0) out << " (and " << notes << (notes == 1 ? " note)" : " notes)");
  out << " ==\n";
  for (const Problem& problem : analysis.problems) {
    out << "  message " << padded(std::to_string(problem.message + 1), 5) << "  "
        << padded(std::string(to_string(problem.kind)), 22) << "  "
        << printable(problem.detail, 400) << '\n';
  }
}

void print_summary(std::ostream& out, const Analysis& analysis) {
  std::map<std::string_view, std::size_t> by_kind;
  for (const Problem& problem : analysis.problems) ++by_kind[to_string(problem.kind)];
  out << "== Summary: " << analysis.messages << " messages, " << analysis.events.size()
      << " events, " << analysis.trees.size() << " correlations; ";
  if (by_kind.empty()) {
    out << "no problems ==\n";
    return;
  }
  bool first = true;
  for (const auto& [kind, count] : by_kind) {
    out << (first ? "" : ", ") << count << ' ' << kind;
    first = false;
  }
  out << " ==\n";
}

void print_report(std::ostream& out, const Analysis& analysis, const EventFilter& filter,
                  std::size_t max_trees) {
  print_trees(out, analysis, filter, max_trees);
  print_problems(out, analysis);
  print_summary(out, analysis);
}

}  // namespace eda::trace
