#include "eda/sourcing/order.hpp"

#include <stdexcept>
#include <string>

#include "eda/overloaded.hpp"

namespace eda::sourcing {
namespace {

[[noreturn]] void reject(const std::string& why) { throw CommandRejected(why); }

void require_status(const OrderState& state, OrderStatus wanted, std::string_view action) {
  if (state.status != wanted) {
    reject("cannot " + std::string(action) + " an order that is " +
           std::string(to_string(state.status)) + " (it must be " + std::string(to_string(wanted)) +
           ")");
  }
}

}  // namespace

std::string_view to_string(OrderStatus status) noexcept {
  switch (status) {
    case OrderStatus::none:
      return "not placed";
    case OrderStatus::open:
      return "open";
    case OrderStatus::paid:
      return "paid";
    case OrderStatus::shipped:
      return "shipped";
    case OrderStatus::cancelled:
      return "cancelled";
  }
  return "unknown";
}

// Overflow-checked arithmetic: C++20 has none, GCC and clang have these builtins (they compute
// the exact result and say whether it fit).
std::int64_t line_total_cents(const OrderLine& line) {
  std::int64_t total = 0;
  if (__builtin_mul_overflow(static_cast<std::int64_t>(line.quantity), line.unit_price_cents,
                             &total)) {
    throw std::overflow_error("a line of " + std::to_string(line.quantity) + " x " +
                              std::to_string(line.unit_price_cents) +
                              " cents does not fit in 64 bits");
  }
  return total;
}

std::int64_t checked_add(std::int64_t a, std::int64_t b, const char* what) {
  std::int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) {
    throw std::overflow_error(std::string(what) + " does not fit in 64 bits");
  }
  return sum;
}

std::int64_t checked_subtract(std::int64_t a, std::int64_t b, const char* what) {
  std::int64_t difference = 0;
  if (__builtin_sub_overflow(a, b, &difference)) {
    throw std::overflow_error(std::string(what) + " does not fit in 64 bits");
  }
  return difference;
}

std::int64_t total_of(const std::map<std::string, OrderLine>& lines) {
  std::int64_t total = 0;
  for (const auto& [sku, line] : lines)
    total = checked_add(total, line_total_cents(line), "an order's total");
  return total;
}

std::int64_t OrderState::total_cents() const { return total_of(lines); }

std::vector<OrderEvent> decide(const OrderCommand& command, const OrderState& state) {
  return std::visit(
      eda::Overloaded{
          [&](const PlaceOrder& c) -> std::vector<OrderEvent> {
            if (state.status != OrderStatus::none) reject("this order was already placed");
            if (c.customer.empty()) reject("an order needs a customer");
            return {OrderPlaced{c.customer}};
          },
          [&](const AddItem& c) -> std::vector<OrderEvent> {
            require_status(state, OrderStatus::open, "add items to");
            if (c.sku.empty()) reject("an item needs a sku");
            if (c.quantity == 0) reject("a quantity must be at least 1");
            if (c.unit_price_cents < 0) reject("a price cannot be negative");
            if (c.unit_price_cents > max_unit_price_cents) {
              reject("a price cannot be above " + std::to_string(max_unit_price_cents) + " cents");
            }
            const auto line = state.lines.find(c.sku);
            if (line == state.lines.end() && state.lines.size() >= max_order_lines) {
              reject("an order has at most " + std::to_string(max_order_lines) + " lines");
            }
            const std::uint64_t held = line == state.lines.end() ? 0 : line->second.quantity;
            if (held + c.quantity > max_line_quantity) {
              reject("a line holds at most " + std::to_string(max_line_quantity) +
                     " units (this one would hold " + std::to_string(held + c.quantity) + ")");
            }
            return {ItemAdded{c.sku, c.quantity, c.unit_price_cents}};
          },
          [&](const RemoveItem& c) -> std::vector<OrderEvent> {
            require_status(state, OrderStatus::open, "remove items from");
            if (state.lines.count(c.sku) == 0) reject("the order has no line '" + c.sku + "'");
            return {ItemRemoved{c.sku}};
          },
          [&](const Pay& c) -> std::vector<OrderEvent> {
            require_status(state, OrderStatus::open, "pay");
            if (state.lines.empty()) reject("cannot pay an empty order");
            if (c.amount_cents != state.total_cents()) {
              reject("the amount " + std::to_string(c.amount_cents) + " does not match the total " +
                     std::to_string(state.total_cents()));
            }
            return {OrderPaid{c.amount_cents}};
          },
          [&](const Ship& c) -> std::vector<OrderEvent> {
            require_status(state, OrderStatus::paid, "ship");
            return {OrderShipped{c.carrier}};
          },
          [&](const Cancel& c) -> std::vector<OrderEvent> {
            if (state.status != OrderStatus::open && state.status != OrderStatus::paid) {
              reject("cannot cancel an order that is " + std::string(to_string(state.status)));
            }
            return {OrderCancelled{c.reason}};
          },
      },
      command);
}

OrderState evolve(OrderState state, const OrderEvent& event) {
  std::visit(eda::Overloaded{
                 [&](const OrderPlaced& e) {
                   state.status = OrderStatus::open;
                   state.customer = e.customer;
                 },
                 [&](const ItemAdded& e) {
                   OrderLine& line = state.lines[e.sku];
                   line.quantity += e.quantity;
                   line.unit_price_cents = e.unit_price_cents;
                 },
                 [&](const ItemRemoved& e) { state.lines.erase(e.sku); },
                 [&](const OrderPaid& e) {
                   state.status = OrderStatus::paid;
                   state.paid_cents = e.amount_cents;
                 },
                 [&](const OrderShipped& e) {
                   state.status = OrderStatus::shipped;
                   state.carrier = e.carrier;
                 },
                 [&](const OrderCancelled&) { state.status = OrderStatus::cancelled; },
             },
             event);
  return state;
}

OrderState replay(const std::vector<OrderEvent>& events) {
  OrderState state;
  for (const OrderEvent& event : events) {
    state = evolve(std::move(state), event);
  }
  return state;
}

}  // namespace eda::sourcing
