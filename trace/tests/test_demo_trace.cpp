// A demo's --trace: the tap is connected before the story starts, the report at the end shows
// the first trees, says when messages are missing, and a publisher that never answers is named.

#include <sstream>
#include <thread>

#include <catch2/catch.hpp>

#include "eda/endpoint.hpp"
#include "eda/trace/demo_trace.hpp"
#include "scenario.hpp"

using namespace std::chrono_literals;

TEST_CASE("trace: a demo trace is ready before the story and reports the first trees") {
  zmq::context_t context;
  std::vector<std::string> endpoints;
  for (const auto& service : trace_test::services) {
    endpoints.push_back(eda::ephemeral_endpoint(eda::Transport::inproc, service));
  }
  trace_test::ScenarioPublishers publishers(context, endpoints);
  bool subscribed = false;
  std::thread serving([&] { subscribed = publishers.await_subscribers(1, 10s); });
  eda::trace::DemoTrace trace(context, {.endpoints = publishers.endpoints(), .trees_shown = 1});
  serving.join();
  REQUIRE(subscribed);

  const auto events = trace_test::shop_scenario({});
  publishers.publish(events);
  std::ostringstream out;
  const auto analysis = trace.report(out, events.size() + 2, 300ms);
  CHECK(analysis.messages == events.size());  // nothing published after the handshake is missed
  const std::string text = out.str();
  CHECK_THAT(text,
             Catch::StartsWith("\n== Trace of this run: tapped " + publishers.endpoints()[0]));
  CHECK_THAT(text, Catch::Contains("(the tap saw " + std::to_string(events.size()) + " of the " +
                                   std::to_string(events.size() + 2) + " messages expected"));
  CHECK_THAT(text,
             Catch::Contains("== Causal trees: 2 correlations") &&
                 Catch::Contains("order-service #1") && !Catch::Contains("order-service #2") &&
                 Catch::Contains("... and 1 more") && Catch::Contains("== Problems: none ==") &&
                 Catch::Contains("== Summary: " + std::to_string(events.size()) + " messages"));

  std::ostringstream again;
  CHECK(trace.report(again, 1, 10ms).messages == 0);  // reported once
  CHECK(again.str().empty());
}

TEST_CASE("trace: a demo trace serves publishers that live on the calling thread") {
  zmq::context_t context;
  std::vector<std::string> endpoints;
  for (const auto& service : trace_test::services) {
    endpoints.push_back(eda::ephemeral_endpoint(eda::Transport::inproc, service));
  }
  trace_test::ScenarioPublishers publishers(context, endpoints);
  int turns = 0;
  eda::trace::DemoTrace trace(context,
                              {.endpoints = publishers.endpoints(), .serve_publishers = [&] {
                                 ++turns;
                                 (void)publishers.await_subscribers(1, 5ms);
                               }});
  CHECK(turns > 0);
  const auto events = trace_test::shop_scenario({}, 1);
  publishers.publish(events);
  std::ostringstream out;
  CHECK(trace.report(out, events.size()).messages == events.size());
  CHECK_THAT(out.str(),
             Catch::Contains("== Problems: none ==") && !Catch::Contains("(the tap saw"));
}

TEST_CASE("trace: a demo trace whose publisher never answers says which one") {
  zmq::context_t context;
  const std::string silent = eda::ephemeral_endpoint(eda::Transport::inproc, "nobody");
  zmq::socket_t bound(context, zmq::socket_type::xpub);  // bound, but nobody answers hellos
  bound.bind(silent);
  CHECK_THROWS_WITH(
      eda::trace::DemoTrace(context, {.endpoints = {silent}, .handshake_timeout = 100ms}),
      Catch::Contains("--trace: the tap's subscription was not confirmed within 100 ms by " +
                      silent));
  CHECK_THROWS_WITH(eda::trace::DemoTrace(context, {}),
                    Catch::Contains("needs at least one publisher endpoint"));
}
