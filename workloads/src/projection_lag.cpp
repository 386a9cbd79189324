#include "eda/workloads/projection_lag.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <stop_token>
#include <thread>
#include <utility>
#include <vector>

#include <zmq.hpp>

#include "eda/clock.hpp"
#include "eda/cqrs/command_service.hpp"
#include "eda/cqrs/projection.hpp"
#include "eda/cqrs/projections.hpp"
#include "eda/cqrs/projector.hpp"
#include "eda/cqrs/read_models.hpp"
#include "eda/sourcing/order.hpp"
#include "eda/sourcing/sqlite_store.hpp"
#include "eda/sourcing/subscription.hpp"
#include "eda/workloads/shop_simulator.hpp"

namespace eda::workloads {

namespace {

using namespace std::chrono_literals;
using namespace eda::cqrs;
using namespace eda::sourcing;

/// A fourth projection, applied after the shop's three in the same transaction, that keeps no
/// table: it notes each event's timestamp, so that once the batch has committed the run knows
/// which events just became readable.
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

/// The projections a lag run's read models hold: the shop's three, then the probe.
std::vector<std::unique_ptr<Projection>> probed_projections(std::vector<std::int64_t>& applied) {
  std::vector<std::unique_ptr<Projection>> projections = shop_projections();
  projections.push_back(std::make_unique<LagProbe>(applied));
  return projections;
}

/// The commands of one order in the steady load: placed, two items, paid, shipped.
OrderCommand lag_command(std::uint64_t order, std::uint64_t step) {
  switch (step) {
    case 0:
      return PlaceOrder{customer_name(order % 2000)};
    case 1: {
      const std::uint64_t product = order % product_count;
      return AddItem{product_sku(product), 1, product_price_cents(product)};
    }
    case 2:
      return AddItem{product_sku(19), 2, product_price_cents(19)};
    case 3:
      return Pay{product_price_cents(order % product_count) + 2 * product_price_cents(19)};
    default:
      return Ship{"post"};
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
  LatencyRecorder command_latency;
  std::int64_t first_sent_ns = std::numeric_limits<std::int64_t>::max();
  std::int64_t last_answer_ns = 0;
};

/// Client `client` of `lag_clients`: sends its share of `total` commands, one every
/// `interval`, on a fixed schedule (a late command is sent at once: the schedule does not
/// slip), each on orders only this client touches, numbered after `orders_before`.
void send_on_schedule(zmq::context_t& context, const std::string& endpoint, std::uint64_t client,
                      std::uint64_t orders_before, std::uint64_t total,
                      std::chrono::nanoseconds interval,
                      std::chrono::steady_clock::time_point start, const Deadline& stop_sending,
                      LoadReport& report) {
  LatencyRecorder latency;
  std::int64_t first_sent = std::numeric_limits<std::int64_t>::max();
  std::int64_t last_answer = 0;
  std::uint64_t last_position = 0;
  try {
    CommandClient commands(context, {.endpoint = endpoint, .timeout = 10s});
    // Clients take turns: command k of the whole schedule belongs to client k % clients.
    for (std::uint64_t k = client; k < total && !stop_sending.expired(); k += lag_clients) {
      std::this_thread::sleep_until(start + k * interval);
      const std::uint64_t mine = k / lag_clients;
      const std::uint64_t order =
          orders_before + (mine / lag_commands_per_order) * lag_clients + client + 1;
      const OrderCommand command = lag_command(order, mine % lag_commands_per_order);
      const std::int64_t sent = monotonic_ns();
      const CommandAccepted accepted = commands.execute(order, command);
      last_answer = monotonic_ns();
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

}  // namespace

/// The shop under load. Declared in the order they are built; destroyed the other way round,
/// the service thread first.
struct ProjectionLagRun::Shop {
  explicit Shop(ProjectionLagOptions run_options)
      : options(std::move(run_options)),
        store({.path = options.store_path, .durability = options.durability}),
        notifying(store, context, "tcp://127.0.0.1:*"),
        service(context, notifying, {.endpoints = {"tcp://127.0.0.1:*"}}),
        projector_view({.path = options.store_path, .durability = Durability::normal}),
        read({.path = options.read_models_path}, probed_projections(applied)),
        projector(projector_view, read, context,
                  {.store_notifications = notifying.endpoint(), .fallback_poll = 100ms}) {}

  ProjectionLagOptions options;
  // The write side: a store that announces its appends, and the command service.
  zmq::context_t context;
  SqliteEventStore store;
  NotifyingEventStore notifying;
  CommandService service;
  // The read side: the projector reads the store file through its own connection.
  SqliteEventStore projector_view;
  std::vector<std::int64_t> applied;  // written by the probe, read after each batch
  ReadModels read;
  Projector projector;
  std::jthread serving;
  std::uint64_t orders_before = 0;  // the orders earlier runs used have lower numbers
  LatencyRecorder lag;
  LoadReport report;
};

ProjectionLagRun::ProjectionLagRun(ProjectionLagOptions options)
    : shop_(std::make_unique<Shop>(std::move(options))) {
  Shop& shop = *shop_;
  bool subscribed = false;
  for (int i = 0; i < 5000 && !subscribed; ++i) {
    shop.notifying.serve(1ms);
    subscribed = shop.projector.await_notifications(1ms);
  }
  if (!subscribed) {
    throw std::runtime_error("the projector did not get the store's notifications within 10 s");
  }
  shop.serving = std::jthread([&shop](const std::stop_token& stop) {
    shop.service.serve_while([&] { return !stop.stop_requested(); }, 10ms);
  });
}

ProjectionLagRun::~ProjectionLagRun() = default;

void ProjectionLagRun::run() {
  Shop& shop = *shop_;
  const std::uint64_t rate = shop.options.commands_per_second;
  const std::chrono::milliseconds run_time = shop.options.run_time;
  const std::uint64_t total = std::max<std::uint64_t>(
      rate * static_cast<std::uint64_t>(run_time.count()) / 1000, lag_clients);
  const std::chrono::nanoseconds interval(1'000'000'000 / rate);
  LoadReport& report = shop.report;
  report.clients_done.store(0);  // this run's clients

  const auto start = std::chrono::steady_clock::now() + 10ms;  // every client ready
  // A disk slower than the schedule makes the clients late; they give up at twice the time.
  const Deadline stop_sending(2 * run_time + 10ms);
  std::vector<std::jthread> clients;
  for (std::uint64_t c = 0; c < lag_clients; ++c) {
    clients.emplace_back([&, c] {
      send_on_schedule(shop.context, shop.service.endpoints().front(), c, shop.orders_before, total,
                       interval, start, stop_sending, report);
    });
  }
  // Project until every client is done and the read models hold all they wrote.
  const Deadline give_up(2 * run_time + 30s);
  std::string projector_error;
  while (!give_up.expired()) {
    try {
      if (shop.projector.step(5ms) > 0) {
        const std::int64_t readable = wall_clock_ns();
        for (const std::int64_t written : shop.applied) shop.lag.record(readable - written);
        shop.applied.clear();
      }
    } catch (const std::exception& e) {
      projector_error = std::string("the projector stopped: ") + e.what();
      break;
    }
    if (report.clients_done.load() == static_cast<int>(lag_clients) &&
        shop.read.position() >= report.last_position.load()) {
      break;
    }
  }
  clients.clear();  // joins: each client's loop is bounded by its share and by stop_sending
  shop.orders_before += total;  // more than this run's orders: each has at least one command
  if (!projector_error.empty()) throw std::runtime_error(projector_error);
  if (!report.error.empty()) throw std::runtime_error(report.error);
  if (shop.read.position() < report.last_position.load()) {
    throw std::runtime_error("the read models did not catch up with the commands in time");
  }
}

const LatencyRecorder& ProjectionLagRun::lag() const { return shop_->lag; }

const LatencyRecorder& ProjectionLagRun::command_latency() const {
  return shop_->report.command_latency;
}

std::uint64_t ProjectionLagRun::commands_accepted() const { return shop_->report.accepted.load(); }

double ProjectionLagRun::commands_per_second() const {
  const LoadReport& report = shop_->report;
  const double sending_s = static_cast<double>(report.last_answer_ns - report.first_sent_ns) / 1e9;
  return sending_s > 0 ? static_cast<double>(report.accepted.load()) / sending_s : 0;
}

double ProjectionLagRun::events_per_batch() const {
  const ProjectorStats& projected = shop_->projector.stats();
  return projected.batches > 0
             ? static_cast<double>(projected.events) / static_cast<double>(projected.batches)
             : 0;
}

}  // namespace eda::workloads
