/// @file rabbitmq_node.hpp
/// @brief A throw-away RabbitMQ node: its own node name, its own Erlang port mapper, every port
///        free and on 127.0.0.1, its data and log in a temporary folder, no plugins.
///
/// A node takes seconds to start (an Erlang VM boots, then the broker), so a test run starts one
/// and shares it: `brokers-rabbitmq-node start DIR` is a CTest fixture setup that leaves the node
/// running, `brokers-rabbitmq-node stop DIR` its cleanup. In-process, RabbitNode does both.
///
/// @par Loopback only
/// | what listens | set by | bound to |
/// |---|---|---|
/// | AMQP 0-9-1 | `RABBITMQ_NODE_IP_ADDRESS`, `RABBITMQ_NODE_PORT` | 127.0.0.1 |
/// | Erlang distribution (node) | `RABBITMQ_DIST_PORT`, `-kernel inet_dist_use_interface` | 127.0.0.1 |
/// | Erlang distribution (rabbitmqctl) | `RABBITMQ_CTL_DIST_PORT_MIN/MAX`, `RABBITMQ_CTL_ERL_ARGS` | 127.0.0.1 |
/// | epmd, the port mapper | `ERL_EPMD_PORT`, `ERL_EPMD_ADDRESS` | 127.0.0.1 (and ::1) |
///
/// The port mapper is the node's own, on a free port, so stopping it never touches an epmd that
/// something else on the machine uses. The management plugin is not enabled (an empty plugins
/// file), so nothing serves HTTP.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "eda/brokers/jetstream_server.hpp"

namespace eda::brokers {

/// @brief Where Debian's RabbitMQ start script is (`/usr/lib/rabbitmq/bin/rabbitmq-server`: the
///        one in /usr/sbin switches to the `rabbitmq` user, whose files we must not touch), or
///        nothing when the package is absent.
[[nodiscard]] std::optional<std::filesystem::path> find_rabbitmq_server();

/// @brief Everything needed to reach, inspect and stop a running throw-away node; written to
///        `node.env` in its folder so that another process (a test, the cleanup) can find it.
struct RabbitNodeAddress {
  std::filesystem::path folder;     ///< The node's folder: data, logs, cookie, node.env.
  std::string node_name;            ///< e.g. `eda-1234-5678@localhost`.
  std::uint16_t amqp_port = 0;      ///< Where AMQP clients connect, on 127.0.0.1.
  std::uint16_t dist_port = 0;      ///< The node's Erlang distribution port.
  std::uint16_t epmd_port = 0;      ///< Its own port mapper's port.
  std::uint16_t cli_dist_port = 0;  ///< The distribution port rabbitmqctl listens on while it runs.
  pid_t pid = -1;                   ///< The start script's process (the leader of its group).

  /// @brief The environment every process of this node runs with (`NAME=value` items): the
  ///        server, rabbitmqctl and epmd alike.
  [[nodiscard]] std::vector<std::string> environment() const;

  /// @brief The marker in that environment (`EDA_BROKER_NODE=<node_name>`) by which the node's
  ///        processes are found again (processes_with_environment()).
  static constexpr const char* marker_variable = "EDA_BROKER_NODE";

  /// @brief Reads `folder/node.env`; throws eda::StorageError when it is missing or damaged.
  static RabbitNodeAddress read(const std::filesystem::path& folder);
  /// @brief Writes `folder/node.env`.
  void write() const;
};

/// @brief Starts a node in `folder` (created, and expected empty) and returns once
///        `rabbitmqctl -n NODE status` answers; the node keeps running after this process ends,
///        in a session of its own, its output in `folder/server.log`.
///
/// Throws BrokerStartError with the end of the server's output when it exits at start or is not
/// up within `ready_within` (the node is then stopped and its port mapper too).
RabbitNodeAddress start_rabbit_node(const std::filesystem::path& folder,
                                    std::chrono::milliseconds ready_within);

/// @brief Stops the node (`rabbitmqctl stop`, then SIGKILL to its process group if it has not
///        ended within `within`), stops its port mapper and removes its folder. Throws
///        BrokerStartError when the node cannot be stopped.
void stop_rabbit_node(const RabbitNodeAddress& node, std::chrono::milliseconds within);

/// @brief Runs `rabbitmqctl -n NODE ARGS...` with the node's environment; its exit status and
///        output (ChildResult::output).
ChildResult rabbitmqctl(const RabbitNodeAddress& node, const std::vector<std::string>& args,
                        std::chrono::milliseconds deadline);

/// @brief A node owned by this object: started in a temporary folder, stopped when it goes.
class RabbitNode {
 public:
  /// @brief Starts a node (see start_rabbit_node()).
  explicit RabbitNode(std::chrono::milliseconds ready_within = std::chrono::seconds(120));
  /// @brief Stops it and removes its folder (errors are swallowed: a destructor cannot report).
  ~RabbitNode();
  RabbitNode(const RabbitNode&) = delete;             ///< Owns a node.
  RabbitNode& operator=(const RabbitNode&) = delete;  ///< Owns a node.

  /// @brief How to reach it.
  [[nodiscard]] const RabbitNodeAddress& address() const noexcept { return address_; }

 private:
  RabbitNodeAddress address_;
};

}  // namespace eda::brokers
