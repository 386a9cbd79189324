#include "eda/state_transfer/shipping.hpp"

#include "eda/state_transfer/replica.hpp"

namespace eda::state_transfer {

ShippingLabel make_label(const ShipOrder& order, const Customer& customer, std::uint64_t sequence,
                         std::chrono::nanoseconds staleness) {
  return ShippingLabel{order.order_id,          customer.id, address_label(customer),
                       customer.tier == "gold", sequence,    staleness};
}

std::optional<ShippingLabel> Shipping::label_for(const ShipOrder& order) const {
  // The label is made under the replica's read lock, from the record in place: copying the
  // whole record (seven strings) would cost more than the lookup itself.
  return replica_.read_record(
      order.customer_id,
      [&](const Customer* customer, const CustomerView& view) -> std::optional<ShippingLabel> {
        if (customer == nullptr) {
          return std::nullopt;
        }
        return make_label(order, *customer, view.sequence, view.staleness);
      });
}

}  // namespace eda::state_transfer
