#include "eda/narrator.hpp"

#include <cstdio>
#include <string>

#include "eda/clock.hpp"

namespace eda {

Narrator::Narrator(std::ostream& out, int verbosity)
    : out_(out), verbosity_(verbosity), start_ns_(monotonic_ns()) {}

void Narrator::heading(std::string_view text) {
  const std::lock_guard lock(mutex_);
  out_ << '\n' << "== " << text << " ==" << '\n' << std::flush;
}

void Narrator::say(std::string_view role, std::string_view text) {
  if (verbosity_ >= 1) {
    line(role, text);
  }
}

void Narrator::detail(std::string_view role, std::string_view text) {
  if (verbosity_ >= 2) {
    line(role, text);
  }
}

void Narrator::line(std::string_view role, std::string_view text) {
  char stamp[32];
  std::snprintf(stamp, sizeof stamp, "%9.3f ms  ",
                static_cast<double>(monotonic_ns() - start_ns_) / 1e6);
  std::string padded(role);
  if (padded.size() < 16) {
    padded.resize(16, ' ');
  }
  const std::lock_guard lock(mutex_);
  out_ << stamp << padded << "  " << text << '\n' << std::flush;
}

}  // namespace eda
