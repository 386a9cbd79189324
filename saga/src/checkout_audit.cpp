// The shop's books checked after a run of checkouts (see checkout_audit.hpp).
#include "eda/saga/checkout_audit.hpp"

#include <optional>

namespace eda::saga {

std::vector<std::string> checkout_violations(const CheckoutOrchestrator& orders,
                                             const Inventory& inventory, const Payment& payment,
                                             const Shipping& shipping, std::uint64_t first,
                                             std::uint64_t last) {
  std::vector<std::string> violations;
  std::uint64_t held = 0;
  std::uint64_t captured = 0;
  std::uint64_t parcels = 0;
  for (std::uint64_t order = first; order <= last; ++order) {
    const std::string name = "order " + std::to_string(order);
    const std::optional<CheckoutSaga> saga = orders.find(order);
    const bool holds = inventory.ledger().holds(order);
    const std::optional<PaymentRecord> charge = payment.find(order);
    const bool charged = charge && charge->status == PaymentStatus::charged;
    const std::optional<ParcelRecord> parcel = shipping.find(order);
    const bool booked = parcel && parcel->status == ParcelStatus::booked;
    if (!saga) {
      if (holds || charged || booked) violations.push_back(name + ": effects without a saga");
      continue;
    }
    switch (saga->status) {
      case SagaStatus::completed:
        held += saga->order.quantity;
        captured += saga->order.amount_cents;
        ++parcels;
        if (!holds || !charged || !booked) {
          violations.push_back(name + " completed but a step is missing: " + saga->describe());
        }
        break;
      case SagaStatus::rolled_back:
        if (holds || charged || booked) {
          violations.push_back(name + " rolled back with an effect left: " + saga->describe());
        }
        break;
      default:
        violations.push_back(name + " has not ended (" + std::string(to_string(saga->status)) +
                             "): " + saga->describe());
    }
  }
  if (inventory.ledger().held() != held) {
    violations.push_back("stock held " + std::to_string(inventory.ledger().held()) +
                         " != stock of completed orders " + std::to_string(held));
  }
  if (payment.captured_cents() != captured) {
    violations.push_back("captured " + std::to_string(payment.captured_cents()) +
                         " != completed totals " + std::to_string(captured));
  }
  if (shipping.booked_count() != parcels) {
    violations.push_back("parcels booked " + std::to_string(shipping.booked_count()) +
                         " != completed orders " + std::to_string(parcels));
  }
  return violations;
}

}  // namespace eda::saga
