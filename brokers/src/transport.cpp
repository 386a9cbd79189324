// What every transport checks the same way.
#include "eda/brokers/transport.hpp"

#include <algorithm>
#include <stdexcept>

namespace eda::brokers {

void check_name(const std::string& name, const char* what) {
  const bool ok =
      !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_';
      });
  if (!ok) {
    throw std::invalid_argument(std::string(what) + " '" + name +
                                "' must be 1..64 letters, digits, '-' or '_'");
  }
}

TransportOptions checked_options(TransportOptions options) {
  check_name(options.name, "transport name");
  if (options.max_deliveries == 0) throw std::invalid_argument("max_deliveries must be >= 1");
  // 65 535: RabbitMQ's prefetch is a 16-bit count.
  if (options.max_in_flight == 0 || options.max_in_flight > 65'535) {
    throw std::invalid_argument("max_in_flight must be 1..65535");
  }
  return options;
}

}  // namespace eda::brokers
