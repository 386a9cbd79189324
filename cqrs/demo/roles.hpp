/// @file roles.hpp
/// @brief The CQRS demo as separate processes: the command side, the projector, the query
///        side, and a client that sends commands and reads its own writes. Each may run on
///        its own machine.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "eda/narrator.hpp"

namespace eda::cqrs::demo {

/// @brief What the roles are told on the command line. Endpoints are bound by the role that
///        owns them (command: `commands`, `appends`; projector: `progress`; query: `queries`)
///        and connected to by the others.
struct RoleSettings {
  std::string
      store{};  ///< The event store: FILE, sqlite:FILE, postgresql://... or a store service endpoint.
  std::string read{};      ///< The read-model database file.
  std::string commands{};  ///< The command service.
  std::string appends{};   ///< The store's append notifications.
  std::string progress{};  ///< The projector's progress announcements.
  std::string queries{};   ///< The query service.
  std::string rebuild{};   ///< Projector: rebuild this projection before following the store.
  std::size_t count = 5;   ///< Client: orders to place.
  std::uint64_t first_order = 1;  ///< Client: the first order id.
  int run_for_s = 60;             ///< Services: seconds before stopping by themselves.
  std::string
      curve_keys{};  ///< `--curve-keys DIR`: CURVE + ZAP on every socket (empty: plaintext).
};

/// @brief Serves commands on the event store, announcing appends, until stopped.
int run_command_role(const RoleSettings& s, Narrator& say);

/// @brief Follows the store into the read models, announcing progress, until stopped.
int run_projector_role(const RoleSettings& s, Narrator& say);

/// @brief Answers queries from the read models until stopped.
int run_query_role(const RoleSettings& s, Narrator& say);

/// @brief Sends the story's commands and reads each customer's orders with the last token
///        (ending sooner when a stop is requested).
int run_client_role(const RoleSettings& s, Narrator& say);

}  // namespace eda::cqrs::demo
