// saga-test-sync-order: the synchronous baseline's Order service as a program of its own, for
// the test that kills it mid-checkout. It checks out one order against the participants' RPC
// endpoints; after the step named by --stop-after it prints `after <step>` and waits to be
// killed (at most a minute).
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>

#include "eda/saga/baseline/sync_checkout.hpp"

int main(int argc, char** argv) {
  CLI::App app{"the synchronous checkout's Order service, to be killed"};
  eda::saga::baseline::SyncCheckoutOptions options;
  std::uint64_t order = 1;
  std::string stop_after;
  app.add_option("--inventory", options.inventory, "Inventory's RPC endpoint")->required();
  app.add_option("--payment", options.payment, "Payment's RPC endpoint")->required();
  app.add_option("--shipping", options.shipping, "Shipping's RPC endpoint")->required();
  app.add_option("--order", order, "the order id");
  app.add_option("--stop-after", stop_after, "reserve-stock, charge-card or book-parcel");
  CLI11_PARSE(app, argc, argv);
  options.after_step = [&](eda::saga::Step step) {
    if (eda::saga::name_of(step) != stop_after) return;
    std::printf("after %s\n", stop_after.c_str());
    std::fflush(stdout);
    for (int second = 0; second < 60; ++second) {
      std::this_thread::sleep_for(std::chrono::seconds(1));  // waiting for SIGKILL
    }
  };
  try {
    zmq::context_t context;
    eda::saga::baseline::SyncCheckout orders(context, options);
    const auto result = orders.checkout({.order_id = order,
                                         .sku = "SKU-1",
                                         .quantity = 2,
                                         .amount_cents = 2000,
                                         .card = "4242-4242-4242-4242",
                                         .address = "1 High St"});
    std::printf("%s\n", result.completed ? "completed" : ("rejected: " + result.reason).c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "saga-test-sync-order: %s\n", e.what());
    return 2;
  }
}
