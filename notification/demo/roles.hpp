/// @file roles.hpp
/// @brief The notification demo as separate processes (`--role`): the Order service, each
///        consumer, the customer, and the baseline's services. Each may run on its own machine.
#pragma once

#include "eda/narrator.hpp"
#include "story.hpp"

namespace eda::notification::demo {

/// @brief Runs the role `s.role` (not `all`) until it is done, `--run-for` passes or a stop is
///        requested; its last line says what it leaves behind. Returns the exit code.
int run_role(const Settings& s, Narrator& say);

}  // namespace eda::notification::demo
