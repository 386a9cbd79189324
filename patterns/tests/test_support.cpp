#include "test_support.hpp"

namespace eda::test {

OrderPlaced sample_order(std::uint64_t id) {
  return OrderPlaced{id, "customer-" + std::to_string(id), "widget", 3, 1999, id % 2 == 0};
}

}  // namespace eda::test
