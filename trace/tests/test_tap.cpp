// The wire tap on real kit publishers: after its handshake it misses nothing, keeps duplicates
// and malformed messages, and what it captures analyses like the scripted capture.

#include <algorithm>
#include <sstream>

#include <catch2/catch.hpp>

#include "eda/clock.hpp"
#include "eda/endpoint.hpp"
#include "eda/trace/report.hpp"
#include "eda/trace/tap.hpp"
#include "eda/wire.hpp"
#include "scenario.hpp"

using namespace std::chrono_literals;

namespace {

constexpr auto generous = 10s;

std::vector<std::string> ephemeral_endpoints(eda::Transport transport) {
  std::vector<std::string> out;
  for (const auto& service : trace_test::services)
    out.push_back(eda::ephemeral_endpoint(transport, service));
  return out;
}

/// The analysis with the tap's own timing and arrival order removed, for comparing a tapped
/// run with the script: three publishers' connections interleave their messages as they like.
std::string shape_of(const eda::trace::Analysis& analysis) {
  std::vector<std::string> lines;
  for (const auto& tree : analysis.trees) {
    lines.push_back("tree " + tree.correlation_id + " " + std::to_string(tree.event_count));
    for (const auto& node : tree.nodes) {
      std::vector<std::string> children;
      for (const auto child : node.children) children.push_back(tree.nodes[child].event_id);
      std::sort(children.begin(), children.end());
      std::string line = tree.correlation_id + ": " + node.event_id + " ->";
      for (const auto& child : children) line += " " + child;
      lines.push_back(line);
    }
  }
  for (const auto& problem : analysis.problems) {
    lines.push_back(std::string(eda::trace::to_string(problem.kind)) + " " + problem.event_id);
  }
  std::sort(lines.begin(), lines.end());
  std::string text;
  for (const auto& line : lines) text += line + "\n";
  return text;
}

/// The tap's handshake needs both sides to take turns: the publishers answer, the tap reads the
/// answers and subscribes to the next round. One thread here, so it alternates, bounded.
bool connect(trace_test::ScenarioPublishers& publishers, eda::trace::Tap& tap) {
  const eda::Deadline deadline(generous);
  bool published = false;
  bool tapped = false;
  while (!(published && tapped) && !deadline.expired()) {
    published = publishers.await_subscribers(1, 10ms);
    tapped = tap.await_handshake(10ms);
  }
  return published && tapped;
}

}  // namespace

TEST_CASE(
    "trace: a tap on three publishers captures every event of the scenario, faults included") {
  const auto transport = GENERATE(eda::Transport::inproc, eda::Transport::ipc, eda::Transport::tcp);
  CAPTURE(eda::to_string(transport));
  zmq::context_t context;
  trace_test::ScenarioPublishers publishers(context, ephemeral_endpoints(transport));
  eda::trace::Tap tap(context, {.endpoints = publishers.endpoints()});
  REQUIRE(connect(publishers, tap));

  const auto events = trace_test::shop_scenario(
      {.gap = true, .duplicate = true, .missing_cause = true, .out_of_order = true});
  publishers.publish(events);
  const eda::Deadline deadline(generous);
  while (tap.capture().messages.size() < events.size() && !deadline.expired()) {
    (void)tap.poll(100ms);
  }
  REQUIRE(tap.capture().messages.size() == events.size());
  CHECK(tap.capture().info.endpoints == publishers.endpoints());

  const auto tapped = eda::trace::analyse(tap.capture());
  const auto scripted =
      eda::trace::analyse(trace_test::capture_of(events, tap.capture().info.started_ns));
  CHECK(tapped.faults() == 4);
  CHECK(shape_of(tapped) == shape_of(scripted));
}

TEST_CASE("trace: a tap keeps malformed messages in its capture, raw") {
  zmq::context_t context;
  // A raw XPUB stands in for a broken publisher: its subscription message is the signal that
  // the tap is connected (no sleeping).
  zmq::socket_t broken(context, zmq::socket_type::xpub);
  const std::string endpoint =
      eda::bind_endpoint(broken, eda::ephemeral_endpoint(eda::Transport::inproc, "broken"));
  eda::trace::Tap tap(context, {.endpoints = {endpoint}});
  REQUIRE(eda::wait_readable(broken, generous));
  zmq::message_t subscription;
  REQUIRE(broken.recv(subscription));
  const auto good = trace_test::shop_scenario({}, 1).front();
  REQUIRE(eda::send_event_frames(broken, "shop.order.placed", "\xc1 garbage"));
  REQUIRE(eda::send_event(broken, good.envelope));
  const eda::Deadline deadline(generous);
  while (tap.capture().messages.size() < 2 && !deadline.expired()) (void)tap.poll(100ms);
  REQUIRE(tap.capture().messages.size() == 2);
  CHECK(tap.capture().messages[0].frames ==
        std::vector<std::string>{"shop.order.placed", "\xc1 garbage"});
  CHECK(tap.capture().messages[1].frames == std::vector<std::string>{good.envelope});
  const auto analysis = eda::trace::analyse(tap.capture());
  CHECK(analysis.count(eda::trace::ProblemKind::malformed) == 1);
  CHECK(analysis.events.size() == 1);
}

TEST_CASE("trace: a tap stops keeping at its bound and counts the rest") {
  zmq::context_t context;
  trace_test::ScenarioPublishers publishers(context, ephemeral_endpoints(eda::Transport::inproc));
  eda::trace::Tap tap(context, {.endpoints = publishers.endpoints(), .max_messages = 3});
  REQUIRE(connect(publishers, tap));
  const auto events = trace_test::shop_scenario({});
  publishers.publish(events);
  const eda::Deadline deadline(generous);
  while (tap.capture().messages.size() + tap.overflowed() < events.size() && !deadline.expired()) {
    (void)tap.poll(100ms);
  }
  CHECK(tap.capture().messages.size() == 3);
  CHECK(tap.overflowed() == events.size() - 3);
}

TEST_CASE("trace: a background tap runs beside a demo and reports at the end") {
  zmq::context_t context;
  trace_test::ScenarioPublishers publishers(context, ephemeral_endpoints(eda::Transport::inproc));
  eda::trace::BackgroundTap tap(context, {.endpoints = publishers.endpoints()});
  REQUIRE(publishers.await_subscribers(1, generous));
  REQUIRE(tap.await_handshake(generous));
  const auto events = trace_test::shop_scenario({.out_of_order = true});
  publishers.publish(events);
  REQUIRE(tap.await_messages(events.size(), generous));
  CHECK(tap.captured() == events.size());
  const auto capture = tap.stop();
  CHECK(capture.messages.size() == events.size());
  CHECK(tap.stop().messages.empty());  // stopping twice is harmless
  const auto analysis = eda::trace::analyse(capture);
  std::ostringstream report;
  eda::trace::print_report(report, analysis);
  CHECK_THAT(
      report.str(),
      Catch::Contains("== Causal trees: 2 correlations") &&
          Catch::Contains("out_of_order_reaction") &&
          Catch::Contains(
              "== Summary: 8 messages, 8 events, 2 correlations; 1 out_of_order_reaction =="));
}

TEST_CASE("trace: a background tap that is never stopped by hand stops in its destructor") {
  zmq::context_t context;
  trace_test::ScenarioPublishers publishers(context, ephemeral_endpoints(eda::Transport::inproc));
  {
    eda::trace::BackgroundTap tap(context, {.endpoints = publishers.endpoints()});
    CHECK_FALSE(tap.await_messages(1, 10ms));  // nothing published: a bounded wait says so
  }
  SUCCEED("the destructor joined the tap's thread");
}
