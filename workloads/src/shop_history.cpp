#include "eda/workloads/shop_history.hpp"

#include <exception>
#include <stdexcept>
#include <thread>
#include <utility>

#include "eda/clock.hpp"
#include "eda/sourcing/order_repository.hpp"
#include "eda/workloads/shop_questions.hpp"
#include "eda/workloads/shop_simulator.hpp"

namespace eda::workloads {

using namespace eda::sourcing;

std::uint64_t rebuild_read_models(cqrs::ReadModels& read_models, const EventStore& store) {
  return cqrs::rebuild_all(read_models, store, {}, 10'000);
}

ShopHistory::ShopHistory(const ShopHistoryFiles& files, std::uint64_t events,
                         const HistoryProgress& progress)
    : events_(events),
      store_({.path = files.store, .durability = Durability::normal}),
      single_({.path = files.single_model, .durability = Durability::normal}) {
  const std::int64_t began = monotonic_ns();
  std::exception_ptr event_side_failed;
  std::jthread event_side([&] {
    try {
      times_.event_store_ns = write_event_store();
      const std::int64_t start = monotonic_ns();
      read_.emplace(cqrs::ReadModelOptions{.path = files.read_models});
      const std::uint64_t projected = rebuild_read_models(*read_, store_);
      times_.read_models_ns = monotonic_ns() - start;
      if (projected != events_) {
        throw std::runtime_error("the read models saw " + std::to_string(projected) + " of " +
                                 std::to_string(events_) + " events");
      }
    } catch (...) {
      event_side_failed = std::current_exception();
    }
  });
  times_.single_model_ns = write_single_model(progress);
  event_side.join();
  if (event_side_failed) std::rethrow_exception(event_side_failed);
  mismatch_ = compare_answers();
  times_.total_ns = monotonic_ns() - began;
}

// A thousand orders per transaction (one append_all): seconds, not a million commits.
std::int64_t ShopHistory::write_event_store() {
  const std::int64_t start = monotonic_ns();
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
      (void)outcome.value();  // throws what the failed append would have thrown
    }
  }
  return monotonic_ns() - start;
}

// A transaction per command: the single model has no grouped write.
std::int64_t ShopHistory::write_single_model(const HistoryProgress& progress) {
  const std::int64_t start = monotonic_ns();
  ShopSimulator shop(events_);
  std::uint64_t written = 0;
  while (const std::optional<OrderLife> life = shop.next_order()) {
    for (const TimedCommand& timed : life->commands) {
      (void)single_.execute(life->order_id, timed.command, timed.at_ns);
    }
    commands_ += life->commands.size();
    written += life->events.size();
    if (progress) progress(written);
  }
  orders_ = shop.orders();
  customers_ = shop.customers();
  return monotonic_ns() - start;
}

std::string ShopHistory::compare_answers() const {
  const cqrs::ShopQueries& cqrs = *read_;
  const cqrs::ShopQueries& single = single_;
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

}  // namespace eda::workloads
