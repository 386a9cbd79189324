#include "eda/notification/shop.hpp"

namespace eda::notification {

OrderRequest sample_order(std::uint64_t n) {
  static const char* const customers[] = {"alice", "bob", "carol", "dave"};
  static const char* const items[] = {"widget", "gadget", "gizmo"};
  static const char* const streets[] = {"1 Harbour Road", "22 Mill Lane", "5 Station Street"};
  const auto quantity = static_cast<std::uint32_t>(n % 4 + 1);
  return OrderRequest{customers[n % 4], items[n % 3], quantity,
                      static_cast<std::int64_t>(quantity) * 1250, streets[n % 3]};
}

}  // namespace eda::notification
