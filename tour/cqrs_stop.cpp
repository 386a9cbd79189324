// The CQRS stop: commands go to a write side on the event store; a projector turns its events
// into tables shaped like the questions; queries read only those. The baseline answers the
// same questions from one normalized model, joining and aggregating at query time. The
// workloads are bench-cqrs's (eda::shop_workloads), at a smaller size.

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>

#include "demo_programs.hpp"
#include "eda/cqrs/read_models.hpp"
#include "eda/latency.hpp"
#include "eda/sourcing/sqlite_store.hpp"
#include "eda/workloads/projection_lag.hpp"
#include "eda/workloads/shop_history.hpp"
#include "eda/workloads/shop_questions.hpp"
#include "eda/workloads/shop_simulator.hpp"
#include "measure.hpp"
#include "progress.hpp"
#include "scratch_folder.hpp"
#include "stop.hpp"

namespace eda::tour {

namespace {

using namespace std::chrono_literals;
using namespace eda::cqrs;
using namespace eda::workloads;

/// How big the measurements are (bench-cqrs: histories of 10k, 100k and 1M events; the lag at
/// 500 and 2 000 commands/s for 2 s).
struct Sizes {
  std::uint64_t history_events = 10'000;      ///< Events in the larger history (and a tenth).
  Budget queries;                             ///< Queries of each kind, per design.
  std::uint64_t commands_per_s = 2000;        ///< The load while the projection lag is measured ...
  std::chrono::milliseconds load_time{1000};  ///< ... for this long.
};

Sizes sizes_for(const TourOptions& options) {
  if (options.quick) return {.history_events = 1000, .queries = {30, 60ms}, .load_time = 100ms};
  return {.queries = {300, 500ms}};
}

/// One design's answers to the two questions timed.
struct QueryTimes {
  LatencySummary week_sales;       ///< Sales per product per day over a week.
  double week_rows = 0;            ///< Rows in a week's answer, on average.
  LatencySummary customer_orders;  ///< A customer's orders.
};

/// Asks `question` of `shop` until `budget` runs out; the query latency, and rows on average.
std::pair<LatencySummary, double> time_question(const ShopQueries& shop, const ShopHistory& history,
                                                ShopQuestion question, const Budget& budget) {
  QuestionDice dice(history.customers());  // the same questions to both designs
  LatencyRecorder latency;
  std::size_t rows = 0;
  const LoopResult asked =
      run_bounded(budget, [&](std::size_t) { rows += ask_timed(shop, question, dice, latency); });
  return {latency.summary(), static_cast<double>(rows) / static_cast<double>(asked.count)};
}

QueryTimes time_queries(const ShopQueries& shop, const ShopHistory& history, const Budget& budget) {
  QueryTimes times;
  std::tie(times.week_sales, times.week_rows) =
      time_question(shop, history, ShopQuestion::sales_by_day, budget);
  times.customer_orders = time_question(shop, history, ShopQuestion::customer_orders, budget).first;
  return times;
}

/// What the made-up history holds.
struct HistoryFacts {
  std::uint64_t events = 0;     ///< Events in the store.
  std::uint64_t commands = 0;   ///< Commands that made them.
  std::uint64_t customers = 0;  ///< Customers who placed orders.
};

/// A history in both designs, the questions timed on both, and the bytes each keeps.
struct QueryComparison {
  HistoryFacts facts;               ///< The history.
  double rebuild_events_per_s = 0;  ///< Read models built from nothing, events/s.
  QueryTimes cqrs;                  ///< Answers from the read models.
  QueryTimes single;                ///< Answers joined from the single model's tables.
  double cqrs_bytes = 0;            ///< Event store and read models.
  double single_bytes = 0;          ///< The one model.
};

/// The read models rebuilt from nothing into a fresh file, as bench-cqrs's BM_Cqrs_Rebuild
/// does: events/s.
double rebuild_rate(const ShopHistory& history, ScratchFolder& folder) {
  ReadModels read({.path = folder.new_file("rebuild")});
  const std::int64_t start = monotonic_ns();
  const std::uint64_t rebuilt = rebuild_read_models(read, history.store());
  const std::int64_t took = monotonic_ns() - start;
  if (rebuilt != history.events()) throw std::runtime_error("the rebuild did not see every event");
  return static_cast<double>(rebuilt) * 1e9 / static_cast<double>(took);
}

QueryComparison compare_queries(std::uint64_t history_events, const Budget& queries,
                                ScratchFolder& folder, Progress& progress) {
  const ShopHistoryFiles files{.store = folder.new_file("store"),
                               .read_models = folder.new_file("read-models"),
                               .single_model = folder.new_file("single-model")};
  QueryComparison result;
  {
    const std::unique_ptr<const ShopHistory> made = progress.stage(
        "making up a history of " + format_count(static_cast<double>(history_events)) +
            " events in both designs, projecting it, and rebuilding the projection",
        [&] {
          auto history = std::make_unique<const ShopHistory>(files, history_events);
          if (!history->mismatch().empty()) throw std::runtime_error(history->mismatch());
          result.rebuild_events_per_s = rebuild_rate(*history, folder);
          return history;
        });
    const ShopHistory& history = *made;
    result.facts = {.events = history.events(),
                    .commands = history.commands(),
                    .customers = history.customers().size()};
    progress.stage("measuring the same questions on both designs", [&] {
      result.cqrs = time_queries(history.cqrs(), history, queries);
      result.single = time_queries(history.single_model(), history, queries);
    });
  }  // closing each database checkpoints its write-ahead log into the file
  result.cqrs_bytes =
      static_cast<double>(database_bytes(files.store) + database_bytes(files.read_models));
  result.single_bytes = static_cast<double>(database_bytes(files.single_model));
  return result;
}

/// The projection lag (eda::workloads::ProjectionLagRun) while commands arrive at
/// `sizes.commands_per_s`, on a durable store.
LatencySummary projection_lag(const Sizes& sizes, ScratchFolder& folder) {
  ProjectionLagRun run({.store_path = folder.new_file("lag-store"),
                        .read_models_path = folder.new_file("lag-read-models"),
                        .commands_per_second = sizes.commands_per_s,
                        .run_time = sizes.load_time,
                        .durability = sourcing::Durability::full});
  run.run();
  return run.lag().summary();
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
      {"a command's events become readable, p50 / p99", p50_p99(lag),
       "at once (reads its own tables)", "the projection lag"},
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
          " days, the same in both designs, and a tenth of it; both designs gave the same "
          "answers before they were timed. bench-cqrs makes its histories (10 000, 100 000 and "
          "a million events) with the same simulator and seed, and asks the same questions.",
      "The projection lag, as bench-cqrs measures it: " + std::string(projection_lag_definition) +
          "; four clients over tcp at " + format_rate(static_cast<double>(sizes.commands_per_s)) +
          " for " + std::to_string(sizes.load_time.count()) +
          " ms, the store with an fsync per commit (bench-cqrs: 2 s).",
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
