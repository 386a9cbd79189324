/// @file cqrs.cpp
/// @brief bench-cqrs: CQRS against the single model, in the same run, on the same simulated
///        shop history, asking the same questions with the same parameters.
///
/// What separating reads from writes costs and buys:
///
/// - BM_Cqrs_Query/<query>/events:N beside BM_SingleModel_Query/<query>/events:N: one
///   iteration = one query, answered from the read models (CQRS) or by joins and aggregates
///   over the write tables at query time (single model), on a history of N events (N = 1%,
///   10% and 100% of EDA_BENCH_CQRS_EVENTS, default 1M). The queries:
///   `customer_orders` (a random customer who has orders, each iteration), `sales_by_day`
///   (a random 7-day window of the 90 simulated days), `sales_by_day_all` (all 90 days),
///   `awaiting_shipment` (the oldest 20). items/s = queries/s; `p50_us`/`p99_us` per query;
///   `rows` per answer. Before the first query of each history, both sides answer a few
///   questions outside the timing and must agree, or every query benchmark of that history
///   stops with an error.
/// - BM_Cqrs_Command beside BM_SingleModel_Command: one iteration = one command (place an
///   order, add an item, pay it; then the next order) on a fresh database with
///   `synchronous=FULL`, through the event store (OrderRepository) or the single model's rows.
///   items/s = commands/s; `p50_us`/`p99_us` per command.
/// - BM_Cqrs_ProjectionLag/commands_per_second:R/durability:D: the CQRS shop running: a
///   CommandService over tcp loopback on a store with append notifications (`synchronous=FULL`
///   for D=1, as deployed; NORMAL for D=0, which takes the disk's flush out of the picture), a
///   Projector (on the benchmark thread, reading the store through a connection of its own,
///   as a projector process would) and four clients sending commands on a fixed schedule
///   adding up to R commands/s for EDA_BENCH_CQRS_LAG_MS (default 2000 ms). The lag of an
///   event is the wall-clock time at which the projector's batch holding it committed minus
///   the event's timestamp (stamped when the command was decided, before its append): write
///   to readable. `lag_p50_us`, `lag_p99_us`, `lag_max_us`; `commands_per_second` achieved by
///   the clients (below R when the service cannot keep up: a late command is sent at once, a
///   run gives up sending at twice its time); `cmd_p50_us`/`cmd_p99_us` per command as a
///   client sees it; `events_per_batch`.
/// - BM_Cqrs_Rebuild/events:N: the three read models rebuilt from nothing into a fresh file
///   with rebuild_all(): the store read from position 1 in pages of 10,000 events (the next
///   page read while one is applied). items/s = events/s.
///
/// The command and lag benchmarks run first, on a quiet disk: the histories' write-back would
/// otherwise slow their fsyncs. The histories are generated once per process, the first time
/// a benchmark needs one (the 1M-event one takes a while: progress goes to stderr), from a
/// fixed seed: a customer per 50 events (about nine orders each, in every history size) and
/// 20 products over 90 simulated days; each order is
/// placed, gets 1-4 items (sometimes one is removed again), and is mostly paid and shipped,
/// sometimes cancelled (before or after payment), sometimes left open. The same commands, with
/// the same timestamps, go through decide() into the event store (a thousand orders per
/// transaction) and, on the other core meanwhile, through the single model's execute() (a
/// transaction per command: it has no other way); the read models are then built from the
/// store. Files live in a temporary folder removed at exit. The CTest smoke run shrinks the
/// work with EDA_BENCH_CQRS_EVENTS and EDA_BENCH_CQRS_LAG_MS.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "eda/clock.hpp"
#include "eda/cqrs/command_service.hpp"
#include "eda/cqrs/projections.hpp"
#include "eda/cqrs/projector.hpp"
#include "eda/cqrs/queries.hpp"
#include "eda/cqrs/read_models.hpp"
#include "eda/cqrs/single_model.hpp"
#include "eda/envelope.hpp"
#include "eda/latency.hpp"
#include "eda/sourcing/order.hpp"
#include "eda/sourcing/order_repository.hpp"
#include "eda/sourcing/sqlite_store.hpp"
#include "eda/sourcing/subscription.hpp"
#include "latency_counters.hpp"

namespace {

using namespace std::chrono_literals;
using namespace eda::cqrs;
using namespace eda::sourcing;
using eda::bench::set_latency_counters;

/// A positive count from the environment variable `name`, or `fallback`.
std::uint64_t env_count(const char* name, std::uint64_t fallback) {
  const char* text = std::getenv(name);
  const long long value = text != nullptr ? std::strtoll(text, nullptr, 10) : 0;
  return value > 0 ? static_cast<std::uint64_t>(value) : fallback;
}

/// The largest history, in events; the others are a tenth and a hundredth of it.
std::uint64_t largest_history() { return env_count("EDA_BENCH_CQRS_EVENTS", 1'000'000); }

/// The history sizes every query benchmark runs on, smallest first.
std::vector<std::int64_t> history_sizes() {
  const std::uint64_t largest = largest_history();
  return {static_cast<std::int64_t>(std::max<std::uint64_t>(largest / 100, 1)),
          static_cast<std::int64_t>(std::max<std::uint64_t>(largest / 10, 1)),
          static_cast<std::int64_t>(largest)};
}

// ---- Files --------------------------------------------------------------------------------

/// The process's folder in the system's temporary folder, removed with everything in it at
/// exit. (On this machine: the real disk, so fsync costs what it costs.)
class ScratchFolder {
 public:
  static ScratchFolder& get() {
    static ScratchFolder folder;
    return folder;
  }
  ~ScratchFolder() { std::filesystem::remove_all(path_, ignored_); }
  ScratchFolder(const ScratchFolder&) = delete;
  ScratchFolder& operator=(const ScratchFolder&) = delete;

  /// A new file name in the folder, e.g. `.../store-3.db`.
  std::string new_path(const std::string& name) {
    return (path_ / (name + "-" + std::to_string(++files_) + ".db")).string();
  }

 private:
  ScratchFolder()
      : path_(std::filesystem::temp_directory_path() / ("eda-bench-cqrs-" + eda::new_event_id())) {
    std::filesystem::create_directories(path_);
  }
  std::filesystem::path path_;
  std::uint64_t files_ = 0;
  std::error_code ignored_;
};

/// A database file in the scratch folder, removed (with its WAL files) when it goes.
class ScratchFile {
 public:
  explicit ScratchFile(const std::string& name) : path_(ScratchFolder::get().new_path(name)) {}
  ~ScratchFile() {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix, ignored_);
  }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::error_code ignored_;
};

// ---- The simulated shop -------------------------------------------------------------------

constexpr std::int64_t second_ns = 1'000'000'000;
constexpr std::int64_t minute_ns = 60 * second_ns;
constexpr std::int64_t hour_ns = 60 * minute_ns;
constexpr std::int64_t day_ns = 24 * hour_ns;

constexpr std::int64_t history_start_ns = 1'767'225'600 * second_ns;  // 2026-01-01T00:00:00Z
constexpr std::int64_t history_days = 90;
constexpr std::int64_t history_end_ns = history_start_ns + history_days * day_ns;
/// Events per customer: the shop gains customers as its history grows, so a customer has
/// about the same number of orders (about nine) in every history size.
constexpr std::uint64_t events_per_customer = 50;
constexpr std::uint64_t product_count = 20;
constexpr std::uint64_t history_seed = 20260101;

/// Dice from a fixed seed: the same run draws the same numbers (mt19937_64's output is fixed
/// by the standard; the arithmetic on it is ours, so every library draws alike).
class Dice {
 public:
  explicit Dice(std::uint64_t seed) : engine_(seed) {}
  /// A number from 0 to n - 1 (n >= 1).
  std::uint64_t below(std::uint64_t n) { return engine_() % n; }
  /// True `percent` times in a hundred.
  bool chance(std::uint64_t percent) { return below(100) < percent; }
  /// A duration from `low` to `high` nanoseconds, both included.
  std::int64_t between(std::int64_t low, std::int64_t high) {
    return low + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(high - low) + 1));
  }

 private:
  std::mt19937_64 engine_;
};

std::string customer_name(std::uint64_t n) {
  std::string digits = std::to_string(n);
  return "customer-" + std::string(digits.size() < 4 ? 4 - digits.size() : 0, '0') + digits;
}
std::string product_sku(std::uint64_t n) {
  return "sku-" + std::string(n < 10 ? "0" : "") + std::to_string(n);
}
std::int64_t product_price_cents(std::uint64_t n) {
  return 299 + 175 * static_cast<std::int64_t>(n);
}

/// A command and the simulated time at which it is sent.
struct TimedCommand {
  OrderCommand command;
  std::int64_t at_ns = 0;
};

/// An event and its simulated time.
struct TimedEvent {
  OrderEvent event;
  std::int64_t at_ns = 0;
};

/// One order's life: the commands sent for it, and the events decide() made of them.
struct OrderLife {
  std::uint64_t order_id = 0;
  std::vector<TimedCommand> commands;
  std::vector<TimedEvent> events;
};

/// Makes up the shop's history order by order, deterministically, until it holds exactly
/// `events_wanted` events. An order is placed at the point of the 90 days that the history
/// has reached, so the history always spans them, whatever its size.
class ShopSimulator {
 public:
  explicit ShopSimulator(std::uint64_t events_wanted)
      : events_wanted_(events_wanted),
        customer_count_(std::max<std::uint64_t>(20, events_wanted / events_per_customer)),
        dice_(history_seed) {}

  /// The next order's life; nothing once the history is complete. The last order may be cut
  /// short (a prefix of a life is a life: it is simply still open).
  std::optional<OrderLife> next_order() {
    if (events_ >= events_wanted_) return std::nullopt;
    OrderLife life{++orders_, {}, {}};
    state_ = OrderState{};
    life_ = &life;
    live(static_cast<std::int64_t>(
             static_cast<double>(history_end_ns - history_start_ns) *
             (static_cast<double>(events_) / static_cast<double>(events_wanted_))) +
         history_start_ns);
    events_ += life.events.size();
    life_ = nullptr;
    return life;
  }

  [[nodiscard]] std::uint64_t orders() const { return orders_; }

  /// The customers who have placed at least one order so far.
  [[nodiscard]] std::vector<std::string> customers() const {
    std::vector<std::string> names;
    for (std::uint64_t c = 0; c < customer_count_; ++c) {
      if (has_orders_[c]) names.push_back(customer_name(c));
    }
    return names;
  }

 private:
  /// The customer's and the warehouse's commands for one order placed at `placed_at`.
  void live(std::int64_t placed_at) {
    std::int64_t now = placed_at + dice_.between(0, minute_ns);
    const std::uint64_t customer = dice_.below(customer_count_);
    if (!act(PlaceOrder{customer_name(customer)}, now)) return;
    has_orders_[customer] = true;
    const std::uint64_t items = 1 + dice_.below(4);
    for (std::uint64_t i = 0; i < items; ++i) {
      const std::uint64_t product = dice_.below(product_count);
      now += dice_.between(10 * second_ns, 5 * minute_ns);
      if (!act(AddItem{product_sku(product), static_cast<std::uint32_t>(1 + dice_.below(3)),
                       product_price_cents(product)},
               now)) {
        return;
      }
    }
    if (state_.lines.size() >= 2 && dice_.chance(15)) {  // second thoughts about one line
      now += dice_.between(10 * second_ns, 5 * minute_ns);
      if (!act(RemoveItem{state_.lines.begin()->first}, now)) return;
    }
    const std::uint64_t fate = dice_.below(100);
    if (fate < 5) return;  // abandoned: left open
    if (fate < 11) {       // cancelled before paying
      (void)act(Cancel{"changed my mind"}, now + dice_.between(hour_ns, 2 * day_ns));
      return;
    }
    const std::int64_t paid_at = now + dice_.between(minute_ns, 30 * minute_ns);
    if (!act(Pay{state_.total_cents()}, paid_at)) return;
    if (dice_.chance(4)) {  // cancelled after payment: refunded, no longer a sale
      const std::int64_t at = paid_at + dice_.between(2 * hour_ns, 3 * day_ns);
      if (at < history_end_ns) (void)act(Cancel{"refund"}, at);
      return;
    }
    if (dice_.chance(2)) return;  // lost in the warehouse: awaits shipment for good
    const std::int64_t shipped_at = paid_at + dice_.between(4 * hour_ns, 4 * day_ns);
    if (shipped_at < history_end_ns) {  // otherwise it still awaits shipment when the history ends
      (void)act(Ship{dice_.chance(50) ? "post" : "courier"}, shipped_at);
    }
  }

  /// Decides `command` against the order's state and records it with its events; false (and
  /// nothing recorded) when the history has no room left for them.
  bool act(const OrderCommand& command, std::int64_t at_ns) {
    std::vector<OrderEvent> events = decide(command, state_);  // throws on a generator bug
    if (events_ + life_->events.size() + events.size() > events_wanted_) return false;
    life_->commands.push_back({command, at_ns});
    for (OrderEvent& event : events) {
      state_ = evolve(std::move(state_), event);
      life_->events.push_back({std::move(event), at_ns});
    }
    return true;
  }

  std::uint64_t events_wanted_;
  std::uint64_t customer_count_;
  Dice dice_;
  std::uint64_t events_ = 0;
  std::uint64_t orders_ = 0;
  OrderState state_;
  OrderLife* life_ = nullptr;
  std::vector<bool> has_orders_ = std::vector<bool>(customer_count_, false);
};

/// The questions of one run of a query benchmark, drawn from a seed so that both sides are
/// asked the same ones in the same order.
class QuestionDice {
 public:
  explicit QuestionDice(const std::vector<std::string>& customers) : customers_(customers) {
    for (std::int64_t day = 0; day + 7 <= history_days; ++day) {
      weeks_.emplace_back(utc_day(history_start_ns + day * day_ns),
                          utc_day(history_start_ns + (day + 6) * day_ns));
    }
  }
  /// A customer who has orders.
  const std::string& customer() { return customers_[dice_.below(customers_.size())]; }
  /// Seven consecutive days of the history: first and last.
  const std::pair<std::string, std::string>& week() { return weeks_[dice_.below(weeks_.size())]; }

 private:
  const std::vector<std::string>& customers_;
  std::vector<std::pair<std::string, std::string>> weeks_;
  Dice dice_{7};
};

/// The first day of the history, `YYYY-MM-DD`.
const std::string& first_day() {
  static const std::string day = utc_day(history_start_ns);
  return day;
}
/// The day after the history's last (payments late on its last day count), `YYYY-MM-DD`.
const std::string& last_day() {
  static const std::string day = utc_day(history_end_ns + day_ns);
  return day;
}

// ---- A history, written into both designs -------------------------------------------------

/// One simulated history of `events` events, written into an event store and into the
/// single model, with the CQRS read models built from the store.
class History {
 public:
  explicit History(std::uint64_t events)
      : events_(events),
        store_({.path = store_file_.path(), .durability = Durability::normal}),
        single_({.path = single_file_.path(), .durability = Durability::normal}) {
    const std::int64_t began = eda::monotonic_ns();
    // The two designs are written at the same time, one per core, each from its own copy of
    // the (deterministic) simulator: the same orders, commands and timestamps.
    std::exception_ptr event_side_failed;
    std::int64_t store_ns = 0;
    std::int64_t projected_ns = 0;
    std::jthread event_side([&] {
      try {
        store_ns = write_event_store();
        const std::int64_t start = eda::monotonic_ns();
        read_.emplace(ReadModelOptions{.path = read_file_.path()});
        const std::uint64_t projected = feed_from_start(*read_, store_);
        projected_ns = eda::monotonic_ns() - start;
        if (projected != events_) {
          throw std::runtime_error("the read models saw " + std::to_string(projected) + " of " +
                                   std::to_string(events_) + " events");
        }
      } catch (...) {
        event_side_failed = std::current_exception();
      }
    });
    const std::int64_t single_ns = write_single_model();
    event_side.join();
    if (event_side_failed) std::rethrow_exception(event_side_failed);

    mismatch_ = compare_answers();
    const std::size_t awaiting =
        single_.awaiting_shipment(std::numeric_limits<std::size_t>::max()).size();
    std::cerr << "bench-cqrs: history of " << events_ << " events: " << orders_ << " orders of "
              << customers_.size() << " customers, " << awaiting << " awaiting shipment; built in "
              << eda::format_duration(eda::monotonic_ns() - began) << " (in parallel: event store "
              << eda::format_duration(store_ns) << " then read models "
              << eda::format_duration(projected_ns) << "; single model "
              << eda::format_duration(single_ns) << ")\n";
  }

  /// Resets every projection of `read` and applies the whole store to them, a page of events
  /// per transaction; returns the number of events read.
  static std::uint64_t feed_from_start(ReadModels& read, const EventStore& store) {
    return rebuild_all(read, store, {}, 10'000);
  }

  [[nodiscard]] std::uint64_t events() const { return events_; }
  [[nodiscard]] const SqliteEventStore& store() const { return store_; }
  [[nodiscard]] const ShopQueries& cqrs() const { return *read_; }
  [[nodiscard]] const ShopQueries& single_model() const { return single_; }
  [[nodiscard]] const std::vector<std::string>& customers() const { return customers_; }
  /// What the two designs disagreed about (empty: nothing).
  [[nodiscard]] const std::string& mismatch() const { return mismatch_; }

 private:
  /// Writes the history into the event store, a thousand orders per transaction (one
  /// append_all): seconds, not a million commits. Returns how long it took.
  std::int64_t write_event_store() {
    const std::int64_t start = eda::monotonic_ns();
    ShopSimulator shop(events_);
    for (bool more = true; more;) {
      std::vector<AppendRequest> group;
      while (group.size() < 1000) {
        const std::optional<OrderLife> life = shop.next_order();
        if (!life) {
          more = false;
          break;
        }
        AppendRequest request{order_stream(life->order_id), ExpectedVersion::no_stream(), {}};
        for (const TimedEvent& timed : life->events) {
          request.events.push_back(to_event_data(timed.event, "order-service", {}, timed.at_ns));
        }
        group.push_back(std::move(request));
      }
      if (group.empty()) break;
      for (const AppendOutcome& outcome : store_.append_all(group)) {
        if (outcome.error) std::rethrow_exception(outcome.error);
      }
    }
    return eda::monotonic_ns() - start;
  }

  /// Sends the history's commands to the single model, each in a transaction of its own (it
  /// has no grouped write), with a progress line when it takes a while. Returns how long it
  /// took.
  std::int64_t write_single_model() {
    const std::int64_t start = eda::monotonic_ns();
    const eda::Deadline quiet(2s);
    std::int64_t next_progress = 0;
    ShopSimulator shop(events_);
    std::uint64_t written = 0;
    while (const std::optional<OrderLife> life = shop.next_order()) {
      for (const TimedCommand& timed : life->commands) {
        (void)single_.execute(life->order_id, timed.command, timed.at_ns);
      }
      written += life->events.size();
      if (quiet.expired() && eda::monotonic_ns() >= next_progress) {
        next_progress = eda::monotonic_ns() + second_ns;
        std::cerr << "\rbench-cqrs: writing the " << events_ << "-event history: " << written
                  << " events in the single model" << std::flush;
      }
    }
    if (quiet.expired()) std::cerr << "\n";
    orders_ = shop.orders();
    customers_ = shop.customers();
    return eda::monotonic_ns() - start;
  }

  /// Asks both designs a few questions; the first on which they differ, or nothing.
  std::string compare_answers() const {
    const ShopQueries& cqrs = *read_;
    const ShopQueries& single = single_;
    QuestionDice ask(customers_);
    for (int i = 0; i < 5 && !customers_.empty(); ++i) {
      const std::string& customer = ask.customer();
      if (cqrs.customer_orders(customer) != single.customer_orders(customer)) {
        return "customer_orders(" + customer + ") differs between CQRS and the single model";
      }
    }
    std::vector<std::pair<std::string, std::string>> ranges{{first_day(), last_day()}};
    for (int i = 0; i < 3; ++i) ranges.push_back(ask.week());
    for (const auto& [first, last] : ranges) {
      if (cqrs.sales_by_day(first, last) != single.sales_by_day(first, last)) {
        return "sales_by_day(" + first + ", " + last + ") differs between CQRS and the single model";
      }
    }
    for (const std::size_t limit : {std::size_t{20}, std::size_t{1000}}) {
      if (cqrs.awaiting_shipment(limit) != single.awaiting_shipment(limit)) {
        return "awaiting_shipment(" + std::to_string(limit) +
               ") differs between CQRS and the single model";
      }
    }
    return {};
  }

  std::uint64_t events_;
  std::uint64_t orders_ = 0;
  ScratchFile store_file_{"store"};
  ScratchFile single_file_{"single-model"};
  ScratchFile read_file_{"read-models"};
  SqliteEventStore store_;
  baseline::SingleModelShop single_;
  std::optional<ReadModels> read_;
  std::vector<std::string> customers_;
  std::string mismatch_;
};

/// The histories made so far in this process, by size: each is made once, the first time a
/// benchmark asks for it; a history that could not be made is remembered as its error.
class Histories {
 public:
  /// The history of `events` events, or nothing after telling `state` why there is none.
  static const History* get(benchmark::State& state, std::uint64_t events) {
    static Histories histories;
    Entry& entry = histories.entries_[events];
    if (!entry.history && entry.error.empty()) {
      try {
        entry.history = std::make_unique<History>(events);
      } catch (const std::exception& e) {
        entry.error = "cannot build the " + std::to_string(events) + "-event history: " + e.what();
      }
    }
    if (!entry.error.empty()) {
      state.SkipWithError(entry.error.c_str());
      return nullptr;
    }
    return entry.history.get();
  }

 private:
  // The scratch folder exists before the histories, so it is removed after them.
  Histories() { (void)ScratchFolder::get(); }
  struct Entry {
    std::unique_ptr<History> history;
    std::string error;
  };
  std::map<std::uint64_t, Entry> entries_;
};

// ---- Queries ------------------------------------------------------------------------------

enum class Design { cqrs, single_model };
enum class Question { customer_orders, sales_by_day, sales_by_day_all, awaiting_shipment };

/// The name of a question in benchmark names.
const char* name_of(Question question) {
  switch (question) {
    case Question::customer_orders: return "customer_orders";
    case Question::sales_by_day: return "sales_by_day";
    case Question::sales_by_day_all: return "sales_by_day_all";
    case Question::awaiting_shipment: return "awaiting_shipment";
  }
  return "unknown";
}

/// One iteration = one question to one design, on the history of state.range(0) events.
void run_query(benchmark::State& state, Design design, Question question) {
  const History* history = Histories::get(state, static_cast<std::uint64_t>(state.range(0)));
  if (history == nullptr) return;
  if (!history->mismatch().empty()) {
    state.SkipWithError(history->mismatch().c_str());
    return;
  }
  if (question == Question::customer_orders && history->customers().empty()) {
    state.SkipWithError("the history has no customers");
    return;
  }
  const ShopQueries& shop = design == Design::cqrs ? history->cqrs() : history->single_model();
  QuestionDice ask(history->customers());
  eda::LatencyRecorder recorder;
  std::uint64_t rows = 0;
  // Times one question (not the drawing of its parameters, nor freeing its answer).
  const auto timed = [&](const auto& ask_once) {
    const std::int64_t start = eda::monotonic_ns();
    const auto answer = ask_once();
    recorder.record(eda::monotonic_ns() - start);
    rows += answer.size();
  };
  for (auto _ : state) {
    switch (question) {
      case Question::customer_orders: {
        const std::string& customer = ask.customer();
        timed([&] { return shop.customer_orders(customer); });
        break;
      }
      case Question::sales_by_day: {
        const auto& [first, last] = ask.week();
        timed([&] { return shop.sales_by_day(first, last); });
        break;
      }
      case Question::sales_by_day_all:
        timed([&] { return shop.sales_by_day(first_day(), last_day()); });
        break;
      case Question::awaiting_shipment:
        timed([&] { return shop.awaiting_shipment(20); });
        break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["rows"] = state.iterations() > 0
                               ? static_cast<double>(rows) / static_cast<double>(state.iterations())
                               : 0;
  set_latency_counters(state, recorder);
}

// ---- Commands -----------------------------------------------------------------------------

/// The commands of a fresh order's short life: placed, one item, paid.
const std::vector<OrderCommand>& command_cycle() {
  static const std::vector<OrderCommand> cycle{PlaceOrder{"alice"}, AddItem{"sku-07", 2, 1250},
                                               Pay{2500}};
  return cycle;
}

template <class Execute>
void run_commands(benchmark::State& state, Execute execute) {
  const std::vector<OrderCommand>& cycle = command_cycle();
  eda::LatencyRecorder recorder;
  std::uint64_t n = 0;
  for (auto _ : state) {
    const std::uint64_t order = n / cycle.size() + 1;
    const std::int64_t start = eda::monotonic_ns();
    execute(order, cycle[n % cycle.size()]);
    recorder.record(eda::monotonic_ns() - start);
    ++n;
  }
  state.SetItemsProcessed(state.iterations());
  set_latency_counters(state, recorder);
}

void BM_Cqrs_Command(benchmark::State& state) {
  ScratchFile file("command-store");
  SqliteEventStore store({.path = file.path(), .durability = Durability::full});
  OrderRepository orders(store);
  run_commands(state, [&](std::uint64_t order, const OrderCommand& command) {
    (void)orders.execute(order, command);
  });
}

void BM_SingleModel_Command(benchmark::State& state) {
  ScratchFile file("command-single-model");
  baseline::SingleModelShop shop({.path = file.path(), .durability = Durability::full});
  run_commands(state, [&](std::uint64_t order, const OrderCommand& command) {
    (void)shop.execute(order, command, eda::wall_clock_ns());
  });
}

// ---- Projection lag -----------------------------------------------------------------------

/// A fourth projection, applied after the shop's three in the same transaction, that keeps no
/// table: it notes each event's timestamp, so that once the batch has committed the benchmark
/// knows which events just became readable.
class LagProbe final : public Projection {
 public:
  explicit LagProbe(std::vector<std::int64_t>& applied) : applied_(applied) {}
  [[nodiscard]] std::string_view name() const noexcept override { return "lag-probe"; }
  void open(const sqlite::Database&) override {}
  void drop(const sqlite::Database&) override {}
  void apply(const ProjectedEvent& event) override { applied_.push_back(event.timestamp_ns); }
  void write() override {}
  void discard() noexcept override {}

 private:
  std::vector<std::int64_t>& applied_;
};

/// The commands of one order in the steady load: placed, two items, paid, shipped.
OrderCommand lag_command(std::uint64_t order, std::uint64_t step) {
  switch (step) {
    case 0: return PlaceOrder{customer_name(order % 2000)};
    case 1: {
      const std::uint64_t product = order % product_count;
      return AddItem{product_sku(product), 1, product_price_cents(product)};
    }
    case 2: return AddItem{product_sku(19), 2, product_price_cents(19)};
    case 3: return Pay{product_price_cents(order % product_count) + 2 * product_price_cents(19)};
    default: return Ship{"post"};
  }
}
constexpr std::uint64_t lag_commands_per_order = 5;
constexpr std::uint64_t lag_clients = 4;

/// What the clients of one run did.
struct LoadReport {
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> last_position{0};
  std::atomic<int> clients_done{0};
  std::mutex mutex;
  std::string error;
  eda::LatencyRecorder command_latency;
  std::int64_t first_sent_ns = std::numeric_limits<std::int64_t>::max();
  std::int64_t last_answer_ns = 0;
};

/// Client `client` of `lag_clients`: sends its share of `total` commands, one every
/// `interval`, on a fixed schedule (a late command is sent at once: the schedule does not
/// slip), each on orders only this client touches.
void send_on_schedule(zmq::context_t& context, const std::string& endpoint, std::uint64_t client,
                      std::uint64_t total, std::chrono::nanoseconds interval,
                      std::chrono::steady_clock::time_point start, const eda::Deadline& stop_sending,
                      LoadReport& report) {
  eda::LatencyRecorder latency;
  std::int64_t first_sent = std::numeric_limits<std::int64_t>::max();
  std::int64_t last_answer = 0;
  std::uint64_t last_position = 0;
  try {
    CommandClient commands(context, {.endpoint = endpoint, .timeout = 10s});
    // Clients take turns: command k of the whole schedule belongs to client k % clients.
    for (std::uint64_t k = client; k < total && !stop_sending.expired(); k += lag_clients) {
      std::this_thread::sleep_until(start + k * interval);
      const std::uint64_t mine = k / lag_clients;
      const std::uint64_t order = (mine / lag_commands_per_order) * lag_clients + client + 1;
      const OrderCommand command = lag_command(order, mine % lag_commands_per_order);
      const std::int64_t sent = eda::monotonic_ns();
      const CommandAccepted accepted = commands.execute(order, command);
      last_answer = eda::monotonic_ns();
      latency.record(last_answer - sent);
      first_sent = std::min(first_sent, sent);
      last_position = std::max(last_position, accepted.position);
      report.accepted.fetch_add(1);
    }
  } catch (const std::exception& e) {
    const std::lock_guard lock(report.mutex);
    if (report.error.empty()) report.error = "client " + std::to_string(client) + ": " + e.what();
  }
  const std::lock_guard lock(report.mutex);
  report.command_latency.merge(latency);
  report.first_sent_ns = std::min(report.first_sent_ns, first_sent);
  report.last_answer_ns = std::max(report.last_answer_ns, last_answer);
  // Published last: once every client is done, the projector knows the position to reach.
  std::uint64_t seen = report.last_position.load();
  while (seen < last_position && !report.last_position.compare_exchange_weak(seen, last_position)) {
  }
  report.clients_done.fetch_add(1);
}

void BM_Cqrs_ProjectionLag(benchmark::State& state) {
  const auto rate = static_cast<std::uint64_t>(state.range(0));
  const Durability durability = state.range(1) != 0 ? Durability::full : Durability::normal;
  const auto run_time = std::chrono::milliseconds(env_count("EDA_BENCH_CQRS_LAG_MS", 2000));
  const std::uint64_t total = std::max<std::uint64_t>(
      rate * static_cast<std::uint64_t>(run_time.count()) / 1000, lag_clients);
  const std::chrono::nanoseconds interval(1'000'000'000 / rate);

  // The write side: a durable store that announces its appends, and the command service.
  zmq::context_t context;
  ScratchFile store_file("lag-store");
  ScratchFile read_file("lag-read-models");
  SqliteEventStore store({.path = store_file.path(), .durability = durability});
  NotifyingEventStore notifying(store, context, "tcp://127.0.0.1:*");
  CommandService service(context, notifying, {.endpoints = {"tcp://127.0.0.1:*"}});
  // The read side: the projector reads the store file through its own connection.
  SqliteEventStore projector_view({.path = store_file.path(), .durability = Durability::normal});
  std::vector<std::int64_t> applied;
  std::vector<std::unique_ptr<Projection>> projections = shop_projections();
  projections.push_back(std::make_unique<LagProbe>(applied));
  ReadModels read({.path = read_file.path()}, std::move(projections));
  Projector projector(projector_view, read, context,
                      {.store_notifications = notifying.endpoint(), .fallback_poll = 100ms});
  bool subscribed = false;
  for (int i = 0; i < 5000 && !subscribed; ++i) {
    notifying.serve(1ms);
    subscribed = projector.await_notifications(1ms);
  }
  if (!subscribed) {
    state.SkipWithError("the projector did not get the store's notifications within 10 s");
    return;
  }
  std::jthread serving([&](const std::stop_token& stop) {
    service.serve_while([&] { return !stop.stop_requested(); }, 10ms);
  });

  eda::LatencyRecorder lag;
  LoadReport report;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now() + 10ms;  // every client ready
    // A disk slower than the schedule makes the clients late; they give up at twice the time.
    const eda::Deadline stop_sending(2 * run_time + 10ms);
    std::vector<std::jthread> clients;
    for (std::uint64_t c = 0; c < lag_clients; ++c) {
      clients.emplace_back([&, c] {
        send_on_schedule(context, service.endpoints().front(), c, total, interval, start,
                         stop_sending, report);
      });
    }
    // Project until every client is done and the read models hold all they wrote.
    const eda::Deadline give_up(2 * run_time + 30s);
    std::string projector_error;
    while (!give_up.expired()) {
      try {
        if (projector.step(5ms) > 0) {
          const std::int64_t readable = eda::wall_clock_ns();
          for (const std::int64_t written : applied) lag.record(readable - written);
          applied.clear();
        }
      } catch (const std::exception& e) {
        projector_error = std::string("the projector stopped: ") + e.what();
        break;
      }
      if (report.clients_done.load() == static_cast<int>(lag_clients) &&
          read.position() >= report.last_position.load()) {
        break;
      }
    }
    clients.clear();  // joins: each client's loop is bounded by its share and by stop_sending
    if (!projector_error.empty()) {
      state.SkipWithError(projector_error.c_str());
      return;
    }
    if (!report.error.empty()) {
      state.SkipWithError(report.error.c_str());
      return;
    }
    if (read.position() < report.last_position.load()) {
      state.SkipWithError("the read models did not catch up with the commands in time");
      return;
    }
  }
  const eda::LatencySummary lags = lag.summary();
  const double sending_s =
      static_cast<double>(report.last_answer_ns - report.first_sent_ns) / 1e9;
  state.SetItemsProcessed(static_cast<std::int64_t>(report.accepted.load()));
  state.counters["lag_p50_us"] = static_cast<double>(lags.p50_ns) / 1e3;
  state.counters["lag_p99_us"] = static_cast<double>(lags.p99_ns) / 1e3;
  state.counters["lag_max_us"] = static_cast<double>(lags.max_ns) / 1e3;
  state.counters["commands_per_second"] =
      sending_s > 0 ? static_cast<double>(report.accepted.load()) / sending_s : 0;
  const ProjectorStats& projected = projector.stats();
  state.counters["events_per_batch"] =
      projected.batches > 0
          ? static_cast<double>(projected.events) / static_cast<double>(projected.batches)
          : 0;
  set_latency_counters(state, report.command_latency, "cmd_");
}

// ---- Rebuild ------------------------------------------------------------------------------

void BM_Cqrs_Rebuild(benchmark::State& state) {
  const History* history = Histories::get(state, static_cast<std::uint64_t>(state.range(0)));
  if (history == nullptr) return;
  std::uint64_t rebuilt = 0;
  for (auto _ : state) {
    state.PauseTiming();
    {
      ScratchFile file("rebuild");
      ReadModels read({.path = file.path()});
      state.ResumeTiming();
      rebuilt = History::feed_from_start(read, history->store());
      state.PauseTiming();
    }  // closed and removed outside the timing
    state.ResumeTiming();
  }
  if (rebuilt != history->events()) state.SkipWithError("the rebuild did not see every event");
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(history->events()));
}

// ---- Registration -------------------------------------------------------------------------

/// Registers every benchmark; the history sizes come from the environment, hence at run time.
void register_benchmarks() {
  // The benchmarks that wait for fsync run first, before the histories' hundreds of megabytes
  // are written: on a virtual disk their write-back would otherwise be measured as well.
  benchmark::RegisterBenchmark("BM_Cqrs_Command", BM_Cqrs_Command)
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("BM_SingleModel_Command", BM_SingleModel_Command)
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("BM_Cqrs_ProjectionLag", BM_Cqrs_ProjectionLag)
      ->ArgNames({"commands_per_second", "durability"})
      ->ArgsProduct({{500, 2000}, {1, 0}})
      ->Iterations(1)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  const std::vector<std::int64_t> sizes = history_sizes();
  for (const Question question :
       {Question::customer_orders, Question::sales_by_day, Question::sales_by_day_all,
        Question::awaiting_shipment}) {
    for (const Design design : {Design::cqrs, Design::single_model}) {
      const std::string name =
          std::string(design == Design::cqrs ? "BM_Cqrs_Query/" : "BM_SingleModel_Query/") +
          name_of(question);
      auto* benchmark = benchmark::RegisterBenchmark(
          name.c_str(),
          [design, question](benchmark::State& state) { run_query(state, design, question); });
      benchmark->ArgName("events")->UseRealTime()->Unit(benchmark::kMicrosecond);
      for (const std::int64_t size : sizes) benchmark->Arg(size);
    }
  }
  auto* rebuild = benchmark::RegisterBenchmark("BM_Cqrs_Rebuild", BM_Cqrs_Rebuild);
  rebuild->ArgName("events")->UseRealTime()->Unit(benchmark::kMillisecond);
  for (const std::int64_t size : sizes) rebuild->Arg(size);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  register_benchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
