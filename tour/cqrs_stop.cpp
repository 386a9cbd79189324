// The CQRS stop: commands go to a write side on the event store; a projector turns its events
// into tables shaped like the questions; queries read only those. The baseline answers the
// same questions from one normalized model, joining and aggregating at query time.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "demo_programs.hpp"
#include "eda/cqrs/projector.hpp"
#include "eda/cqrs/queries.hpp"
#include "eda/cqrs/read_models.hpp"
#include "eda/cqrs/single_model.hpp"
#include "eda/latency.hpp"
#include "eda/sourcing/order.hpp"
#include "eda/sourcing/order_repository.hpp"
#include "eda/sourcing/sqlite_store.hpp"
#include "eda/sourcing/subscription.hpp"
#include "measure.hpp"
#include "progress.hpp"
#include "scratch_folder.hpp"
#include "stop.hpp"

namespace eda::tour {

namespace {

using namespace std::chrono_literals;
using namespace eda::cqrs;
using namespace eda::sourcing;

/// How big the measurements are.
struct Sizes {
  std::uint64_t history_events = 10'000;      ///< Events in the shop's history.
  Budget queries;                             ///< Queries of each kind, per design.
  std::uint64_t commands_per_s = 500;         ///< The load while the projection lag is measured ...
  std::chrono::milliseconds load_time{2000};  ///< ... for this long.
};

Sizes sizes_for(const TourOptions& options) {
  if (options.quick)
    return {
        .history_events = 1000, .queries = {30, 60ms}, .commands_per_s = 200, .load_time = 250ms};
  return {.queries = {300, 500ms}};
}

constexpr std::int64_t minute_ns = 60'000'000'000;
constexpr std::int64_t day_ns = 24 * 60 * minute_ns;
constexpr std::int64_t history_start_ns = 1'767'225'600'000'000'000;  // 2026-01-01T00:00:00Z
constexpr std::int64_t history_days = 30;
constexpr std::uint64_t product_count = 20;

std::string product_sku(std::uint64_t n) { return "sku-" + std::to_string(100 + n); }
std::int64_t product_price_cents(std::uint64_t n) {
  return 299 + 175 * static_cast<std::int64_t>(n);
}
std::string customer_name(std::uint64_t n) { return "customer-" + std::to_string(n); }

/// What the made-up history holds.
struct HistoryFacts {
  std::uint64_t events = 0;     ///< Events in the store.
  std::uint64_t commands = 0;   ///< Commands that made them.
  std::uint64_t customers = 0;  ///< Customers, named customer-1 .. customer-N.
  std::string first_day;        ///< The UTC day of the first order.
  std::string last_day;         ///< The UTC day of the last command.
};

/// Makes up the shop's history, the same commands at the same (simulated) times into both
/// designs, until the store holds `events_wanted` events: orders placed over 30 days, each
/// given 1-3 items; most are paid and then shipped, some cancelled (before or after
/// payment), some left open. The event store gets the events decide() makes of each command,
/// 500 orders per transaction; the single model executes each command (it has no other way).
HistoryFacts make_history(std::uint64_t events_wanted, EventStore& store,
                          baseline::SingleModelShop& single) {
  std::mt19937_64 dice(2026);  // a fixed seed: the same history in every run
  const auto below = [&dice](std::uint64_t n) { return dice() % n; };
  HistoryFacts facts;
  facts.customers = std::max<std::uint64_t>(20, events_wanted / 50);
  std::int64_t latest_ns = history_start_ns;
  std::vector<AppendRequest> group;
  const auto flush = [&] {
    for (const AppendOutcome& outcome : store.append_all(group)) {
      if (outcome.error) std::rethrow_exception(outcome.error);
    }
    group.clear();
  };
  for (std::uint64_t order = 1; facts.events < events_wanted; ++order) {
    // Orders are spread over the 30 days in proportion to the history made so far.
    std::int64_t at =
        history_start_ns + static_cast<std::int64_t>(static_cast<double>(history_days * day_ns) *
                                                     static_cast<double>(facts.events) /
                                                     static_cast<double>(events_wanted));
    AppendRequest request{order_stream(order), ExpectedVersion::no_stream(), {}};
    OrderState state;
    const auto run = [&](const OrderCommand& command) {
      for (const OrderEvent& event : decide(command, state)) {
        state = evolve(std::move(state), event);
        request.events.push_back(to_event_data(event, "order-service", {}, at));
        ++facts.events;
      }
      (void)single.execute(order, command, at);
      ++facts.commands;
      latest_ns = std::max(latest_ns, at);
      at += static_cast<std::int64_t>(1 + below(60)) * minute_ns;
    };
    run(PlaceOrder{customer_name(below(facts.customers) + 1)});
    for (std::uint64_t items = 1 + below(3); items > 0; --items) {
      const std::uint64_t product = below(product_count);
      run(AddItem{product_sku(product), static_cast<std::uint32_t>(1 + below(3)),
                  product_price_cents(product)});
    }
    const std::uint64_t fate = below(100);
    if (fate < 80) {
      run(Pay{state.total_cents()});
      if (below(100) < 85) {
        run(Ship{"post"});
      } else if (below(100) < 30) {
        run(Cancel{"changed their mind after paying"});
      }
    } else if (fate < 90) {
      run(Cancel{"out of stock"});
    }  // else: left open
    group.push_back(std::move(request));
    if (group.size() == 500) flush();
  }
  if (!group.empty()) flush();
  facts.first_day = utc_day(history_start_ns);
  facts.last_day = utc_day(latest_ns);
  return facts;
}

/// Both designs must give the same answers, or comparing their speed means nothing.
void check_agreement(const ShopQueries& cqrs, const ShopQueries& single,
                     const HistoryFacts& facts) {
  if (cqrs.sales_by_day(facts.first_day, facts.last_day) !=
      single.sales_by_day(facts.first_day, facts.last_day)) {
    throw std::runtime_error("CQRS and the single model disagree on the sales per product per day");
  }
  for (std::uint64_t n = 1; n <= std::min<std::uint64_t>(facts.customers, 10); ++n) {
    if (cqrs.customer_orders(customer_name(n)) != single.customer_orders(customer_name(n))) {
      throw std::runtime_error("CQRS and the single model disagree on the orders of " +
                               customer_name(n));
    }
  }
  if (cqrs.awaiting_shipment(20) != single.awaiting_shipment(20)) {
    throw std::runtime_error("CQRS and the single model disagree on the orders awaiting shipment");
  }
}

/// One design's answers to the two questions timed.
struct QueryTimes {
  LatencySummary week_sales;       ///< Sales per product per day over a week.
  double week_rows = 0;            ///< Rows in a week's answer, on average.
  LatencySummary customer_orders;  ///< A customer's orders.
};

QueryTimes time_queries(const ShopQueries& shop, const HistoryFacts& facts, const Budget& budget) {
  QueryTimes times;
  std::mt19937_64 dice(7);  // the same questions to both designs
  LatencyRecorder week;
  std::size_t rows = 0;
  const LoopResult weeks = run_bounded(budget, [&](std::size_t) {
    const std::int64_t first =
        history_start_ns + static_cast<std::int64_t>(dice() % (history_days - 6)) * day_ns;
    const std::string first_day = utc_day(first);
    const std::string last_day = utc_day(first + 6 * day_ns);
    const std::int64_t start = monotonic_ns();
    const auto answer = shop.sales_by_day(first_day, last_day);
    week.record(monotonic_ns() - start);
    rows += answer.size();
  });
  times.week_sales = week.summary();
  times.week_rows = static_cast<double>(rows) / static_cast<double>(weeks.count);
  LatencyRecorder customers;
  (void)run_bounded(budget, [&](std::size_t) {
    const std::string customer = customer_name(dice() % facts.customers + 1);
    const std::int64_t start = monotonic_ns();
    (void)shop.customer_orders(customer);
    customers.record(monotonic_ns() - start);
  });
  times.customer_orders = customers.summary();
  return times;
}

/// A history in both designs, the questions timed on both, and the bytes each keeps.
struct QueryComparison {
  HistoryFacts facts;               ///< The history.
  double rebuild_events_per_s = 0;  ///< Read models built from nothing, events/s.
  QueryTimes cqrs;                  ///< Answers from the read models.
  QueryTimes single;                ///< Answers joined from the single model's tables.
  double cqrs_bytes = 0;            ///< Event store and read models.
  double single_bytes = 0;          ///< The one model.
};

QueryComparison compare_queries(std::uint64_t history_events, const Budget& queries,
                                ScratchFolder& folder, Progress& progress) {
  const std::string store_path = folder.new_file("store");
  const std::string read_path = folder.new_file("read-models");
  const std::string single_path = folder.new_file("single-model");
  QueryComparison result;
  {
    SqliteEventStore store({.path = store_path, .durability = Durability::normal});
    baseline::SingleModelShop single({.path = single_path, .durability = Durability::normal});
    ReadModels read({.path = read_path});
    progress.stage("making up a history of " + format_count(static_cast<double>(history_events)) +
                       " events in both designs, then projecting it",
                   [&] {
                     result.facts = make_history(history_events, store, single);
                     const std::int64_t start = monotonic_ns();
                     const std::uint64_t fed = rebuild_all(read, store);
                     result.rebuild_events_per_s = static_cast<double>(fed) * 1e9 /
                                                   static_cast<double>(monotonic_ns() - start);
                     check_agreement(read, single, result.facts);
                   });
    progress.stage("measuring the same questions on both designs", [&] {
      result.cqrs = time_queries(read, result.facts, queries);
      result.single = time_queries(single, result.facts, queries);
    });
  }  // closing each database checkpoints its write-ahead log into the file
  result.cqrs_bytes = static_cast<double>(database_bytes(store_path) + database_bytes(read_path));
  result.single_bytes = static_cast<double>(database_bytes(single_path));
  return result;
}

/// The commands of one order in the steady load: placed, an item, paid, shipped.
OrderCommand load_command(std::uint64_t step) {
  switch (step % 4) {
    case 0:
      return PlaceOrder{"customer-1"};
    case 1:
      return AddItem{product_sku(7), 2, product_price_cents(7)};
    case 2:
      return Pay{2 * product_price_cents(7)};
    default:
      return Ship{"post"};
  }
}

/// The projection lag while commands arrive at `sizes.commands_per_s`: from a command being
/// sent until the read models hold its events (committed), on a durable store.
LatencySummary projection_lag(const Sizes& sizes, ScratchFolder& folder) {
  const std::string store_path = folder.new_file("lag-store");
  zmq::context_t context;
  SqliteEventStore store({.path = store_path, .durability = Durability::full});
  NotifyingEventStore notifying(store, context, "tcp://127.0.0.1:*");
  // The read side reads the store file through a connection of its own, as a projector
  // process would.
  SqliteEventStore projector_view({.path = store_path, .durability = Durability::normal});
  ReadModels read({.path = folder.new_file("lag-read-models")});
  Projector projector(projector_view, read, context,
                      {.store_notifications = notifying.endpoint(), .fallback_poll = 100ms});
  bool subscribed = false;
  const Deadline handshake(10s);
  while (!subscribed && !handshake.expired()) {
    notifying.serve(1ms);
    subscribed = projector.await_notifications(1ms);
  }
  if (!subscribed)
    throw std::runtime_error("the projector did not get the store's notifications within 10 s");

  const std::uint64_t total = std::max<std::uint64_t>(
      4, sizes.commands_per_s * static_cast<std::uint64_t>(sizes.load_time.count()) / 1000);
  const std::chrono::nanoseconds interval(1'000'000'000 / sizes.commands_per_s);
  // (store position of a command's last event, when it was sent), written by the writer only.
  std::vector<std::pair<std::uint64_t, std::int64_t>> sent;
  std::atomic<std::uint64_t> last_position{0};
  std::atomic<bool> writer_done{false};
  std::exception_ptr writer_error;
  std::jthread writer([&] {
    try {
      OrderRepository orders(notifying);
      const auto start = std::chrono::steady_clock::now();
      for (std::uint64_t k = 0; k < total; ++k) {
        std::this_thread::sleep_until(start + k * interval);  // a fixed schedule, not a race
        const std::int64_t sent_ns = monotonic_ns();
        const CommandOutcome outcome = orders.execute(k / 4 + 1, load_command(k));
        sent.emplace_back(outcome.appended.last_position, sent_ns);
        last_position = outcome.appended.last_position;
      }
    } catch (...) {
      writer_error = std::current_exception();
    }
    writer_done = true;
  });
  // (position the read models reached, when): the projector's progress, on this thread.
  std::vector<std::pair<std::uint64_t, std::int64_t>> readable;
  const Deadline give_up(sizes.load_time * 2 + 10s);
  std::exception_ptr projector_error;
  while (!give_up.expired()) {
    try {
      if (projector.step(5ms) > 0) readable.emplace_back(read.position(), monotonic_ns());
    } catch (...) {
      projector_error = std::current_exception();
      break;
    }
    if (writer_done && read.position() >= last_position) break;
  }
  writer.join();  // bounded: `total` commands on a schedule
  if (writer_error) std::rethrow_exception(writer_error);
  if (projector_error) std::rethrow_exception(projector_error);
  if (read.position() < last_position)
    throw std::runtime_error("the read models did not catch up in time");

  LatencyRecorder lag;
  for (const auto& [position, sent_ns] : sent) {
    // The first moment the read models held this position.
    const auto reached =
        std::find_if(readable.begin(), readable.end(),
                     [position = position](const auto& r) { return r.first >= position; });
    if (reached != readable.end()) lag.record(reached->second - sent_ns);
  }
  return lag.summary();
}

std::string p50_p99(const LatencySummary& summary) {
  return format_ns(static_cast<double>(summary.p50_ns)) + " / " +
         format_ns(static_cast<double>(summary.p99_ns));
}

std::string faster(const LatencySummary& pattern, const LatencySummary& baseline) {
  return compare_times(static_cast<double>(pattern.p50_ns), static_cast<double>(baseline.p50_ns)) +
         " (p50)";
}

Findings measure(const TourOptions& options, Progress& progress) {
  const Sizes sizes = sizes_for(options);
  ScratchFolder folder("cqrs");
  // Two history sizes, a tenth and all of it: how each design's answer time grows with it.
  const QueryComparison smaller =
      compare_queries(sizes.history_events / 10, sizes.queries, folder, progress);
  const QueryComparison compared =
      compare_queries(sizes.history_events, sizes.queries, folder, progress);
  const LatencySummary lag =
      progress.stage("measuring the projection lag: commands at " +
                         format_rate(static_cast<double>(sizes.commands_per_s)) + " for " +
                         std::to_string(sizes.load_time.count()) + " ms",
                     [&] { return projection_lag(sizes, folder); });

  const std::string events = format_count(static_cast<double>(compared.facts.events));
  const std::string fewer_events = format_count(static_cast<double>(smaller.facts.events));
  const auto growth = [](const LatencySummary& small, const LatencySummary& large) {
    return format_ratio(static_cast<double>(large.p50_ns), static_cast<double>(small.p50_ns));
  };
  const std::string cqrs_growth = growth(smaller.cqrs.week_sales, compared.cqrs.week_sales);
  const std::string single_growth = growth(smaller.single.week_sales, compared.single.week_sales);
  Findings findings;
  findings.rows = {
      {"sales per product per day, a week, p50 / p99, " + fewer_events + " events",
       p50_p99(smaller.cqrs.week_sales), p50_p99(smaller.single.week_sales),
       faster(smaller.cqrs.week_sales, smaller.single.week_sales)},
      {"... " + events + " events", p50_p99(compared.cqrs.week_sales),
       p50_p99(compared.single.week_sales),
       faster(compared.cqrs.week_sales, compared.single.week_sales)},
      {"... p50 growth with 10x the history", cqrs_growth, single_growth,
       "rows in the answer: " + format_count(smaller.cqrs.week_rows) + " -> " +
           format_count(compared.cqrs.week_rows)},
      {"a customer's orders, p50 / p99", p50_p99(compared.cqrs.customer_orders),
       p50_p99(compared.single.customer_orders),
       faster(compared.cqrs.customer_orders, compared.single.customer_orders)},
      {"a command becomes readable, p50 / p99", p50_p99(lag), "at once (reads its own tables)",
       "the projection lag"},
      {"bytes on disk", format_bytes(compared.cqrs_bytes) + " (events + read models)",
       format_bytes(compared.single_bytes),
       format_ratio(compared.cqrs_bytes, compared.single_bytes)},
      {"read models built from the events", format_rate(compared.rebuild_events_per_s), "-",
       "a new question is a new projection"},
  };
  findings.notes = {
      "History: " + events + " events (" +
          format_count(static_cast<double>(compared.facts.commands)) + " commands) of " +
          format_count(static_cast<double>(compared.facts.customers)) + " customers over " +
          std::to_string(history_days) +
          " days, the same in both designs, and a tenth of it; both designs "
          "gave the same answers before they were timed. bench-cqrs goes up to a million events.",
      "The lag: the time from sending a command (store with an fsync per commit) until the "
      "projector "
      "has committed its events, at " +
          format_rate(static_cast<double>(sizes.commands_per_s)) + ".",
  };
  findings.buys = {
      "latency: a week's sales per product " +
          faster(compared.cqrs.week_sales, compared.single.week_sales) + " at " + events +
          " events; 10x the history made it " + cqrs_growth + " slower, with " +
          format_count(smaller.cqrs.week_rows) + " -> " + format_count(compared.cqrs.week_rows) +
          " rows in the answer (single model: " + single_growth + ")",
      "reads apart from writes: queries never touch the write side's tables or locks",
      "new questions: read models rebuilt from the events at " +
          format_rate(compared.rebuild_events_per_s),
  };
  findings.costs = {
      "staleness: a write is readable after p50 " + format_ns(static_cast<double>(lag.p50_ns)) +
          ", p99 " + format_ns(static_cast<double>(lag.p99_ns)),
      "storage: " + format_ratio(compared.cqrs_bytes, compared.single_bytes) +
          " the bytes (events + read models)",
      "complexity: a projector, checkpoints, consistency tokens",
  };
  return findings;
}

}  // namespace

Stop cqrs_stop() {
  return {
      .name = "cqrs",
      .title = "CQRS",
      .intent =
          "Split the model that changes the shop from the models that answer questions about it. "
          "Commands go to a write side built on the event store; projections turn its events into "
          "tables shaped like the questions, and queries read only those.",
      .baseline = "one model for both: queries join and aggregate the write tables when asked",
      .demo_program = demo_programs::cqrs,
      .demo_args = {"--count", "3"},
      .quick_demo_args = {"--count", "2"},
      .demo_shows =
          "The lag between a write and its read, a read-your-writes query, a projector killed "
          "and resumed without double counting, and a projection rebuilt.",
      .measure = measure,
  };
}

}  // namespace eda::tour
