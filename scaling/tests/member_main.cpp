// scaling-test-member: one member of the Billing group as a program of its own, for the
// crash tests (they kill it with SIGKILL). It runs until SIGTERM or SIGINT, and prints a line
// each time the set of partitions it owns changes: `member billing-3 owns 8 charged 120`.
//
// Usage: scaling-test-member --coordinator E --log FILE --checkpoints FILE --gateway FILE
//        --partitions P [--name N] [--commit-every K] [--commit-interval-ms M]
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <thread>

#include <zmq.hpp>

#include "eda/scaling/group_member.hpp"

namespace {

volatile std::sig_atomic_t stop_signal = 0;

extern "C" void on_signal(int) { stop_signal = 1; }

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args;
  for (int i = 1; i + 1 < argc; i += 2) args[argv[i]] = argv[i + 1];
  for (const char* required :
       {"--coordinator", "--log", "--checkpoints", "--gateway", "--partitions"}) {
    if (args.count(required) == 0) {
      std::cerr << "scaling-test-member: " << required << " is required\n";
      return 2;
    }
  }
  eda::scaling::MemberOptions options;
  try {
    options.coordinator = args["--coordinator"];
    options.log_path = args["--log"];
    options.checkpoint_path = args["--checkpoints"];
    options.gateway_path = args["--gateway"];
    options.partition_count = static_cast<std::uint32_t>(std::stoul(args["--partitions"]));
    if (args.count("--name") != 0) options.name = args["--name"];
    if (args.count("--commit-every") != 0)
      options.commit_every = std::stoull(args["--commit-every"]);
    if (args.count("--commit-interval-ms") != 0) {
      options.commit_interval = std::chrono::milliseconds(std::stoll(args["--commit-interval-ms"]));
    }
  } catch (const std::exception& error) {
    std::cerr << "scaling-test-member: bad argument: " << error.what() << "\n";
    return 2;
  }
  options.heartbeat_interval = std::chrono::milliseconds(50);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);

  zmq::context_t context;
  eda::scaling::GroupMember member(context, options);
  int exit_code = 0;
  std::jthread worker([&member, &exit_code](const std::stop_token& stop) {
    try {
      member.run(stop);
    } catch (const std::exception& error) {
      std::cerr << "scaling-test-member: " << error.what() << std::endl;
      exit_code = 1;
      stop_signal = 1;
    }
  });
  std::size_t owned_before = 0;
  std::string id_before;
  while (stop_signal == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const auto status = member.status();
    if (status.owned.size() != owned_before || status.member_id != id_before) {
      owned_before = status.owned.size();
      id_before = status.member_id;
      std::cout << "member " << status.member_id << " owns " << owned_before << " charged "
                << status.charged << std::endl;
    }
  }
  worker.request_stop();
  worker.join();
  return exit_code;
}
