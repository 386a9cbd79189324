/// @file environment.hpp
/// @brief How a benchmark program takes its sizes from the environment (the CTest smoke runs
///        shrink the work that way).
#pragma once

#include <cstdint>
#include <cstdlib>

namespace eda::bench {

/// @brief A positive count from the environment variable `name`, or `fallback`.
inline std::uint64_t env_count(const char* name, std::uint64_t fallback) {
  const char* text = std::getenv(name);
  const long long value = text != nullptr ? std::strtoll(text, nullptr, 10) : 0;
  return value > 0 ? static_cast<std::uint64_t>(value) : fallback;
}

}  // namespace eda::bench
