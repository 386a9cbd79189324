/// @file store_workloads.hpp
/// @brief The event store workloads that bench-sourcing (the store against CRUD) and
///        bench-event-stores (SQLite against PostgreSQL) both measure, written once so that
///        both programs measure the same thing: scratch files, the shop's events, a long order,
///        a big store to replay, and concurrent writers through the store service.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <stop_token>
#include <string>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <vector>

#include "eda/clock.hpp"
#include "eda/latency.hpp"
#include "eda/sourcing/append_pipeline.hpp"
#include "eda/sourcing/event_store.hpp"
#include "eda/sourcing/order.hpp"
#include "eda/sourcing/order_repository.hpp"
#include "eda/sourcing/store_service.hpp"
#include "eda/workloads/order_life.hpp"
#include "environment.hpp"
#include "latency_counters.hpp"
#include "scratch_file.hpp"

namespace eda::bench {

/// @brief One order's events as the shop writes them: placed, eight items, one removed.
inline std::vector<sourcing::OrderEvent> order_life(std::uint64_t order_id) {
  std::vector<sourcing::OrderEvent> events{
      sourcing::OrderPlaced{order_id % 2 == 0 ? "alice" : "bob"}};
  for (int i = 0; i < 8; ++i)
    events.emplace_back(sourcing::ItemAdded{"part-" + std::to_string(i), 1, 250});
  events.emplace_back(sourcing::ItemRemoved{"part-0"});
  return events;
}

/// @brief `count` events for one transaction: the start of an order's life, then more items.
inline std::vector<sourcing::EventData> transaction_of(std::uint64_t order_id, std::size_t count) {
  std::vector<sourcing::EventData> events;
  for (const sourcing::OrderEvent& event : order_life(order_id)) {
    if (events.size() == count) break;
    events.push_back(sourcing::to_event_data(event, "bench"));
  }
  while (events.size() < count) {
    events.push_back(sourcing::to_event_data(sourcing::ItemAdded{"more", 1, 10}, "bench"));
  }
  return events;
}

/// @brief Appends transactions of `per_transaction` events, each to a new stream, in a loop.
///        items/s = events/s; p50/p99 per transaction.
inline void measure_appends(benchmark::State& state, sourcing::EventStore& store,
                            std::size_t per_transaction) {
  eda::LatencyRecorder recorder;
  std::uint64_t stream = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const std::vector<sourcing::EventData> events = transaction_of(++stream, per_transaction);
    state.ResumeTiming();
    const std::int64_t start = eda::monotonic_ns();
    store.append(sourcing::order_stream(stream), sourcing::ExpectedVersion::no_stream(), events);
    recorder.record(eda::monotonic_ns() - start);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(per_transaction));
  set_latency_counters(state, recorder);
}

/// @brief One order command end to end per iteration, `execute(order id, command)`, order
///        after order through eda::workloads::order_life(). items/s = commands/s; p50/p99 per
///        command.
template <class Execute>
void measure_commands(benchmark::State& state, Execute execute) {
  const std::vector<sourcing::OrderCommand>& life = eda::workloads::order_life();
  eda::LatencyRecorder recorder;
  std::uint64_t n = 0;
  for (auto _ : state) {
    const std::uint64_t order = n / life.size() + 1;
    const std::int64_t start = eda::monotonic_ns();
    execute(order, life[n % life.size()]);
    recorder.record(eda::monotonic_ns() - start);
    ++n;
  }
  state.SetItemsProcessed(state.iterations());
  set_latency_counters(state, recorder);
}

/// @brief The order id in a stream name `order-<id>`.
inline std::uint64_t order_id_of(const std::string& stream) {
  return std::strtoull(stream.c_str() + 6, nullptr, 10);
}

/// @brief Writes order 1 with `events` events to `store`, with a snapshot at the last multiple
///        of 100 when `snapshots` (what a repository saving one every 100 events leaves).
///        All but the last event are appended in one go (executing commands one by one would
///        replay the growing stream each time: setting up would dwarf what is measured); the
///        last one goes through a repository, which saves the snapshot its version is due.
inline void write_long_order(sourcing::EventStore& store, std::uint64_t events, bool snapshots) {
  using namespace sourcing;
  const auto item = [](std::uint64_t i) {
    return ItemAdded{"part-" + std::to_string(i % 50), 1, 10};
  };
  std::vector<EventData> batch{to_event_data(OrderPlaced{"dave"}, "bench")};
  for (std::uint64_t i = 1; i + 1 < events; ++i) batch.push_back(to_event_data(item(i), "bench"));
  store.append(order_stream(1), ExpectedVersion::no_stream(), batch);
  if (events < 2) return;
  OrderRepository orders(store, {.snapshot_every = snapshots ? 100u : 0u});
  const ItemAdded last = item(events - 1);
  (void)orders.execute(1, AddItem{last.sku, last.quantity, last.unit_price_cents});
}

/// @brief Loads order 1 (see write_long_order) in a loop; `events_replayed` per load, and
///        p50/p99 load latency.
inline void measure_loads(benchmark::State& state, sourcing::EventStore& store, bool snapshots) {
  sourcing::OrderRepository orders(store, {.snapshot_every = snapshots ? 100u : 0u});
  eda::LatencyRecorder recorder;
  std::uint64_t replayed = 0;
  for (auto _ : state) {
    const std::int64_t start = eda::monotonic_ns();
    const sourcing::LoadedOrder loaded = orders.load(1);
    recorder.record(eda::monotonic_ns() - start);
    replayed = loaded.events_replayed;
    benchmark::DoNotOptimize(loaded);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["events_replayed"] = static_cast<double>(replayed);
  set_latency_counters(state, recorder);
}

/// @brief Fills `store` with `wanted` events: orders of ten events each, a thousand events per
///        append_all(). Says how far it got on stderr when that takes more than two seconds.
/// @return The number of events written (`wanted`).
inline std::uint64_t fill_with_orders(sourcing::EventStore& store, std::uint64_t wanted,
                                      const std::string& what) {
  using namespace std::chrono_literals;
  using namespace sourcing;
  const eda::Deadline quiet(2s);
  std::uint64_t written = 0;
  std::uint64_t order = 0;
  while (written < wanted) {
    std::vector<AppendRequest> group;
    for (std::uint64_t in_group = 0; in_group < 1000 && written < wanted;) {
      AppendRequest request{order_stream(++order), ExpectedVersion::no_stream(), {}};
      for (const OrderEvent& event : order_life(order)) {
        if (written == wanted) break;
        request.events.push_back(to_event_data(event, "bench"));
        ++written;
        ++in_group;
      }
      group.push_back(std::move(request));
    }
    (void)store.append_all(group);
    if (quiet.expired() && order % 10'000 == 0) {
      std::cerr << "\r" << what << ": " << written << " of " << wanted << " events" << std::flush;
    }
  }
  if (quiet.expired()) std::cerr << "\r" << what << ": " << written << " events, done\n";
  return written;
}

/// @brief Reads every event of `store` in position order, a page at a time, handing each to
///        `visit`; returns how many there were.
template <class Visit>
std::uint64_t read_everything(const sourcing::EventStore& store, Visit visit) {
  constexpr std::size_t page_size = 10'000;
  std::uint64_t count = 0;
  for (std::uint64_t from = 1;;) {
    const std::vector<sourcing::RecordedEvent> page = store.read_all(from, page_size);
    for (const sourcing::RecordedEvent& recorded : page) visit(recorded);
    count += page.size();
    if (page.size() < page_size) return count;
    from = page.back().position + 1;
  }
}

/// @brief Replays all of `store` (holding `events` events): read, decode (upcasting where
///        needed) and fold each event with evolve() into its order, kept by order id as a
///        projection would. items/s = events/s.
inline void measure_replay(benchmark::State& state, const sourcing::EventStore& store,
                           std::uint64_t events) {
  using namespace sourcing;
  std::uint64_t folded = 0;
  for (auto _ : state) {
    std::unordered_map<std::uint64_t, OrderState> orders;
    orders.reserve(events / 10 + 1);
    folded = read_everything(store, [&](const RecordedEvent& recorded) {
      OrderState& order = orders[order_id_of(recorded.stream)];
      order = evolve(std::move(order), order_event_from(recorded));
    });
    benchmark::DoNotOptimize(orders);
  }
  if (folded != events) state.SkipWithError("the replay did not see every event");
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(events));
}

/// @brief `clients` threads, each appending one event at a time (`appends_each` per
///        iteration, to a stream of its own, `writer-<c>`) through `stores[c]`. Sets p50/p99
///        per append as a writer sees it; returns false (after saying why) when a writer failed.
template <class Store>
bool run_one_event_writers(benchmark::State& state,
                           const std::vector<std::unique_ptr<Store>>& stores,
                           std::uint64_t appends_each) {
  using namespace sourcing;
  std::vector<eda::LatencyRecorder> recorders(stores.size());
  std::atomic<bool> failed{false};
  for (auto _ : state) {
    std::vector<std::jthread> threads;
    for (std::size_t c = 0; c < stores.size(); ++c) {
      threads.emplace_back([&, c] {
        try {
          for (std::uint64_t n = 0; n < appends_each; ++n) {
            const std::vector event{to_event_data(ItemAdded{"part", 1, 10}, "writer")};
            const std::int64_t start = eda::monotonic_ns();
            stores[c]->append("writer-" + std::to_string(c), ExpectedVersion::any(), event);
            recorders[c].record(eda::monotonic_ns() - start);
          }
        } catch (const std::exception& e) {
          std::cerr << "writer " << c << ": " << e.what() << "\n";
          failed = true;
        }
      });
    }
  }
  if (failed) {
    state.SkipWithError("a writer failed (see above)");
    return false;
  }
  eda::LatencyRecorder all;
  for (const auto& recorder : recorders) all.merge(recorder);
  set_latency_counters(state, all);
  return true;
}

/// @brief A StoreService over a store on tcp loopback, served by a thread of its own until
///        report(): the service the writers of the two measurements below append through.
class ServedStore {
 public:
  /// @brief Serves `store`, committing up to `max_group` appends together.
  ServedStore(zmq::context_t& context, sourcing::EventStore& store, std::size_t max_group)
      : service_(context, store, {.endpoints = {"tcp://127.0.0.1:*"}, .max_group = max_group}),
        serving_([this](const std::stop_token& stop) {
          using namespace std::chrono_literals;
          while (!stop.stop_requested()) (void)service_.serve_once(5ms);
        }) {}

  /// @brief Where the writers connect.
  [[nodiscard]] const std::string& endpoint() const { return service_.endpoints().front(); }

  /// @brief Stops serving, then sets items/s (appends answered: durable events) and
  ///        `events_per_commit` on `state`.
  void report(benchmark::State& state) {
    serving_.request_stop();
    serving_.join();
    const sourcing::StoreServiceStats& stats = service_.stats();
    state.SetItemsProcessed(static_cast<std::int64_t>(stats.appends));
    state.counters["events_per_commit"] =
        stats.groups > 0 ? static_cast<double>(stats.appends) / static_cast<double>(stats.groups)
                         : 0;
  }

 private:
  sourcing::StoreService service_;
  std::jthread serving_;  ///< Last: it starts once the service exists.
};

/// @brief `clients` writers, each appending one event at a time (`appends_each` per
///        iteration, to a stream of its own) through a StoreService on tcp loopback that
///        serves `store`. `max_group` = 1 commits each append on its own; more lets the service
///        commit the appends that wait together (group commit). items/s = durable events/s;
///        `events_per_commit`; p50/p99 per append as a writer sees it.
inline void measure_service_writers(benchmark::State& state, sourcing::EventStore& store,
                                    std::size_t clients, std::size_t max_group,
                                    std::uint64_t appends_each) {
  using namespace std::chrono_literals;
  using namespace sourcing;
  zmq::context_t context;
  ServedStore service(context, store, max_group);
  std::vector<std::unique_ptr<RemoteEventStore>> writers;
  for (std::size_t c = 0; c < clients; ++c) {
    writers.push_back(std::make_unique<RemoteEventStore>(
        context, eda::RpcClientOptions{.endpoint = service.endpoint(), .timeout = 30s}));
  }
  // A writer that fails marks the run skipped, with the reason, itself.
  (void)run_one_event_writers(state, writers, appends_each);
  service.report(state);
}

/// @brief One pipelining writer of measure_pipelined_writers(): `appends` appends of one event
///        to `stream` through a pipeline of `in_flight`, each append's time from sending it to
///        its outcome recorded in `recorder`. False (after saying why) when any failed.
inline bool write_pipelined(zmq::context_t& context, const std::string& endpoint,
                            const std::string& stream, std::size_t in_flight, std::uint64_t appends,
                            eda::LatencyRecorder& recorder) {
  using namespace std::chrono_literals;
  using namespace sourcing;
  bool ok = true;
  // Each append's send time, by ticket: at most `in_flight` are outstanding, so a ring of that
  // size holds every one still waiting.
  std::vector<std::int64_t> sent_at(in_flight);
  AppendPipeline pipeline(context,
                          {.endpoint = endpoint, .max_in_flight = in_flight, .timeout = 30s},
                          [&](const PipelinedOutcome& o) {
                            recorder.record(eda::monotonic_ns() - sent_at[o.ticket % in_flight]);
                            if (!o.outcome.ok()) {
                              std::cerr << stream << ": " << o.outcome.failure->message << "\n";
                              ok = false;
                            }
                          });
  for (std::uint64_t n = 1; n <= appends; ++n) {
    const std::vector event{to_event_data(ItemAdded{"part", 1, 10}, "writer")};
    // append() sends last, after any wait for room in the window: the time it returns is the
    // time the append left.
    const std::uint64_t ticket = pipeline.append(stream, ExpectedVersion::any(), event);
    sent_at[ticket % in_flight] = eda::monotonic_ns();
  }
  pipeline.flush();
  return ok;
}

/// @brief `clients` writers, each an AppendPipeline keeping up to `in_flight` appends of one
///        event in flight (`appends_total / clients` per iteration, to a stream of its own) to a
///        StoreService on tcp loopback that serves `store` and commits up to `max_group`
///        appends together. items/s = durable events/s (each counted once its commit
///        returned); `events_per_commit`; p50/p99 per append from sending it to its outcome.
inline void measure_pipelined_writers(benchmark::State& state, sourcing::EventStore& store,
                                      std::size_t clients, std::size_t in_flight,
                                      std::size_t max_group, std::uint64_t appends_total) {
  using namespace std::chrono_literals;
  using namespace sourcing;
  zmq::context_t context;
  ServedStore service(context, store, max_group);
  const std::uint64_t appends_each = std::max<std::uint64_t>(1, appends_total / clients);
  std::vector<eda::LatencyRecorder> recorders(clients);
  std::atomic<bool> failed{false};
  for (auto _ : state) {
    std::vector<std::jthread> threads;
    for (std::size_t c = 0; c < clients; ++c) {
      threads.emplace_back([&, c] {
        try {
          if (!write_pipelined(context, service.endpoint(), "pipelined-" + std::to_string(c),
                               in_flight, appends_each, recorders[c])) {
            failed = true;
          }
        } catch (const std::exception& e) {
          std::cerr << "writer " << c << ": " << e.what() << "\n";
          failed = true;
        }
      });
    }
  }
  service.report(state);
  if (failed) {
    state.SkipWithError("a writer failed (see above)");
    return;
  }
  eda::LatencyRecorder all;
  for (const auto& recorder : recorders) all.merge(recorder);
  set_latency_counters(state, all);
}

}  // namespace eda::bench
