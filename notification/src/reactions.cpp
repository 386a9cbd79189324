#include <stdexcept>

#include "eda/notification/consumer.hpp"

namespace eda::notification {
Reaction reaction_for(std::string_view role) {
  if (role.starts_with("inventory")) {
    return [](Publisher& out, const OrderPlaced& placed, const Order* order,
              const EventMetadata& cause) {
      (void)out.publish(StockReserved{placed.order_id, order ? order->details.item : "",
                                      order ? order->details.quantity : 0},
                        Cause::of(cause));
    };
  }
  if (role.starts_with("shipping")) {
    return [](Publisher& out, const OrderPlaced& placed, const Order* order,
              const EventMetadata& cause) {
      (void)out.publish(ShipmentScheduled{placed.order_id, order ? order->details.address : ""},
                        Cause::of(cause));
    };
  }
  if (role.starts_with("billing")) {
    return [](Publisher& out, const OrderPlaced& placed, const Order* order,
              const EventMetadata& cause) {
      (void)out.publish(PaymentCharged{placed.order_id, order ? order->details.customer : "",
                                       order ? order->details.price_cents : 0},
                        Cause::of(cause));
    };
  }
  throw std::invalid_argument("unknown role '" + std::string(role) +
                              "': choose inventory, shipping or billing");
}

}  // namespace eda::notification
