/// @file overloaded.hpp
/// @brief One lambda per alternative for std::visit: how every module here handles "any
///        event of an aggregate" or "any command" held in a std::variant.
#pragma once

namespace eda {

/// @brief Combines lambdas into one visitor: `std::visit(Overloaded{[](const A&) {...},
///        [](const B&) {...}}, variant)`. The compiler checks that every alternative is handled.
template <class... Handlers>
struct Overloaded : Handlers... {
  using Handlers::operator()...;
};

}  // namespace eda
