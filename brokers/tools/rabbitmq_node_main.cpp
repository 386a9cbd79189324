// brokers-rabbitmq-node: starts or stops a throw-away RabbitMQ node in a folder, so that a test
// run shares one node (a CTest fixture: `start` is its setup, `stop` its cleanup).
//
//   brokers-rabbitmq-node start DIR   # returns once the node answers; writes DIR/node.env
//   brokers-rabbitmq-node stop DIR    # stops it, its port mapper, and removes DIR
//
// Without the rabbitmq-server package, `start` writes DIR/absent, says so and exits 0: the
// tests then skip RabbitMQ and say why. A node that is installed but fails to start fails the
// setup with the server's own words.
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>

#include "eda/brokers/rabbitmq_node.hpp"
#include "eda/clock.hpp"

int main(int argc, char** argv) {
  if (argc != 3 || (std::string(argv[1]) != "start" && std::string(argv[1]) != "stop")) {
    std::fprintf(stderr, "usage: %s start|stop DIR\n", argv[0]);
    return 2;
  }
  const std::string command = argv[1];
  const std::filesystem::path folder = argv[2];
  try {
    if (command == "start") {
      std::error_code ignored;
      if (std::filesystem::exists(folder / "node.env")) {
        // A run that was killed left its node: stop it first, so nothing is left behind.
        eda::brokers::stop_rabbit_node(eda::brokers::RabbitNodeAddress::read(folder),
                                       std::chrono::seconds(30));
      }
      std::filesystem::remove_all(folder, ignored);
      if (!eda::brokers::find_rabbitmq_server()) {
        std::filesystem::create_directories(folder);
        std::ofstream(folder / "absent") << "rabbitmq-server is not installed\n";
        std::printf(
            "rabbitmq-server is not installed (Debian: rabbitmq-server): "
            "the RabbitMQ tests will be skipped\n");
        return 0;
      }
      const std::int64_t start = eda::monotonic_ns();
      const auto node = eda::brokers::start_rabbit_node(folder, std::chrono::seconds(180));
      std::printf("RabbitMQ node %s up on 127.0.0.1:%u in %.1f s\n", node.node_name.c_str(),
                  static_cast<unsigned>(node.amqp_port),
                  static_cast<double>(eda::monotonic_ns() - start) / 1e9);
    } else {
      if (std::filesystem::exists(folder / "absent")) {
        std::filesystem::remove_all(folder);
        return 0;
      }
      const auto node = eda::brokers::RabbitNodeAddress::read(folder);
      eda::brokers::stop_rabbit_node(node, std::chrono::seconds(60));
      std::printf("RabbitMQ node %s stopped\n", node.node_name.c_str());
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "brokers-rabbitmq-node %s: %s\n", command.c_str(), e.what());
    return 1;
  }
}
