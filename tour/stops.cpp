#include "stop.hpp"

namespace eda::tour {

std::vector<Stop> all_stops() {
  return {notification_stop(), state_transfer_stop(), sourcing_stop(), cqrs_stop(),
          scaling_stop(), saga_stop()};
}

}  // namespace eda::tour
