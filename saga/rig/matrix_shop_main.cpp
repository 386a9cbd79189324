// saga-matrix-shop: one life of the fault matrix's shop (killed_matrix.hpp): the checkout rig
// (orchestrator, participants, in-memory bus) with the matrix's faults (FaultInjector), in a
// process that the test or the benchmark kills with SIGKILL at random moments and starts again.
// It resumes every saga its event store holds, then starts orders --from to --orders, printing
// `started ORDER` and what this life injected so far after each (so a killed life's faults are
// counted too); then it runs every saga to its end and prints `done` with the same counts.
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>

#include <CLI/CLI.hpp>

#include "killed_matrix.hpp"

namespace {

using eda::saga::test::CheckoutRig;

/// The orchestrator's clock is the rig's, moved by hand; a new life goes on from where the
/// last one's clock was (kept in `<dir>/clock`, replaced whole: a kill never leaves half a file),
/// so that deadlines recorded in the store are not pushed into a far future.
std::int64_t read_clock(const std::string& dir, std::int64_t otherwise) {
  std::ifstream in(dir + "/clock");
  std::int64_t value = 0;
  return in >> value ? value : otherwise;
}

void save_clock(const std::string& dir, std::int64_t value) {
  {
    std::ofstream out(dir + "/clock.new", std::ios::trunc);
    out << value << '\n';
  }
  std::filesystem::rename(dir + "/clock.new", dir + "/clock");
}

eda::saga::test::LifeTally tally_of(const eda::saga::test::FaultMatrixResult& injected,
                                    const CheckoutRig& rig) {
  return {.resumed = rig.orchestrator->counters().resumed,
          .duplicates = injected.duplicates,
          .held = injected.held,
          .declined = injected.declined,
          .refusals = injected.refusals,
          .timeouts = rig.orchestrator->counters().timeouts,
          .stale = rig.orchestrator->counters().replies_stale};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"one life of the saga fault matrix's shop, to be killed"};
  std::string dir;
  std::uint64_t orders = 0;
  std::uint64_t from = 1;
  std::uint32_t seed = 26;
  std::uint32_t life = 0;
  app.add_option("--dir", dir, "where the four databases are")->required();
  app.add_option("--orders", orders, "the last order of the matrix")->required();
  app.add_option("--from", from, "the first order this life starts");
  app.add_option("--seed", seed, "the matrix's seed");
  app.add_option("--life", life, "which life this is (each draws its own faults)");
  CLI11_PARSE(app, argc, argv);
  try {
    eda::saga::test::FaultMatrixResult injected;
    eda::saga::test::FaultInjector faults(seed + 7919U * life, injected);
    CheckoutRig rig(eda::saga::test::RigPaths::in(dir), faults.rig_options());
    rig.clock_ns = read_clock(dir, rig.clock_ns);
    faults.attach(rig);
    (void)rig.orchestrator->resume();
    for (std::uint64_t order = from; order <= orders; ++order) {
      try {
        rig.orchestrator->start(faults.request(order));
      } catch (const eda::saga::CheckoutRefused&) {
        // Started by the life killed before it could say so: its saga was resumed above.
      }
      faults.move(rig);
      faults.pass_time(rig);
      save_clock(dir, rig.clock_ns);
      std::printf("started %llu %s\n", static_cast<unsigned long long>(order),
                  tally_of(injected, rig).line().c_str());
      std::fflush(stdout);
    }
    eda::saga::test::FaultInjector::finish(rig);
    save_clock(dir, rig.clock_ns);
    std::printf("done %s\n", tally_of(injected, rig).line().c_str());
    return rig.orchestrator->running_count() == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "saga-matrix-shop: %s\n", e.what());
    return 2;
  }
}
