#include "child_process.hpp"

#include <signal.h>

#include <csignal>
#include <stdexcept>

namespace eda::tour {

namespace {

volatile std::sig_atomic_t interrupted = 0;

extern "C" void on_interrupt(int) { interrupted = 1; }

}  // namespace

void stop_on_interrupt() {
  // No SA_RESTART: a signal interrupts the wait for a demo at once, and the wait asks again.
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

bool interrupt_requested() noexcept { return interrupted != 0; }

ChildResult run_demo(const std::string& program, const std::vector<std::string>& args,
                     std::chrono::milliseconds time_limit, std::ostream& out,
                     const std::string& prefix) {
  std::vector<std::string> argv{program};
  argv.insert(argv.end(), args.begin(), args.end());
  try {
    ChildProcess demo({.argv = std::move(argv), .output = ChildOutput::capture});
    return demo.wait(
        time_limit, [&](std::string_view line) { out << prefix << line << '\n'
                                                     << std::flush; },
        [] { return !interrupt_requested(); });
  } catch (const SpawnError& e) {
    throw std::runtime_error(std::string(e.what()) +
                             " (was it built? `cmake --build` builds it with eda-tour)");
  }
}

}  // namespace eda::tour
