#include "scenes.hpp"

#include <iostream>
#include <stdexcept>
#include <utility>

#include "eda/cli.hpp"
#include "eda/clock.hpp"
#include "eda/latency.hpp"
#include "eda/sourcing/memory_store.hpp"
#include "eda/sourcing/open_store.hpp"
#include "narration.hpp"

namespace eda::sourcing::demo {

using namespace std::chrono_literals;

namespace {

/// An EventStore in which another writer appends just before our next append, once.
class RivalBeforeNextAppend final : public ForwardingEventStore {
 public:
  RivalBeforeNextAppend(EventStore& inner, eda::Narrator& say)
      : ForwardingEventStore(inner), say_(say) {}
  AppendResult append(std::string_view stream, const ExpectedVersion& expected,
                      std::span<const EventData> events) override {
    if (!done_) {
      done_ = true;
      OrderRepository rival(inner(), {.source = "warehouse-terminal"});
      rival.execute(std::stoull(std::string(stream.substr(6))), AddItem{"gift-wrap", 1, 300});
      say_.say("warehouse", "meanwhile, another terminal added gift-wrap to the same order");
    }
    return inner().append(stream, expected, events);
  }

 private:
  eda::Narrator& say_;
  bool done_ = false;
};

std::unique_ptr<EventStore> open_story_store(const std::string& db) {
  if (db.empty()) return std::make_unique<InMemoryEventStore>();
  return open_event_store(db);  // FILE, sqlite:FILE or postgresql://...
}

}  // namespace

StoreRun::StoreRun(const StoryOptions& story_options, Narrator& narrator,
                   zmq::context_t& run_context, const CurveSetup& run_curve)
    : options(story_options),
      say(narrator),
      curve(run_curve),
      store(open_story_store(story_options.db)),
      notifying([&]() -> std::optional<NotifyingEventStore> {
        // --trace: the store announces every append on ZeroMQ, as the store service does for
        // its readers, and the demo's tap follows the announcements.
        if (!story_options.trace) return std::nullopt;
        return std::optional<NotifyingEventStore>(
            std::in_place, *store, run_context,
            eda::ephemeral_endpoint(story_options.transport, "store-appends"), run_curve.server());
      }()),
      trace([&]() -> std::optional<trace::DemoTrace> {
        if (!notifying) return std::nullopt;
        narrator.say("tracer", "taps the store's append notifications on " + notifying->endpoint());
        return std::optional<trace::DemoTrace>(
            std::in_place, run_context,
            eda::trace::DemoTraceOptions{.endpoints = {notifying->endpoint()},
                                         .trees_shown = 3,
                                         .security = run_curve.client(),
                                         .serve_publishers = [this] { notifying->serve(5ms); }});
      }()),
      events(notifying ? static_cast<EventStore&>(*notifying) : *store),
      // Order ids continue after what a kept database (--db) already holds.
      first(events.last_position() + 1),
      orders(events),
      contested(first + story_options.count) {}

int say_stopped(StoreRun& run) {
  const std::string& db = run.options.db;
  run.say.say(
      "event-store",
      "stopped: " + (db.empty() ? std::to_string(run.events.last_position()) +
                                      " events were in memory; nothing kept"
                                : "the store keeps " + std::to_string(run.events.last_position()) +
                                      " events in " + describe_store_spec(db)));
  return 0;
}

bool commands_become_events(StoreRun& run) {
  run.say.heading("Event sourcing: every change is an event appended to the order's stream");
  run.say.say("event-store", run.options.db.empty()
                                 ? "in memory"
                                 : describe_store_spec(run.options.db) + " (" +
                                       std::to_string(run.first - 1) + " events already in it)");
  for (const auto& [order, command] : story(run.first, run.options.count)) {
    if (eda::cli::stop_requested()) return false;
    demo::run(run.say, run.orders, order, command);
  }
  return !eda::cli::stop_requested();
}

bool history_and_temporal_query(StoreRun& run) {
  Narrator& say = run.say;
  say.heading("The history of order " + std::to_string(run.first) +
              ", and its state rebuilt from it");
  for (const RecordedEvent& recorded : run.orders.history(run.first)) {
    say.say("history", "v" + std::to_string(recorded.version) + " " + recorded.event.meta().type +
                           ": " + describe(order_event_from(recorded)));
  }
  const LoadedOrder now = run.orders.load(run.first);
  say.say("replay", "now: " + describe(now.state));
  const LoadedOrder then = run.orders.load_as_of_version(run.first, 2);
  say.say("temporal", "as of version 2: " + describe(then.state) +
                          " (CRUD cannot answer this: the row holds only the present)");
  return true;
}

bool concurrent_writers(StoreRun& run) {
  if (eda::cli::stop_requested()) return false;
  run.say.heading("Two writers, one order: the conflict is detected, the command decided again");
  demo::run(run.say, run.orders, run.contested, PlaceOrder{"carol"});
  RivalBeforeNextAppend racing(run.events, run.say);
  OrderRepository ours(racing);
  const CommandOutcome outcome = ours.execute(run.contested, AddItem{"widget", 1, 1250});
  run.say.say("order-service", "our AddItem stored on attempt " + std::to_string(outcome.attempts) +
                                   " (the first expected version 1 and found 2); order now: " +
                                   describe(outcome.state));
  return true;
}

bool old_event_upcast(StoreRun& run) {
  run.say.heading("An event written by an older version of the service");
  run.events.append(order_stream(run.contested), ExpectedVersion::exactly(3),
                    std::vector{EventData::of(eda::make_metadata<ItemAddedV1>("order-service-v1"),
                                              ItemAddedV1{"gizmo", 1, 4.99})});
  run.say.say("event-store", "stored ItemAdded schema version 1: price 4.99 as euros (a float)");
  run.say.say("upcaster", "loaded as version 2: " +
                              describe(order_event_from(run.orders.history(run.contested).back())) +
                              "; order now: " + describe(run.orders.load(run.contested).state));
  return true;
}

bool snapshots_of_a_long_stream(StoreRun& run) {
  run.say.heading("A long stream, loaded with and without snapshots");
  const std::uint64_t busy = run.contested + 1;
  OrderRepository snapshotting(run.events, {.snapshot_every = 100});
  snapshotting.execute(busy, PlaceOrder{"dave"});
  for (std::size_t i = 1; i < run.options.long_stream + 7; ++i) {  // a tail after the last snapshot
    if (eda::cli::stop_requested()) return false;
    snapshotting.execute(busy, AddItem{"part-" + std::to_string(i % 50), 1, 10});
  }
  const auto time_load = [&](bool use_snapshot) {
    eda::LatencyRecorder recorder;
    LoadedOrder loaded;
    for (int i = 0; i < 20; ++i) {
      const std::int64_t start = eda::monotonic_ns();
      loaded = use_snapshot ? snapshotting.load(busy) : [&] {
        LoadedOrder full;  // a full replay, ignoring the snapshot
        for (const RecordedEvent& r : snapshotting.history(busy)) {
          full.state = evolve(std::move(full.state), order_event_from(r));
          ++full.events_replayed;
        }
        return full;
      }();
      recorder.record(eda::monotonic_ns() - start);
    }
    return std::pair{loaded, recorder.summary()};
  };
  const auto [replayed, full] = time_load(false);
  const auto [fast, snapped] = time_load(true);
  run.say.say("repository", std::to_string(replayed.events_replayed) + " events replayed: p50 " +
                                eda::format_duration(full.p50_ns));
  run.say.say("repository", "snapshot at v" + std::to_string(fast.snapshot_version) + " + " +
                                std::to_string(fast.events_replayed) + " events: p50 " +
                                eda::format_duration(snapped.p50_ns) +
                                ", same state: " + (fast.state == replayed.state ? "yes" : "NO"));
  if (fast.state != replayed.state) {
    throw std::runtime_error("the snapshot gave another state than the full replay");
  }
  return true;
}

void summary(StoreRun& run) {
  run.say.heading("Summary");
  run.say.say("event-store", std::to_string(run.events.last_position()) +
                                 " events stored; every state above was computed from them");
  if (run.trace) {
    (void)run.trace->report(std::cout, run.notifying->announcements());
  }
}

}  // namespace eda::sourcing::demo
