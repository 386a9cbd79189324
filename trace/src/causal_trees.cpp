#include <algorithm>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "analysis_steps.hpp"
#include "event_index.hpp"

namespace eda::trace::detail {
namespace {

/// Builds the tree of one correlation from its events (indexes into analysis.events, arrival
/// order), flagging causes that are missing or belong to another correlation.
class TreeBuilder {
 public:
  TreeBuilder(Analysis& analysis, const EventIndex& index, std::string correlation_id)
      : analysis_(analysis), index_(index) {
    tree_.correlation_id = std::move(correlation_id);
  }

  void add(std::size_t event) {
    node_of_event_[event] = tree_.nodes.size();
    tree_.nodes.push_back(TreeNode{event, analysis_.events[event].meta.event_id, {}});
    members_.push_back(event);
  }

  CausalTree build() {
    for (const std::size_t event : members_) {
      link(event);
    }
    break_cycles();
    order();
    return std::move(tree_);
  }

 private:
  void link(std::size_t event) {
    const TracedEvent& traced = analysis_.events[event];
    const EventMetadata& meta = traced.meta;
    const std::size_t node = node_of_event_.at(event);
    if (meta.causation_id.empty()) {
      tree_.roots.push_back(node);
      return;
    }
    if (const auto cause = index_.find(meta.causation_id)) {
      const TracedEvent& parent = analysis_.events[*cause];
      if (parent.meta.correlation_id != meta.correlation_id) {
        problem(ProblemKind::correlation_mismatch, traced,
                meta.type + " (" + meta.source + " #" + std::to_string(meta.sequence) +
                    ") has correlation " + short_id(meta.correlation_id) + " but its cause " +
                    short_id(parent.meta.event_id) + " (" + parent.meta.type + ") has " +
                    short_id(parent.meta.correlation_id) +
                    ": the chain was not continued with Cause::of");
        tree_.roots.push_back(node);
        return;
      }
      tree_.nodes[node_of_event_.at(*cause)].children.push_back(node);
      return;
    }
    const std::int64_t started = analysis_.info.started_ns;
    const auto made = event_id_time_ns(meta.causation_id);
    // Event ids carry their creation time in whole milliseconds: only a cause made in an
    // earlier millisecond than the tap's start is certainly older than the capture.
    const bool before = made && started > 0 && *made / 1'000'000 < started / 1'000'000;
    problem(before ? ProblemKind::cause_before_capture : ProblemKind::missing_cause, traced,
            meta.type + " (" + meta.source + " #" + std::to_string(meta.sequence) +
                ") names cause " + short_id(meta.causation_id) + ", never seen: " +
                (before ? "made before the tap started"
                        : "lost, or of a type the tap did not subscribe to"));
    placeholder(meta.causation_id).children.push_back(node);
  }

  TreeNode& placeholder(const std::string& missing_id) {
    auto [it, fresh] = placeholders_.emplace(missing_id, tree_.nodes.size());
    if (fresh) {
      tree_.roots.push_back(tree_.nodes.size());
      tree_.nodes.push_back(TreeNode{std::nullopt, missing_id, {}});
    }
    return tree_.nodes[it->second];
  }

  /// Crafted or corrupt ids can make causes loop (A caused B caused A): such events are reached
  /// from no root. The earliest of them becomes a root, and its cause's link to it is cut.
  void break_cycles() {
    std::vector<bool> reached(tree_.nodes.size(), false);
    const auto reach_from = [this, &reached](std::size_t start) {
      std::vector<std::size_t> stack{start};
      while (!stack.empty()) {
        const std::size_t node = stack.back();
        stack.pop_back();
        if (reached[node]) continue;
        reached[node] = true;
        stack.insert(stack.end(), tree_.nodes[node].children.begin(),
                     tree_.nodes[node].children.end());
      }
    };
    for (const std::size_t root : tree_.roots) reach_from(root);
    for (std::size_t node = 0; node < tree_.nodes.size(); ++node) {
      if (reached[node] || !tree_.nodes[node].event) continue;
      const TracedEvent& traced = analysis_.events[*tree_.nodes[node].event];
      if (const auto cause = index_.find(traced.meta.causation_id)) {
        std::erase(tree_.nodes[node_of_event_.at(*cause)].children, node);
      }
      tree_.roots.push_back(node);
      problem(ProblemKind::missing_cause, traced,
              traced.meta.type + " (" + traced.meta.source + " #" +
                  std::to_string(traced.meta.sequence) +
                  "): its chain of causes loops back to itself, so it has no first event");
      reach_from(node);
    }
  }

  std::int64_t time_of(std::size_t node) const {
    const TreeNode& n = tree_.nodes[node];
    if (n.event) return analysis_.events[*n.event].meta.timestamp_ns;
    std::int64_t earliest = INT64_MAX;
    for (const std::size_t child : n.children) {
      earliest = std::min(earliest, time_of_event_node(child));
    }
    return earliest;
  }

  std::int64_t time_of_event_node(std::size_t node) const {
    const TreeNode& n = tree_.nodes[node];
    return n.event ? analysis_.events[*n.event].meta.timestamp_ns : INT64_MAX;
  }

  std::size_t arrival_of(std::size_t node) const {
    const TreeNode& n = tree_.nodes[node];
    if (n.event) return analysis_.events[*n.event].message;
    return n.children.empty() ? SIZE_MAX : arrival_of(n.children.front());
  }

  void order() {
    // Children are event nodes; placeholders are roots only. Earliest first, ties by arrival.
    const auto earlier = [this](std::size_t a, std::size_t b) {
      const std::int64_t ta = time_of_event_node(a);
      const std::int64_t tb = time_of_event_node(b);
      return ta != tb ? ta < tb : arrival_of(a) < arrival_of(b);
    };
    for (TreeNode& node : tree_.nodes) {
      std::sort(node.children.begin(), node.children.end(), earlier);
    }
    std::sort(tree_.roots.begin(), tree_.roots.end(), [this](std::size_t a, std::size_t b) {
      const std::int64_t ta = time_of(a);
      const std::int64_t tb = time_of(b);
      return ta != tb ? ta < tb : arrival_of(a) < arrival_of(b);
    });
    tree_.event_count = members_.size();
    tree_.first_ns = INT64_MAX;
    tree_.last_ns = INT64_MIN;
    for (const std::size_t event : members_) {
      tree_.first_ns = std::min(tree_.first_ns, analysis_.events[event].meta.timestamp_ns);
      tree_.last_ns = std::max(tree_.last_ns, analysis_.events[event].meta.timestamp_ns);
    }
  }

  void problem(ProblemKind kind, const TracedEvent& event, std::string detail) {
    analysis_.problems.push_back(Problem{kind, event.message, event.meta.source,
                                         event.meta.event_id, event.meta.correlation_id,
                                         std::move(detail)});
  }

  Analysis& analysis_;
  const EventIndex& index_;
  CausalTree tree_;
  std::vector<std::size_t> members_;
  std::unordered_map<std::size_t, std::size_t> node_of_event_;
  std::map<std::string, std::size_t> placeholders_;
};

}  // namespace

void build_trees(Analysis& analysis) {
  const EventIndex index(analysis);
  std::vector<TreeBuilder> builders;
  std::unordered_map<std::string, std::size_t> builder_of;
  for (std::size_t i = 0; i < analysis.events.size(); ++i) {
    const TracedEvent& event = analysis.events[i];
    if (event.duplicate) continue;
    // An event without a correlation id (not made by the kit) is its own transaction.
    const std::string& key =
        event.meta.correlation_id.empty() ? event.meta.event_id : event.meta.correlation_id;
    const auto [it, fresh] = builder_of.emplace(key, builders.size());
    if (fresh) builders.emplace_back(analysis, index, key);
    builders[it->second].add(i);
  }
  for (TreeBuilder& builder : builders) {
    analysis.trees.push_back(builder.build());
  }
}

}  // namespace eda::trace::detail
