/// @file checkout_audit.hpp
/// @brief The shop's books after a run of checkouts: what they must say once every saga has
///        ended, checked against each participant's own database.
///
/// A saga gives no isolation and no atomicity across services; what it promises is that every
/// checkout ends and leaves the books consistent: the stock held is the stock of completed
/// orders, the money captured is their totals, each completed order has its parcel and no
/// rolled-back order has any effect left. The tests, the demo and the benchmark's fault matrix
/// all check exactly this.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "eda/saga/checkout_orchestrator.hpp"
#include "eda/saga/inventory.hpp"
#include "eda/saga/payment.hpp"
#include "eda/saga/shipping.hpp"

namespace eda::saga {

/// @brief What is wrong with the books once every checkout of orders [first, last] should have
///        ended: an order completed with a step missing, rolled back with an effect left, an
///        effect without a saga, a saga still running (or parked), and totals that disagree
///        (stock held, money captured, parcels booked against the completed orders). Returns
///        each violation in words; empty when the books balance.
[[nodiscard]] std::vector<std::string> checkout_violations(const CheckoutOrchestrator& orders,
                                                           const Inventory& inventory,
                                                           const Payment& payment,
                                                           const Shipping& shipping,
                                                           std::uint64_t first, std::uint64_t last);

}  // namespace eda::saga
