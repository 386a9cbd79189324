// brokers-test-consumer: a consuming service as a program of its own, for the crash tests to
// see killed. It subscribes to a scenario the test set up, applies and acknowledges `--ack`
// events (printing `applied <event id>` for each), takes one more (`holding <event id>`), and
// then dies by SIGKILL — a crash in the middle of a batch, with nothing flushed or closed.
//
//   brokers-test-consumer --transport zeromq|jetstream|rabbitmq --address ADDRESS --name NAME
//                         --service SERVICE --in-flight N --ack K
//
// ADDRESS is the log's endpoint (zeromq), the server's URL (jetstream) or the AMQP port
// (rabbitmq). Exit status: 2 bad arguments, 3 fewer events came than it was to take within
// 30 s, 4 a transport error; on success it never exits (SIGKILL).
#include <signal.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "eda/brokers/jetstream_transport.hpp"
#include "eda/brokers/rabbitmq_transport.hpp"
#include "eda/brokers/zeromq_transport.hpp"
#include "eda/clock.hpp"

namespace {

using namespace std::chrono_literals;

/// The next delivery within what is left of 30 s, or nothing.
std::optional<eda::brokers::Delivery> take(eda::brokers::Subscription& subscription,
                                           const eda::Deadline& deadline) {
  while (!deadline.expired()) {
    if (auto delivery = subscription.next(200ms)) return delivery;
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"a consuming service that dies by SIGKILL mid-batch (brokers crash tests)"};
  std::string transport;
  std::string address;
  eda::brokers::TransportOptions options;
  std::string service;
  unsigned acks = 0;
  app.add_option("--transport", transport)->required()->check(
      CLI::IsMember({"zeromq", "jetstream", "rabbitmq"}));
  app.add_option("--address", address)->required();
  app.add_option("--name", options.name)->required();
  app.add_option("--service", service)->required();
  app.add_option("--in-flight", options.max_in_flight)->required();
  app.add_option("--ack", acks)->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }
  options.max_deliveries = 3;  // as the tests' contract_options()
  options.redeliver_after = 1s;

  try {
    zmq::context_t context;
    std::unique_ptr<eda::brokers::EventTransport> broker;  // JetStream and RabbitMQ only
    std::unique_ptr<eda::brokers::Subscription> subscription;
    if (transport == "zeromq") {
      subscription = eda::brokers::ZeroMqTransport::subscribe_to(context, address, service, options);
    } else if (transport == "jetstream") {
      broker = std::make_unique<eda::brokers::JetStreamTransport>(address, options);
      subscription = broker->subscribe(service);
    } else {
      broker = std::make_unique<eda::brokers::RabbitTransport>(
          eda::brokers::AmqpEndpoint{.port = static_cast<std::uint16_t>(std::stoul(address))},
          options);
      subscription = broker->subscribe(service);
    }
    const eda::Deadline deadline(30s);
    for (unsigned i = 0; i < acks; ++i) {
      const auto delivery = take(*subscription, deadline);
      if (!delivery) return 3;
      subscription->ack(*delivery);
      std::printf("applied %s\n", std::string(delivery->event.event_id()).c_str());
    }
    const auto held = take(*subscription, deadline);
    if (!held) return 3;
    std::printf("holding %s\n", std::string(held->event.event_id()).c_str());
    std::fflush(stdout);
    ::raise(SIGKILL);  // mid-batch: the rest of it fetched, nothing settled or closed
  } catch (const std::exception& e) {
    std::fprintf(stderr, "brokers-test-consumer: %s\n", e.what());
    return 4;
  }
  return 4;
}
