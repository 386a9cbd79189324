/// @file progress.hpp
/// @brief Progress lines, so that the reader always sees what the tour is doing and how long
///        each stage took, e.g. `[2/4] state-transfer: measuring labels ... 1.2 s`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>

#include "eda/clock.hpp"

namespace eda::tour {

/// @brief Seconds since `start_ns` (a monotonic_ns() reading), e.g. `1.2 s`.
std::string seconds_since(std::int64_t start_ns);

/// @brief Announces the stages of one stop on `out`.
class Progress {
 public:
  /// @brief Progress of stop `number` of `total`, named `name`.
  Progress(std::ostream& out, std::size_t number, std::size_t total, std::string name);

  /// @brief One line about the stop, with its `[n/N] name:` prefix.
  void say(std::string_view text);

  /// @brief Runs `work` as a stage: announces `what`, then adds how long it took to the same
  ///        line (or `failed` when it throws, and rethrows). Returns what `work` returns.
  template <class Work>
  decltype(auto) stage(std::string_view what, Work&& work) {
    begin(what);
    const std::int64_t start = monotonic_ns();
    try {
      if constexpr (std::is_void_v<decltype(work())>) {
        work();
        end(start);
      } else {
        decltype(auto) result = work();
        end(start);
        return result;
      }
    } catch (...) {
      fail();
      throw;
    }
  }

 private:
  void begin(std::string_view what);
  void end(std::int64_t start_ns);
  void fail();

  std::ostream& out_;
  std::string prefix_;
};

}  // namespace eda::tour
