// trace-scenario: publishes the tests' shop scenario from three kit Publishers, for the CTest
// tests of the eda-trace program. It binds ipc://DIR/<service>, waits (bounded) until a tap has
// subscribed to all three, publishes, and exits.

#include <iostream>

#include <CLI/CLI.hpp>

#include "eda/cli.hpp"
#include "scenario.hpp"

int main(int argc, char** argv) {
  CLI::App app("Publishes the tracer tests' shop scenario once a tap is connected",
               "trace-scenario");
  std::string directory;
  trace_test::Faults faults;
  double wait_s = 30;
  app.add_option("--dir", directory,
                 "Bind ipc://DIR/order-service, ipc://DIR/warehouse, ipc://DIR/payment-service")
      ->required()
      ->check(CLI::ExistingDirectory);
  app.add_flag("--gap", faults.gap, "order-service skips sequence #2");
  app.add_flag("--duplicate", faults.duplicate, "payment-service sends its first charge twice");
  app.add_flag("--missing-cause", faults.missing_cause,
               "a refund names a cause that is never sent");
  app.add_flag("--out-of-order", faults.out_of_order, "warehouse handles order 2 before order 1");
  app.add_option("--wait", wait_s, "Seconds to wait for the tap")->check(CLI::Range(0.1, 600.0));
  return eda::cli::run(app, argc, argv, [&]() -> int {
    zmq::context_t context;
    std::vector<std::string> endpoints;
    endpoints.reserve(std::size(trace_test::services));
    for (const std::string& service : trace_test::services)
      endpoints.push_back("ipc://" + directory + "/" + service);
    trace_test::ScenarioPublishers publishers(context, endpoints);
    if (!publishers.await_subscribers(
            1, std::chrono::milliseconds(static_cast<long>(wait_s * 1000)))) {
      std::cerr << "trace-scenario: no tap subscribed to all three publishers within " << wait_s
                << " s\n";
      return 1;
    }
    const auto events = trace_test::shop_scenario(faults);
    publishers.publish(events);
    std::cout << "trace-scenario: published " << events.size() << " events\n";
    return 0;  // the publishers' linger flushes the events before the process ends
  });
}
