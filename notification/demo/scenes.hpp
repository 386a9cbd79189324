/// @file scenes.hpp
/// @brief The notification demo's all-in-one run, scene by scene: the Order service opens,
///        the consumers subscribe (one of them down, with `--down`), the customer places its
///        orders, the run winds down, and the summary checks "effectively once". Every scene is
///        a function of the run's state (PatternRun), so the run reads as a list of them.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "eda/curve_setup.hpp"
#include "eda/latency.hpp"
#include "eda/narrator.hpp"
#include "eda/notification/consumer.hpp"
#include "eda/notification/order_service.hpp"
#include "eda/trace/demo_trace.hpp"
#include "story.hpp"

namespace eda::notification::demo {

/// @brief Everything one all-in-one run holds: the Order service (served on a thread of its
///        own), the consumers' threads and what they report, the signals the threads wait
///        on, the customer's orders, and the trace.
///
/// The context (and its CURVE settings) belong to the caller, who keeps them alive longer.
/// The destructor tells every thread to finish and joins it, also when a scene throws.
struct PatternRun {
  /// @brief Binds the Order service; nothing runs yet.
  PatternRun(const Settings& settings, Narrator& say, zmq::context_t& context,
             const CurveSetup& curve);
  /// @brief Ends and joins every thread still running.
  ~PatternRun();
  PatternRun(const PatternRun&) = delete;
  PatternRun& operator=(const PatternRun&) = delete;

  const Settings& settings;               ///< What the command line said.
  Narrator& say;                          ///< Where the story is told.
  zmq::context_t& context;                ///< The process's one context.
  const CurveSetup& curve;                ///< Its CURVE set-up: each socket's Security.
  OrderService service;                   ///< The producer.
  std::atomic<bool> service_done{false};  ///< Tells the service's thread to end.
  std::thread service_thread;             ///< Serves the Order service.
  std::vector<std::thread> consumers;     ///< One per downstream role.

  Signal bound;        ///< One arrival per consumer: its follow-ups are published (or it failed).
  Signal ready;        ///< One arrival per consumer, ready (or down) or failed.
  Signal half_placed;  ///< Raised once half the orders are placed: a down consumer comes back.
  std::atomic<bool> no_more_orders{false};  ///< The customer gave up: nothing more to wait for.

  std::mutex stats_mutex;  ///< Guards the three members below (the consumers write them).
  std::vector<std::string> follow_up_endpoints;      ///< Where each consumer publishes.
  std::map<std::string, ConsumerStats> final_stats;  ///< Each consumer's, when it ended.
  /// How often each consumer's reaction ran for each order id: "effectively once" is checked
  /// on these, order by order, not on a count.
  std::map<std::string, std::map<std::uint64_t, int>> reactions;

  std::optional<trace::DemoTrace> trace;  ///< With `--trace`: the tap.
  LatencyRecorder place_latency;          ///< PlaceOrder as the customer saw it.
  std::vector<std::uint64_t> placed;      ///< The order ids the Order service answered with.
  std::string customer_failure;           ///< Why orders could not be placed (empty: they could).
};

/// @brief Says where the Order service publishes and answers, and starts serving it.
void open_order_service(PatternRun& run);
/// @brief Starts inventory, shipping and billing, each on a thread of its own; returns once
///        each has bound its follow-ups.
void start_consumers(PatternRun& run);
/// @brief With `--trace`, taps the Order service and the consumers' follow-ups; then waits
///        until every consumer is subscribed (or down).
void start_trace(PatternRun& run);
/// @brief The customer places `--count` orders, each answered at once; a stop request or a
///        failure ends the orders early.
void customer_places_orders(PatternRun& run);
/// @brief Lets the consumers finish and stops the Order service; throws when the customer
///        could not place its orders.
void wind_down(PatternRun& run);
/// @brief The last line of a run stopped by Ctrl-C or SIGTERM: how far it got.
void say_stopped(PatternRun& run);
/// @brief The customer's latency, each consumer's counts, and whether every consumer handled
///        each order exactly once (the trace's report with `--trace`). True when it did.
bool summary(PatternRun& run);

}  // namespace eda::notification::demo
