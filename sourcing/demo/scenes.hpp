/// @file scenes.hpp
/// @brief The sourcing demo's all-in-one run, scene by scene: commands become events, one
///        order's history and its state as of an earlier version, a concurrency conflict, an
///        old-schema event upcast, a long stream loaded with and without snapshots. Every
///        scene is a function of the run's state (StoreRun), so the run reads as a list of them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <zmq.hpp>

#include "eda/curve_setup.hpp"
#include "eda/endpoint.hpp"
#include "eda/narrator.hpp"
#include "eda/sourcing/order_repository.hpp"
#include "eda/sourcing/subscription.hpp"
#include "eda/trace/demo_trace.hpp"

namespace eda::sourcing::demo {

/// @brief What the command line tells the all-in-one run.
struct StoryOptions {
  std::size_t count = 5;                    ///< `--count`: orders in the story.
  Transport transport = Transport::inproc;  ///< `--transport`: of the store's announcements.
  std::string db{};                         ///< `--db`: a store kept between runs (empty: memory).
  std::size_t long_stream = 2000;           ///< `--long-stream`: events in the long stream.
  bool trace = false;  ///< `--trace`: the store announces its appends, a tap follows them.
};

/// @brief Everything one all-in-one run holds: the event store (announcing its appends with
///        `--trace`), the tap, the repository of orders, and the order ids the story uses.
///
/// The context (and its CURVE settings) belong to the caller, who keeps them alive longer.
struct StoreRun {
  /// @brief Opens the store (`--db`, or memory) and, with `--trace`, starts the tap; their
  ///        sockets get their Security from `curve`.
  StoreRun(const StoryOptions& options, Narrator& say, zmq::context_t& context,
           const CurveSetup& curve);

  const StoryOptions& options;                   ///< What the command line said.
  Narrator& say;                                 ///< Where the story is told.
  const CurveSetup& curve;                       ///< The context's CURVE set-up.
  std::unique_ptr<EventStore> store;             ///< The source of truth.
  std::optional<NotifyingEventStore> notifying;  ///< With `--trace`: the store, announcing.
  std::optional<trace::DemoTrace> trace;         ///< With `--trace`: the tap.
  EventStore& events;                            ///< What the story writes to.
  const std::uint64_t first;      ///< The first order id: after what a kept `--db` holds.
  OrderRepository orders;         ///< Commands in, events out.
  const std::uint64_t contested;  ///< The order two writers change at once.
};

/// @brief The last line of a run stopped by Ctrl-C or SIGTERM: where the events are. Returns 0.
int say_stopped(StoreRun& run);

// Each scene returns false when a stop request cut it short (nothing printed about it yet).

/// @brief The story's commands, each stored as events on its order's stream.
bool commands_become_events(StoreRun& run);
/// @brief The first order's history, its state replayed, and its state as of version 2.
bool history_and_temporal_query(StoreRun& run);
/// @brief Two writers change one order: the conflict is detected, the command decided again.
bool concurrent_writers(StoreRun& run);
/// @brief An event stored in schema version 1 loads as version 2 through the upcaster.
bool old_event_upcast(StoreRun& run);
/// @brief A long stream loaded by full replay and from a snapshot; throws if they differ.
bool snapshots_of_a_long_stream(StoreRun& run);
/// @brief How many events were stored; the trace's report with `--trace`.
void summary(StoreRun& run);

}  // namespace eda::sourcing::demo
