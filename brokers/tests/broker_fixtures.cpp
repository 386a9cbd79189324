// The servers of the brokers tests.
#include "broker_fixtures.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <memory>

namespace eda::brokers::testing {

std::optional<std::string> nats_server_or_skip() {
  auto program = find_nats_server();
  if (!program) WARN("SKIPPED: nats-server is not installed (Debian: nats-server)");
  return program;
}

const RabbitNodeAddress* rabbit_node_or_skip() {
  if (const char* shared = std::getenv("EDA_RABBITMQ_NODE_DIR")) {
    static const std::optional<RabbitNodeAddress> fixture =
        [&]() -> std::optional<RabbitNodeAddress> {
      if (std::filesystem::exists(std::filesystem::path(shared) / "absent")) return std::nullopt;
      return RabbitNodeAddress::read(shared);
    }();
    if (!fixture) WARN("SKIPPED: rabbitmq-server is not installed (Debian: rabbitmq-server)");
    return fixture ? &*fixture : nullptr;
  }
  if (!find_rabbitmq_server()) {
    WARN("SKIPPED: rabbitmq-server is not installed (Debian: rabbitmq-server)");
    return nullptr;
  }
  // Started once for this process, stopped at its exit.
  static const std::unique_ptr<RabbitNode> own = std::make_unique<RabbitNode>();
  return &own->address();
}

}  // namespace eda::brokers::testing
