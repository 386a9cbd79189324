#include "narration.hpp"

#include <variant>

namespace eda::sourcing::demo {

std::string money(std::int64_t cents) {
  const std::int64_t rest = cents % 100;
  return std::to_string(cents / 100) + "." + (rest < 10 ? "0" : "") + std::to_string(rest);
}

std::string describe(const OrderState& state) {
  std::string text = std::string(to_string(state.status)) + ", " + state.customer + ", ";
  text += std::to_string(state.lines.size()) + " line(s), total " + money(state.total_cents());
  if (state.paid_cents > 0) text += ", paid " + money(state.paid_cents);
  if (!state.carrier.empty()) text += ", shipped by " + state.carrier;
  return text;
}

std::string describe(const OrderEvent& event) {
  struct {
    std::string operator()(const OrderPlaced& e) const { return "placed by " + e.customer; }
    std::string operator()(const ItemAdded& e) const {
      return "added " + std::to_string(e.quantity) + " x " + e.sku + " at " +
             money(e.unit_price_cents);
    }
    std::string operator()(const ItemRemoved& e) const { return "removed " + e.sku; }
    std::string operator()(const OrderPaid& e) const { return "paid " + money(e.amount_cents); }
    std::string operator()(const OrderShipped& e) const { return "shipped by " + e.carrier; }
    std::string operator()(const OrderCancelled& e) const { return "cancelled: " + e.reason; }
  } words;
  return std::visit(words, event);
}

std::string describe(const RecordedEvent& recorded) {
  return "#" + std::to_string(recorded.position) + " " + recorded.stream + " v" +
         std::to_string(recorded.version) + ": " + describe(order_event_from(recorded));
}

std::vector<std::pair<std::uint64_t, OrderCommand>> story(std::uint64_t first, std::size_t count) {
  std::vector<std::pair<std::uint64_t, OrderCommand>> commands;
  for (std::uint64_t order = first; order < first + count; ++order) {
    commands.emplace_back(order, PlaceOrder{order % 2 == 0 ? "alice" : "bob"});
    commands.emplace_back(order, AddItem{"widget", 2, 1250});
    commands.emplace_back(order, AddItem{"gadget", 1, 990});
    commands.emplace_back(order, RemoveItem{"gadget"});
    commands.emplace_back(order, Pay{order % 3 == 0 ? 1 : 2500});  // every third pays wrong
  }
  return commands;
}

void run(Narrator& say, OrderRepository& orders, std::uint64_t order, const OrderCommand& command,
         const std::string& speaker) {
  try {
    const CommandOutcome outcome = orders.execute(order, command);
    for (const OrderEvent& event : outcome.events) {
      say.say(speaker, "order " + std::to_string(order) + ": " + describe(event) + "  (version " +
                           std::to_string(outcome.appended.last_version) + ", position " +
                           std::to_string(outcome.appended.last_position) + ")");
    }
  } catch (const CommandRejected& e) {
    say.say(speaker, "order " + std::to_string(order) + ": rejected — " + e.what());
  }
}

}  // namespace eda::sourcing::demo
