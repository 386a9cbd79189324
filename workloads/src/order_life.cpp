#include "eda/workloads/order_life.hpp"

namespace eda::workloads {

const std::vector<sourcing::OrderCommand>& order_life() {
  using namespace sourcing;
  static const std::vector<OrderCommand> life{PlaceOrder{"alice"}, AddItem{"widget", 2, 1250},
                                              AddItem{"gadget", 1, 990}, RemoveItem{"gadget"},
                                              Pay{2500}};
  return life;
}

}  // namespace eda::workloads
