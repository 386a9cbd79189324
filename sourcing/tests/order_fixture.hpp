// Order histories for the tests: random commands for the property tests, and a history
// written partly by an old version of the service (for upcasting).
#pragma once

#include <random>
#include <string>
#include <vector>

#include "eda/sourcing/event_store.hpp"
#include "eda/sourcing/order.hpp"
#include "eda/sourcing/order_repository.hpp"

namespace eda::sourcing::test {

/// A random command, mostly sensible for `state`, sometimes not (rejections are part of it).
inline OrderCommand random_command(std::mt19937_64& random, const OrderState& state) {
  static const char* const skus[] = {"widget", "gadget", "gizmo"};
  const std::string sku = skus[random() % 3];
  switch (random() % 8) {
    case 0:
      return PlaceOrder{"customer-" + std::to_string(random() % 5)};
    case 1:
    case 2:
      return AddItem{sku, static_cast<std::uint32_t>(random() % 3),
                     static_cast<std::int64_t>(random() % 2000)};
    case 3:
      return RemoveItem{sku};
    case 4:
      return Pay{random() % 4 == 0 ? 1 : state.total_cents()};
    case 5:
      return Ship{"post"};
    case 6:
      return Cancel{"random"};
    default:
      return AddItem{sku, 1, 100};
  }
}

/// Writes order `order_id` as an old version of the service and then the current one left it:
/// placed by "gina" (stream version 1); 3 "widget" at 12.10 euros as an ItemAdded of version 1,
/// price in euros (version 2); then 1 "gadget" at 990 cents as a current ItemAdded (version 3).
/// Loaded through the upcaster chain, the widget line is 3 at 1210 cents.
inline void write_order_with_an_old_item(EventStore& store, std::uint64_t order_id) {
  OrderRepository orders(store);
  orders.execute(order_id, PlaceOrder{"gina"});
  store.append(order_stream(order_id), ExpectedVersion::exactly(1),
               std::vector{EventData::of(eda::make_metadata<ItemAddedV1>("order-service"),
                                         ItemAddedV1{"widget", 3, 12.10})});
  orders.execute(order_id, AddItem{"gadget", 1, 990});
}

}  // namespace eda::sourcing::test
