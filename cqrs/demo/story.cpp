#include "story.hpp"

#include <cstdio>

#include "eda/overloaded.hpp"

namespace eda::cqrs::demo {

using namespace sourcing;

std::string money(std::int64_t cents) {
  char text[32];
  std::snprintf(text, sizeof text, "%s%lld.%02lld", cents < 0 ? "-" : "",
                static_cast<long long>((cents < 0 ? -cents : cents) / 100),
                static_cast<long long>((cents < 0 ? -cents : cents) % 100));
  return text;
}

std::string describe(const OrderCommand& command) {
  return std::visit(eda::Overloaded{
                        [](const PlaceOrder& c) { return "PlaceOrder for " + c.customer; },
                        [](const AddItem& c) {
                          return "AddItem " + std::to_string(c.quantity) + " x " + c.sku + " at " +
                                 money(c.unit_price_cents);
                        },
                        [](const RemoveItem& c) { return "RemoveItem " + c.sku; },
                        [](const Pay& c) { return "Pay " + money(c.amount_cents); },
                        [](const Ship& c) { return "Ship by " + c.carrier; },
                        [](const Cancel& c) { return "Cancel (" + c.reason + ")"; },
                    },
                    command);
}

std::string describe(const OrderSummary& order) {
  return "order " + std::to_string(order.order_id) + ": " + order.status + ", " +
         std::to_string(order.item_count) + " items, " + money(order.total_cents);
}

std::string describe(const ProductDaySales& sales) {
  return sales.day + " " + sales.sku + ": " + std::to_string(sales.quantity) + " sold, " +
         money(sales.revenue_cents);
}

const std::vector<std::string>& customers() {
  static const std::vector<std::string> names = {"alice", "bob", "carol", "dave"};
  return names;
}

std::vector<std::pair<std::uint64_t, OrderCommand>> story(std::uint64_t first, std::size_t count) {
  std::vector<std::pair<std::uint64_t, OrderCommand>> commands;
  for (std::uint64_t order = first; order < first + count; ++order) {
    const std::uint64_t n = order - first;
    const auto widgets = static_cast<std::uint32_t>(1 + n % 3);
    commands.emplace_back(order, PlaceOrder{customers()[n % customers().size()]});
    commands.emplace_back(order, AddItem{"widget", widgets, 1250});
    commands.emplace_back(order, AddItem{"gadget", 1, 999});
    if (n % 4 == 3) commands.emplace_back(order, RemoveItem{"gizmo"});  // rejected: no such line
    commands.emplace_back(order, Pay{widgets * 1250 + 999});
    if (n % 3 == 0) commands.emplace_back(order, Ship{"post"});
    if (n % 5 == 4) commands.emplace_back(order, Cancel{"changed their mind"});
  }
  return commands;
}

}  // namespace eda::cqrs::demo
