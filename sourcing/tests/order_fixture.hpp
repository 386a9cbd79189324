// Random order commands for the property tests.
#pragma once

#include <random>
#include <string>

#include "eda/sourcing/order.hpp"

namespace eda::sourcing::test {

/// A random command, mostly sensible for `state`, sometimes not (rejections are part of it).
inline OrderCommand random_command(std::mt19937_64& random, const OrderState& state) {
  static const char* const skus[] = {"widget", "gadget", "gizmo"};
  const std::string sku = skus[random() % 3];
  switch (random() % 8) {
    case 0: return PlaceOrder{"customer-" + std::to_string(random() % 5)};
    case 1:
    case 2: return AddItem{sku, static_cast<std::uint32_t>(random() % 3), static_cast<std::int64_t>(random() % 2000)};
    case 3: return RemoveItem{sku};
    case 4: return Pay{random() % 4 == 0 ? 1 : state.total_cents()};
    case 5: return Ship{"post"};
    case 6: return Cancel{"random"};
    default: return AddItem{sku, 1, 100};
  }
}

}  // namespace eda::sourcing::test
