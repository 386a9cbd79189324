#include "progress.hpp"

#include <cstdio>

namespace eda::tour {

std::string seconds_since(std::int64_t start_ns) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", static_cast<double>(monotonic_ns() - start_ns) / 1e9);
  return text;
}

Progress::Progress(std::ostream& out, std::size_t number, std::size_t total, std::string name)
    : out_(out),
      prefix_("[" + std::to_string(number) + "/" + std::to_string(total) + "] " + std::move(name) +
              ": ") {}

void Progress::say(std::string_view text) { out_ << prefix_ << text << '\n' << std::flush; }

void Progress::begin(std::string_view what) { out_ << prefix_ << what << " ... " << std::flush; }

void Progress::end(std::int64_t start_ns) { out_ << seconds_since(start_ns) << '\n' << std::flush; }

void Progress::fail() { out_ << "failed\n" << std::flush; }

}  // namespace eda::tour
