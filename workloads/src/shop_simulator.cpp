#include "eda/workloads/shop_simulator.hpp"

#include <algorithm>
#include <utility>

#include "eda/cqrs/queries.hpp"

namespace eda::workloads {

using namespace eda::sourcing;

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

ShopSimulator::ShopSimulator(std::uint64_t events_wanted)
    : events_wanted_(events_wanted),
      customer_count_(std::max<std::uint64_t>(20, events_wanted / events_per_customer)),
      dice_(history_seed),
      has_orders_(customer_count_, false) {}

std::optional<OrderLife> ShopSimulator::next_order() {
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

std::vector<std::string> ShopSimulator::customers() const {
  std::vector<std::string> names;
  for (std::uint64_t c = 0; c < customer_count_; ++c) {
    if (has_orders_[c]) names.push_back(customer_name(c));
  }
  return names;
}

// The customer's and the warehouse's commands for one order placed at `placed_at`.
void ShopSimulator::live(std::int64_t placed_at) {
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

// Decides `command` against the order's state and records it with its events; false (and
// nothing recorded) when the history has no room left for them.
bool ShopSimulator::act(const OrderCommand& command, std::int64_t at_ns) {
  std::vector<OrderEvent> events = decide(command, state_);  // throws on a generator bug
  if (events_ + life_->events.size() + events.size() > events_wanted_) return false;
  life_->commands.push_back({command, at_ns});
  for (OrderEvent& event : events) {
    state_ = evolve(std::move(state_), event);
    life_->events.push_back({std::move(event), at_ns});
  }
  return true;
}

const std::string& first_day() {
  static const std::string day = cqrs::utc_day(history_start_ns);
  return day;
}

const std::string& last_day() {
  static const std::string day = cqrs::utc_day(history_end_ns + day_ns);
  return day;
}

}  // namespace eda::workloads
