/// @file narrator.hpp
/// @brief Narration for demos: who sent what to whom, with the time since the start.
#pragma once

#include <cstdint>
#include <mutex>
#include <ostream>
#include <string_view>

namespace eda {

/// @brief Prints a demo's story line by line, e.g.
///        `   0.412 ms  order-service   published shop.order.placed #1`.
///
/// Verbosity 0 prints only headings, 1 (the default) the story, 2 and more the details too.
///
/// @par Thread safety
/// All members may be called concurrently (roles often run as threads of one demo process).
class Narrator {
 public:
  /// @brief A narrator writing to `out` at `verbosity`.
  explicit Narrator(std::ostream& out, int verbosity = 1);

  /// @brief A section heading (always printed).
  void heading(std::string_view text);

  /// @brief One step of the story, told by `role` (printed at verbosity >= 1).
  void say(std::string_view role, std::string_view text);

  /// @brief A detail, e.g. a whole event as JSON (printed at verbosity >= 2).
  void detail(std::string_view role, std::string_view text);

  /// @brief The verbosity in use.
  [[nodiscard]] int verbosity() const noexcept { return verbosity_; }

 private:
  void line(std::string_view role, std::string_view text);

  std::mutex mutex_;
  std::ostream& out_;
  int verbosity_;
  std::int64_t start_ns_;
};

}  // namespace eda
