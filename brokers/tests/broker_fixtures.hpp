/// @file broker_fixtures.hpp
/// @brief How the brokers tests get their servers: a JetStream server of their own (it starts in
///        a fraction of a second), and the RabbitMQ node the test run shares (a CTest fixture), or
///        one started for this process when the binary runs by itself.
#pragma once

#include <optional>
#include <string>

#include "eda/brokers/jetstream_server.hpp"
#include "eda/brokers/rabbitmq_node.hpp"

namespace eda::brokers::testing {

/// @brief The nats-server program, or nothing (with a warning that the test is skipped and why)
///        when the package is absent.
std::optional<std::string> nats_server_or_skip();

/// @brief The RabbitMQ node for this test run, or null (with a warning that the test is skipped
///        and why) when rabbitmq-server is absent.
///
/// Under CTest, `EDA_RABBITMQ_NODE_DIR` names the folder of the node the fixture started
/// (`brokers-rabbitmq-node start`). Without it, a node is started on first use and stopped when
/// this process exits. A node that is installed but cannot start fails the test with its error.
const RabbitNodeAddress* rabbit_node_or_skip();

}  // namespace eda::brokers::testing
