#include <stdexcept>

#include "eda/notification/consumer.hpp"

namespace eda::notification {
namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

Reaction reaction_for(std::string_view role) {
  if (starts_with(role, "inventory")) {
    return [](Publisher& out, const OrderPlaced& placed, const Order* order, const EventMetadata& cause) {
      (void)out.publish(StockReserved{placed.order_id, order ? order->details.item : "",
                                      order ? order->details.quantity : 0},
                        Cause::of(cause));
    };
  }
  if (starts_with(role, "shipping")) {
    return [](Publisher& out, const OrderPlaced& placed, const Order* order, const EventMetadata& cause) {
      (void)out.publish(ShipmentScheduled{placed.order_id, order ? order->details.address : ""},
                        Cause::of(cause));
    };
  }
  if (starts_with(role, "billing")) {
    return [](Publisher& out, const OrderPlaced& placed, const Order* order, const EventMetadata& cause) {
      (void)out.publish(PaymentCharged{placed.order_id, order ? order->details.customer : "",
                                       order ? order->details.price_cents : 0},
                        Cause::of(cause));
    };
  }
  throw std::invalid_argument("unknown role '" + std::string(role) +
                              "': choose inventory, shipping or billing");
}

}  // namespace eda::notification
