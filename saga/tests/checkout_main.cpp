// saga-test-checkout: the whole checkout (orchestrator, participants, in-memory bus) in one
// process, for the crash test that kills it with SIGKILL mid-saga. It starts orders 1..N one at
// a time, moving messages a little after each start, and prints `started N` after each, so the
// test can kill it at a moment of its choosing; then it runs every saga to its end.
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>

#include <CLI/CLI.hpp>

#include "checkout_rig.hpp"

int main(int argc, char** argv) {
  CLI::App app{"the checkout saga in one process, to be killed"};
  std::string dir;
  std::uint64_t orders = 50;
  app.add_option("--dir", dir, "where the four databases are")->required();
  app.add_option("--orders", orders, "how many checkouts");
  CLI11_PARSE(app, argc, argv);
  try {
    eda::saga::test::CheckoutRig rig(eda::saga::test::RigPaths::in(dir));
    (void)rig.orchestrator->resume();
    for (std::uint64_t order = 1; order <= orders; ++order) {
      rig.orchestrator->start(eda::saga::test::mixed_checkout(order));
      (void)rig.deliver_commands();
      (void)rig.relay();
      (void)rig.deliver_replies();
      std::printf("started %llu\n", static_cast<unsigned long long>(order));
      std::fflush(stdout);
    }
    const bool ended = rig.run_to_end();
    std::printf("%s\n", ended ? "done" : "not done");
    return ended ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "saga-test-checkout: %s\n", e.what());
    return 2;
  }
}
