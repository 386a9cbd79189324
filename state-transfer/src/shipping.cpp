#include "eda/state_transfer/shipping.hpp"

#include "eda/state_transfer/replica.hpp"

namespace eda::state_transfer {

ShippingLabel make_label(const ShipOrder& order, const Customer& customer,
                         std::uint64_t sequence, std::chrono::nanoseconds staleness) {
  return ShippingLabel{order.order_id, customer.id, address_label(customer),
                       customer.tier == "gold", sequence, staleness};
}

std::optional<ShippingLabel> Shipping::label_for(const ShipOrder& order) const {
  const CustomerView view = replica_.lookup(order.customer_id);
  if (!view.customer) {
    return std::nullopt;
  }
  return make_label(order, *view.customer, view.sequence, view.staleness);
}

}  // namespace eda::state_transfer
