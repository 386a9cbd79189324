/// @file roles.hpp
/// @brief The sourcing demo as separate processes: the store service, writers that change
///        orders through it, and readers that follow it live. Each may run on its own machine.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "eda/narrator.hpp"

namespace eda::sourcing::demo {

/// @brief What the roles are told on the command line.
struct RoleSettings {
  std::string db{};  ///< The store: FILE, sqlite:FILE or postgresql://... (empty: in memory).
  std::string listen = "tcp://*:5701";  ///< Store role: where appends and reads are served.
  std::string notify{};  ///< Store role: where appends are announced; reader: where to hear them.
  std::string store = "tcp://127.0.0.1:5701";  ///< Writer and reader: the store service to use.
  std::size_t count = 5;                       ///< Writer: orders to place and change.
  std::uint64_t first_order =
      0;  ///< Writer: the first order id (0: after the store's last position).
  std::uint64_t until_position = 0;  ///< Reader: stop once this position is delivered (0: never).
  int run_for_s = 60;                ///< Store and reader: seconds before stopping by themselves.
  std::string
      curve_keys{};  ///< `--curve-keys DIR`: CURVE + ZAP on every socket (empty: plaintext).
};

/// @brief Serves a durable store with notifications until `run_for_s` passes or a stop is
///        requested, printing what it committed once a second.
int run_store_role(const RoleSettings& s, Narrator& say);

/// @brief Places and changes `count` orders through the store service, then exits (sooner when
///        a stop is requested).
int run_writer_role(const RoleSettings& s, Narrator& say);

/// @brief Follows the store from position 1: prints its history, then each event as it is
///        appended; waits for the store when it is down.
int run_reader_role(const RoleSettings& s, Narrator& say);

}  // namespace eda::sourcing::demo
