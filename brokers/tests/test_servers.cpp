// The throw-away servers: they start, listen on loopback only, fail with their own words, and
// leave nothing behind.
#include <catch2/catch.hpp>

#include <nats/nats.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "broker_fixtures.hpp"
#include "eda/brokers/loopback.hpp"

namespace {

using eda::brokers::ListeningSocket;

/// The ports among `sockets`, for the messages.
std::string describe(const std::vector<ListeningSocket>& sockets) {
  std::string text;
  for (const auto& socket : sockets) {
    text += socket.address + ":" + std::to_string(socket.port) + " (pid " +
            std::to_string(socket.pid) + ") ";
  }
  return text;
}

/// Whether a process has ended and waits to be reaped (its state in /proc/PID/stat is Z).
bool is_zombie(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const auto paren = line.rfind(')');
  return !stat || (paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z');
}

bool listens_on(const std::vector<ListeningSocket>& sockets, std::uint16_t port) {
  return std::any_of(sockets.begin(), sockets.end(),
                     [port](const ListeningSocket& socket) { return socket.port == port; });
}

}  // namespace

TEST_CASE(
    "a JetStream server listens on loopback only, serves JetStream, and leaves nothing behind",
    "[brokers][servers][jetstream]") {
  const auto program = eda::brokers::testing::nats_server_or_skip();
  if (!program) return;
  std::filesystem::path store;
  {
    const eda::brokers::JetStreamServer server(*program);
    store = server.store_directory();
    const auto sockets = eda::brokers::listening_sockets_of({server.pid()});
    INFO("listening: " << describe(sockets));
    const auto port =
        static_cast<std::uint16_t>(std::stoul(server.url().substr(server.url().rfind(':') + 1)));
    CHECK(listens_on(sockets, port));
    CHECK(std::all_of(sockets.begin(), sockets.end(),
                      [](const ListeningSocket& socket) { return socket.loopback; }));

    natsConnection* connection = nullptr;
    REQUIRE(natsConnection_ConnectTo(&connection, server.url().c_str()) == NATS_OK);
    jsCtx* js = nullptr;
    REQUIRE(natsConnection_JetStream(&js, connection, nullptr) == NATS_OK);
    jsAccountInfo* account = nullptr;
    jsErrCode error{};
    CHECK(js_GetAccountInfo(&account, js, nullptr, &error) == NATS_OK);  // JetStream is on
    jsAccountInfo_Destroy(account);
    jsCtx_Destroy(js);
    natsConnection_Destroy(connection);
    CHECK(std::filesystem::exists(store));
  }
  CHECK_FALSE(std::filesystem::exists(store));
}

TEST_CASE("a JetStream server that cannot start fails with the server's own words",
          "[brokers][servers][jetstream]") {
  const auto program = eda::brokers::testing::nats_server_or_skip();
  if (!program) return;
  REQUIRE_THROWS_WITH(
      eda::brokers::JetStreamServer(*program, std::chrono::seconds(10),
                                    {"-c", "/nonexistent/eda-nats.conf"}),
      Catch::Contains("nats-server exited at start") && Catch::Contains("eda-nats.conf"));
}

TEST_CASE(
    "the shared RabbitMQ node listens on loopback only, epmd and Erlang distribution included",
    "[brokers][servers][rabbitmq]") {
  const auto* node = eda::brokers::testing::rabbit_node_or_skip();
  if (node == nullptr) return;
  const auto pids = eda::brokers::processes_with_environment(
      eda::brokers::RabbitNodeAddress::marker_variable, node->node_name);
  REQUIRE_FALSE(pids.empty());
  const auto sockets = eda::brokers::listening_sockets_of(pids);
  INFO("listening: " << describe(sockets));
  CHECK(listens_on(sockets, node->amqp_port));
  CHECK(listens_on(sockets, node->dist_port));
  CHECK(listens_on(sockets, node->epmd_port));
  CHECK(std::all_of(sockets.begin(), sockets.end(),
                    [](const ListeningSocket& socket) { return socket.loopback; }));
}

TEST_CASE("a RabbitMQ node of its own starts, answers, and stops with its port mapper and folder",
          "[brokers][servers][rabbitmq]") {
  if (!eda::brokers::find_rabbitmq_server()) {
    WARN("SKIPPED: rabbitmq-server is not installed (Debian: rabbitmq-server)");
    return;
  }
  eda::brokers::RabbitNodeAddress address;
  {
    const eda::brokers::RabbitNode node;
    address = node.address();
    CHECK(eda::brokers::rabbitmqctl(address, {"status"}, std::chrono::seconds(60)).succeeded());
    CHECK(std::filesystem::exists(address.folder / "node.env"));
  }
  CHECK_FALSE(std::filesystem::exists(address.folder));
  // Nothing of the node runs on: not the broker, not its port mapper (a zombie waiting for its
  // new parent to reap it has ended, and holds no socket). (No rabbitmqctl call here: the CLI
  // would start a port mapper again.)
  const auto left = eda::brokers::processes_with_environment(
      eda::brokers::RabbitNodeAddress::marker_variable, address.node_name);
  CHECK(std::all_of(left.begin(), left.end(), is_zombie));
  CHECK(eda::brokers::listening_sockets_of(left).empty());
}

TEST_CASE("a damaged node description is a typed error naming the file",
          "[brokers][servers][rabbitmq]") {
  const eda::brokers::TemporaryFolder folder("node-env");
  REQUIRE_THROWS_AS(eda::brokers::RabbitNodeAddress::read(folder.path()), eda::StorageError);
  std::ofstream(folder.path() / "node.env") << "node_name=x@localhost\namqp_port=abc\n";
  REQUIRE_THROWS_WITH(eda::brokers::RabbitNodeAddress::read(folder.path()),
                      Catch::Contains("node.env") && Catch::Contains("amqp_port"));
}
