// What the tracer prints: event lines, the indented tree with per-hop latency, the problems,
// filters, and the Graphviz output.

#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "eda/clock.hpp"
#include "eda/trace/dot.hpp"
#include "eda/trace/report.hpp"
#include "scenario.hpp"

namespace {

struct Fixture {
  std::vector<trace_test::ScriptedEvent> events =
      trace_test::shop_scenario({.missing_cause = true});
  eda::trace::Analysis analysis =
      eda::trace::analyse(trace_test::capture_of(events, eda::wall_clock_ns() - 1'000'000'000));

  std::string hop(std::size_t child, std::size_t parent) const {
    return "+" + eda::trace::format_ms(events[child].meta.timestamp_ns -
                                       events[parent].meta.timestamp_ns);
  }
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEST_CASE("trace: a tree prints indented, each reaction with its hop latency") {
  const Fixture f;
  std::ostringstream out;
  eda::trace::print_trees(out, f.analysis);
  const auto lines = lines_of(out.str());
  REQUIRE(lines.size() >= 12);
  CHECK(lines[0] == "== Causal trees: 2 correlations (per hop: reaction's timestamp - cause's) ==");
  CHECK_THAT(lines[1],
             Catch::StartsWith("correlation " + eda::trace::short_id(f.events[0].meta.event_id) +
                               ": 5 events over "));
  // Order 1: events 0 placed, 2 stock, 4 payment, 6 parcel (publication order of the scenario).
  CHECK_THAT(lines[2], Catch::StartsWith("  shop.order.placed (order-service #1)  at "));
  CHECK_THAT(lines[2], Catch::EndsWith(R"([1,"customer-1"])"));
  CHECK_THAT(lines[3],
             Catch::StartsWith("  ├─ shop.stock.reserved (warehouse #1)  " + f.hop(2, 0)));
  CHECK_THAT(lines[4],
             Catch::StartsWith("  └─ shop.payment.charged (payment-service #1)  " + f.hop(4, 0)));
  CHECK_THAT(lines[5],
             Catch::StartsWith("     └─ shop.parcel.shipped (warehouse #3)  " + f.hop(6, 4)));
  CHECK_THAT(lines[6],
             Catch::StartsWith("  ? ") && Catch::Contains("never seen (lost, or not tapped)"));
  CHECK_THAT(lines[7], Catch::StartsWith("  └─ shop.refund.issued (payment-service #3)  at "));
}

TEST_CASE("trace: an event line shows time, source, type, sequence, correlation and payload") {
  const Fixture f;
  const auto& event = f.analysis.events[0];
  const std::string line = eda::trace::event_line(event, event.meta.timestamp_ns - 1'500'000);
  CHECK(line == "    1.500 ms  order-service     shop.order.placed         #1     corr " +
                    eda::trace::short_id(event.meta.correlation_id) + "  " + event.payload);
}

TEST_CASE("trace: problems and the summary list every fault") {
  const Fixture f;
  std::ostringstream out;
  eda::trace::print_problems(out, f.analysis);
  eda::trace::print_summary(out, f.analysis);
  const auto lines = lines_of(out.str());
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "== Problems: 1 ==");
  CHECK_THAT(lines[1],
             Catch::StartsWith("  message 9      missing_cause           shop.refund.issued"));
  CHECK(lines[2] == "== Summary: 9 messages, 9 events, 2 correlations; 1 missing_cause ==");
}

TEST_CASE("trace: filters select events by type prefix, source and correlation") {
  const Fixture f;
  const auto& order2 = f.events[1].meta;
  const eda::trace::EventFilter by_type{.types = {"shop.parcel"}};
  const eda::trace::EventFilter by_source{.sources = {"warehouse"}};
  const eda::trace::EventFilter by_correlation{
      .correlations = {eda::trace::short_id(order2.correlation_id)}};
  std::size_t parcels = 0, warehouse = 0, order2_events = 0;
  for (const auto& e : f.analysis.events) {
    parcels += by_type.matches(e.meta);
    warehouse += by_source.matches(e.meta);
    order2_events += by_correlation.matches(e.meta);
  }
  CHECK(parcels == 2);
  CHECK(warehouse == 4);
  CHECK(order2_events == 4);
  CHECK_FALSE(by_correlation.matches(f.analysis.trees[0], f.analysis));
  CHECK(by_correlation.matches(f.analysis.trees[1], f.analysis));
  std::ostringstream out;
  eda::trace::print_trees(out, f.analysis, by_correlation);
  CHECK_THAT(out.str(), Catch::Contains("1 correlation of 2") &&
                            Catch::Contains("order-service #2") &&
                            !Catch::Contains("order-service #1"));
}

TEST_CASE("trace: a tree limit prints the first trees and counts the rest") {
  const Fixture f;
  std::ostringstream out;
  eda::trace::print_trees(out, f.analysis, {}, 1);
  const std::string text = out.str();
  CHECK_THAT(text, Catch::Contains("order-service #1") && !Catch::Contains("order-service #2"));
  CHECK_THAT(text, Catch::EndsWith(
                       "  ... and 1 more (record the capture with eda-trace to see them all)\n"));
  std::ostringstream all;
  eda::trace::print_trees(all, f.analysis, {}, 2);
  CHECK_THAT(all.str(), Catch::Contains("order-service #2") && !Catch::Contains("... and"));
}

TEST_CASE(
    "trace: the DOT output has a box per event, a dashed box per unseen cause, hops on edges") {
  const Fixture f;
  std::ostringstream out;
  CHECK(eda::trace::write_dot(out, f.analysis) == 2);
  const std::string dot = out.str();
  CHECK_THAT(dot, Catch::StartsWith("digraph eda_trace {"));
  CHECK_THAT(dot, Catch::Contains(R"(c0_0 [label="shop.order.placed\norder-service #1\nat )"));
  CHECK_THAT(dot, Catch::Contains("c0_0 -> c0_1 [label=\"" + f.hop(2, 0) + "\"];"));
  CHECK_THAT(dot, Catch::Contains("never seen\", style=dashed]"));
  CHECK_THAT(dot, Catch::Contains("subgraph cluster_1"));
  if (eda::trace::dot_available()) {
    const auto dir =
        std::filesystem::temp_directory_path() / ("eda-trace-dot-" + eda::new_event_id());
    std::filesystem::create_directories(dir);
    std::ofstream((dir / "flow.dot").string()) << dot;
    eda::trace::render_svg((dir / "flow.dot").string(), (dir / "flow.svg").string());
    std::ifstream svg((dir / "flow.svg").string());
    const std::string text((std::istreambuf_iterator<char>(svg)), {});
    CHECK_THAT(text, Catch::Contains("<svg") && Catch::Contains("shop.parcel.shipped"));
    std::filesystem::remove_all(dir);
  }
}

TEST_CASE("trace: a DOT file dot cannot render is an error with dot's command and status") {
  if (!eda::trace::dot_available()) {
    WARN("Graphviz's dot is not installed: nothing to check");
    return;
  }
  const auto dir =
      std::filesystem::temp_directory_path() / ("eda-trace-dot-" + eda::new_event_id());
  std::filesystem::create_directories(dir);
  const std::string dot_file = (dir / "broken.dot").string();
  const std::string svg_file = (dir / "broken.svg").string();
  std::ofstream(dot_file) << "digraph {\n  a -> \n";  // dot prints its syntax error, exits 1
  CHECK_THROWS_WITH(eda::trace::render_svg(dot_file, svg_file),
                    "dot failed to render " + svg_file + " from " + dot_file + " (dot -Tsvg " +
                        dot_file + " -o " + svg_file + ": exit 1)");
  std::filesystem::remove_all(dir);
}
