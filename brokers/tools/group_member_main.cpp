// brokers-group-member: one member of a partitioned consumer group on a broker, billing every
// event it is given at the scaling module's gateway, until SIGTERM or SIGINT. The consumer
// group tests run members as processes of their own so that they can kill one with SIGKILL.
//
//   brokers-group-member --broker jetstream --url nats://127.0.0.1:4222 --name billing-1
//       --gateway /tmp/gateway.db [--group orders] [--partitions 4] [--call-us 0]
//   brokers-group-member --broker rabbitmq --amqp-port 5672 --name billing-2 --gateway ...
//
// It prints `ready` once subscribed to every partition, and what it did when it stops.
#include <CLI/CLI.hpp>

#include <signal.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <exception>
#include <memory>
#include <stop_token>
#include <thread>

#include "eda/brokers/jetstream_group.hpp"
#include "eda/brokers/rabbitmq_group.hpp"

int main(int argc, char** argv) {
  CLI::App app{"One member of a partitioned consumer group on a broker, billing what it gets"};
  std::string broker;
  std::string url;
  std::uint16_t amqp_port = 0;
  std::string name;
  std::string gateway_path;
  std::int64_t call_us = 0;
  std::int64_t redeliver_ms = 2'000;
  eda::brokers::GroupOptions options;
  app.add_option("--broker", broker, "jetstream or rabbitmq")
      ->required()
      ->check(CLI::IsMember({"jetstream", "rabbitmq"}));
  app.add_option("--url", url, "the NATS server (jetstream)");
  app.add_option("--amqp-port", amqp_port, "the RabbitMQ node's AMQP port on 127.0.0.1");
  app.add_option("--name", name, "the member's name, e.g. billing-1")->required();
  app.add_option("--gateway", gateway_path, "the gateway's SQLite file")->required();
  app.add_option("--group", options.name, "the group's stream or exchange");
  app.add_option("--partitions", options.partitions, "the group's partitions");
  app.add_option("--redeliver-ms", redeliver_ms, "JetStream: AckWait of the partitions");
  app.add_option("--prefetch", options.prefetch, "RabbitMQ: prefetch per queue");
  app.add_option("--call-us", call_us, "how long each gateway call takes, in microseconds");
  CLI11_PARSE(app, argc, argv);
  options.redeliver_after = std::chrono::milliseconds(redeliver_ms);

  // SIGTERM and SIGINT are taken by sigwait() below, on this thread, not by a handler.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  try {
    std::unique_ptr<eda::brokers::GroupMember> member;
    if (broker == "jetstream") {
      member = std::make_unique<eda::brokers::JetStreamGroupMember>(url, options);
    } else {
      member = std::make_unique<eda::brokers::RabbitGroupMember>(
          eda::brokers::AmqpEndpoint{.port = amqp_port}, options);
    }
    eda::scaling::BillingGateway gateway(gateway_path, std::chrono::microseconds(call_us));
    std::printf("ready\n");
    std::fflush(stdout);

    eda::brokers::BillingTally tally;
    std::exception_ptr failure;
    std::jthread billing([&](const std::stop_token& stop) {
      try {
        tally = eda::brokers::run_billing(*member, gateway, name, stop);
      } catch (...) {
        failure = std::current_exception();
        kill(getpid(), SIGTERM);  // wakes the sigwait() below
      }
    });
    int received = 0;
    sigwait(&stop_signals, &received);
    billing.request_stop();
    billing.join();
    if (failure) std::rethrow_exception(failure);
    std::printf("%s: charged %llu, already charged %llu, unreadable %llu\n", name.c_str(),
                static_cast<unsigned long long>(tally.charged),
                static_cast<unsigned long long>(tally.already_charged),
                static_cast<unsigned long long>(tally.unreadable));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "brokers-group-member %s: %s\n", name.c_str(), e.what());
    return 1;
  }
}
