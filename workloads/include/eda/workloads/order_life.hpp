/// @file order_life.hpp
/// @brief One order's life as the shop's customers send it: the commands the event-sourcing
///        benchmarks and the tour's event-sourcing stop both run, order after order.
#pragma once

#include <vector>

#include "eda/sourcing/order.hpp"

namespace eda::workloads {

/// @brief The five commands of one order's life, in order: placed by alice, a widget (2 ×
///        12.50) and a gadget (9.90) added, the gadget removed, then paid in full (25.00).
///
/// Every command is accepted when run in this order on a new order, so a workload that runs
/// order `n` through them measures the same commands on every order.
const std::vector<sourcing::OrderCommand>& order_life();

}  // namespace eda::workloads
