// The analysis rules: trees from causation ids, per-hop latency, and each injected fault
// flagged by exactly its rule.

#include <catch2/catch.hpp>

#include <algorithm>

#include "eda/clock.hpp"
#include "eda/codec.hpp"
#include "eda/trace/analysis.hpp"
#include "scenario.hpp"

using eda::trace::Analysis;
using eda::trace::CausalTree;
using eda::trace::ProblemKind;
using eda::trace::TreeNode;

namespace {

/// The tap "started" a second before the scenario, so every cause made by it is after.
std::int64_t started_before() { return eda::wall_clock_ns() - 1'000'000'000; }

Analysis analyse_scenario(const trace_test::Faults& faults) {
  return eda::trace::analyse(
      trace_test::capture_of(trace_test::shop_scenario(faults), started_before()));
}

const eda::EventMetadata& meta_of(const Analysis& analysis, const TreeNode& node) {
  REQUIRE(node.event.has_value());
  return analysis.events[*node.event].meta;
}

/// "type source #sequence" of a node, for compact assertions.
std::string describe(const Analysis& analysis, const TreeNode& node) {
  if (!node.event) return "? never seen";
  const auto& meta = meta_of(analysis, node);
  return meta.type + " " + meta.source + " #" + std::to_string(meta.sequence);
}

std::vector<std::string> kinds(const Analysis& analysis) {
  std::vector<std::string> out;
  for (const auto& problem : analysis.problems)
    out.emplace_back(eda::trace::to_string(problem.kind));
  return out;
}

}  // namespace

TEST_CASE("trace: a known scenario gives one tree per order, causes above their reactions") {
  const Analysis analysis = analyse_scenario({});
  REQUIRE(analysis.events.size() == 8);
  CHECK(analysis.problems.empty());
  REQUIRE(analysis.trees.size() == 2);
  for (std::uint64_t order = 1; order <= 2; ++order) {
    const CausalTree& tree = analysis.trees[order - 1];
    CHECK(tree.event_count == 4);
    REQUIRE(tree.roots.size() == 1);
    const TreeNode& root = tree.nodes[tree.roots[0]];
    CHECK(describe(analysis, root) == "shop.order.placed order-service #" + std::to_string(order));
    CHECK(tree.correlation_id == meta_of(analysis, root).event_id);
    // Reactions in the order they happened: stock was reserved before the payment.
    REQUIRE(root.children.size() == 2);
    const TreeNode& stock = tree.nodes[root.children[0]];
    const TreeNode& payment = tree.nodes[root.children[1]];
    CHECK(describe(analysis, stock) == "shop.stock.reserved warehouse #" + std::to_string(order));
    CHECK(describe(analysis, payment) ==
          "shop.payment.charged payment-service #" + std::to_string(order));
    CHECK(stock.children.empty());
    REQUIRE(payment.children.size() == 1);
    const TreeNode& parcel = tree.nodes[payment.children[0]];
    CHECK(describe(analysis, parcel) ==
          "shop.parcel.shipped warehouse #" + std::to_string(order + 2));
    CHECK(parcel.children.empty());
    CHECK(tree.first_ns == meta_of(analysis, root).timestamp_ns);
    CHECK(tree.last_ns == meta_of(analysis, parcel).timestamp_ns);
  }
}

TEST_CASE("trace: an injected gap is reported with the missing range") {
  const Analysis analysis = analyse_scenario({.gap = true});
  REQUIRE(kinds(analysis) == std::vector<std::string>{"gap"});
  const auto& gap = analysis.problems[0];
  CHECK(gap.source == "order-service");
  CHECK(gap.message == 1);
  CHECK(gap.detail == "order-service jumped from #1 to #3: #2 never seen (1 event)");
  // The trees are intact: the gap lost no event of theirs.
  CHECK(analysis.trees.size() == 2);
}

TEST_CASE("trace: a gap is not judged when the tap took only some topics") {
  auto capture = trace_test::capture_of(trace_test::shop_scenario({.gap = true}), started_before());
  capture.info.topics = {"shop."};
  CHECK(eda::trace::analyse(capture).count(ProblemKind::gap) == 0);
}

TEST_CASE("trace: an injected duplicate is reported once and kept out of the tree") {
  const Analysis analysis = analyse_scenario({.duplicate = true});
  REQUIRE(kinds(analysis) == std::vector<std::string>{"duplicate"});
  CHECK(analysis.problems[0].source == "payment-service");
  CHECK_THAT(analysis.problems[0].detail, Catch::Contains("seen again: first seen at message"));
  REQUIRE(analysis.events.size() == 9);
  CHECK(std::count_if(analysis.events.begin(), analysis.events.end(),
                      [](const auto& e) { return e.duplicate; }) == 1);
  CHECK(analysis.trees[0].event_count == 4);
  // The tree holds the payment once.
  const auto& tree = analysis.trees[0];
  CHECK(tree.nodes[tree.roots[0]].children.size() == 2);
}

TEST_CASE("trace: a reused sequence number with a new event id is a duplicate") {
  auto events = trace_test::shop_scenario({});
  // Re-stamp the warehouse's last event (#4) with the number of its third.
  eda::EventMetadata meta = events[7].meta;
  REQUIRE(meta.source == "warehouse");
  REQUIRE(meta.sequence == 4);
  meta.sequence = 3;
  events[7] = trace_test::restamped(events[7], meta);
  const Analysis analysis = eda::trace::analyse(trace_test::capture_of(events, started_before()));
  REQUIRE(kinds(analysis) == std::vector<std::string>{"duplicate"});
  CHECK_THAT(analysis.problems[0].detail, Catch::Contains("warehouse #3 reused"));
}

TEST_CASE("trace: a cause never seen is flagged, and shown as a placeholder root") {
  const Analysis analysis = analyse_scenario({.missing_cause = true});
  REQUIRE(kinds(analysis) == std::vector<std::string>{"missing_cause"});
  const auto& refund = analysis.events.back();
  CHECK(analysis.find(refund.meta.event_id) == &refund);
  CHECK(analysis.find(refund.meta.causation_id) == nullptr);
  CHECK(analysis.problems[0].event_id == refund.meta.event_id);
  CHECK_THAT(analysis.problems[0].detail, Catch::Contains("never seen: lost"));
  const CausalTree& tree = analysis.trees[0];
  REQUIRE(tree.roots.size() == 2);
  const TreeNode& placeholder = tree.nodes[tree.roots[1]];
  CHECK_FALSE(placeholder.event.has_value());
  CHECK(placeholder.event_id == refund.meta.causation_id);
  REQUIRE(placeholder.children.size() == 1);
  CHECK(describe(analysis, tree.nodes[placeholder.children[0]]) ==
        "shop.refund.issued payment-service #3");
}

TEST_CASE("trace: a cause made before the tap started is a note, not a fault") {
  auto events = trace_test::shop_scenario({});
  events.erase(events.begin());  // the tap missed order 1's placement: it "started later"
  const std::int64_t after_first = eda::wall_clock_ns() + 1'000'000'000;
  // Started after every event was made: the missing cause predates the capture.
  const Analysis analysis = eda::trace::analyse(trace_test::capture_of(events, after_first));
  REQUIRE(analysis.count(ProblemKind::cause_before_capture) == 2);  // stock and payment of order 1
  CHECK(analysis.count(ProblemKind::missing_cause) == 0);
  CHECK(analysis.faults() == 0);
  CHECK(eda::trace::is_note(ProblemKind::cause_before_capture));
}

TEST_CASE("trace: a consumer reacting out of order is flagged at its later reaction") {
  const Analysis analysis = analyse_scenario({.out_of_order = true});
  REQUIRE(kinds(analysis) == std::vector<std::string>{"out_of_order_reaction"});
  const auto& problem = analysis.problems[0];
  CHECK(problem.source == "warehouse");
  CHECK(problem.detail ==
        "warehouse reacted to order-service #1 (shop.order.placed) in its #2, after reacting to "
        "the later "
        "order-service #2 in its #1");
}

TEST_CASE("trace: every fault at once, each by its own rule") {
  const Analysis analysis = analyse_scenario(
      {.gap = true, .duplicate = true, .missing_cause = true, .out_of_order = true});
  CHECK(analysis.count(ProblemKind::gap) == 1);
  CHECK(analysis.count(ProblemKind::duplicate) == 1);
  CHECK(analysis.count(ProblemKind::missing_cause) == 1);
  CHECK(analysis.count(ProblemKind::out_of_order_reaction) == 1);
  CHECK(analysis.faults() == 4);
  // In capture order.
  for (std::size_t i = 1; i < analysis.problems.size(); ++i) {
    CHECK(analysis.problems[i - 1].message <= analysis.problems[i].message);
  }
}

TEST_CASE("trace: a malformed message is reported and the rest still analysed") {
  auto capture = trace_test::capture_of(trace_test::shop_scenario({}), started_before());
  capture.messages.insert(
      capture.messages.begin() + 2,
      eda::trace::CapturedMessage{1, {"shop.order.placed", "\xc1 not msgpack"}});
  capture.messages.insert(capture.messages.begin(),
                          eda::trace::CapturedMessage{1, {"three", "frames", "here"}});
  const Analysis analysis = eda::trace::analyse(capture);
  REQUIRE(kinds(analysis) == std::vector<std::string>{"malformed", "malformed"});
  CHECK(analysis.problems[0].message == 0);
  CHECK_THAT(analysis.problems[0].detail, Catch::StartsWith("wrong_frame_count"));
  CHECK(analysis.problems[1].message == 3);
  CHECK(analysis.events.size() == 8);
  CHECK(analysis.trees.size() == 2);
}

TEST_CASE(
    "trace: a source that restarts its numbering is noted, and its new numbers are no duplicates") {
  auto events = trace_test::shop_scenario({}, 1);
  auto more = trace_test::shop_scenario({}, 1);  // a fresh run: every source starts at #1 again
  events.insert(events.end(), more.begin(), more.end());
  const Analysis analysis = eda::trace::analyse(trace_test::capture_of(events, started_before()));
  CHECK(analysis.count(ProblemKind::duplicate) == 0);
  CHECK(analysis.count(ProblemKind::sequence_regression) == 3);  // each source restarted
  CHECK_THAT(analysis.problems[0].detail, Catch::Contains("restarted"));
}

TEST_CASE("trace: a restart whose first events the tap missed is one regression, not duplicates") {
  auto events = trace_test::shop_scenario({}, 3);
  auto more = trace_test::shop_scenario({}, 2);  // a fresh run of the order service ...
  std::erase_if(more, [](const auto& e) { return e.meta.source != "order-service"; });
  REQUIRE(more.size() == 2);
  events.push_back(more[1]);  // ... whose #1 was published before the tap reconnected
  const Analysis analysis = eda::trace::analyse(trace_test::capture_of(events, started_before()));
  REQUIRE(kinds(analysis) == std::vector<std::string>{"sequence_regression"});
  CHECK_THAT(analysis.problems[0].detail,
             Catch::StartsWith("order-service went back from #3 to #2: the source restarted "
                               "and its events before #2 were not seen"));
}

TEST_CASE("trace: causes that loop are cut, not followed forever") {
  auto events = trace_test::shop_scenario({}, 1);
  // Make the order's placement caused by its own parcel: placed -> payment -> parcel -> placed.
  eda::EventMetadata meta = events[0].meta;
  meta.causation_id = events[3].meta.event_id;
  events[0] = trace_test::restamped(events[0], meta);
  const Analysis analysis = eda::trace::analyse(trace_test::capture_of(events, started_before()));
  REQUIRE(analysis.trees.size() == 1);
  CHECK(analysis.trees[0].roots.size() == 1);
  CHECK(analysis.count(ProblemKind::missing_cause) == 1);
  CHECK_THAT(analysis.problems[0].detail, Catch::Contains("loops back"));
}

TEST_CASE("trace: a reaction that does not continue its cause's correlation is flagged") {
  auto events = trace_test::shop_scenario({}, 1);
  eda::EventMetadata meta = events[1].meta;  // the stock reservation
  meta.correlation_id = eda::new_event_id();
  events[1] = trace_test::restamped(events[1], meta);
  const Analysis analysis = eda::trace::analyse(trace_test::capture_of(events, started_before()));
  CHECK(kinds(analysis) == std::vector<std::string>{"correlation_mismatch"});
  CHECK(analysis.trees.size() == 2);
}

TEST_CASE("trace: event ids carry their creation time, short ids are their random end") {
  const std::int64_t before = eda::wall_clock_ns() / 1'000'000 * 1'000'000;
  const auto time = eda::trace::event_id_time_ns(eda::new_event_id());
  REQUIRE(time.has_value());
  CHECK(*time >= before);
  CHECK_FALSE(eda::trace::event_id_time_ns("not an id").has_value());
  CHECK_FALSE(eda::trace::event_id_time_ns("0123456789ABCDEF0123456789abcdef").has_value());
  CHECK(eda::trace::short_id("0123456789abcdef0123456789abcdef") == "89abcdef");
  CHECK(eda::trace::short_id("abc") == "abc");
}
