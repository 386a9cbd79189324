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

/// @brief Deduces Overloaded's handlers from the lambdas. C++20 deduces an aggregate's template
///        arguments without it; compilers that do not implement that yet (clang 14, which
///        clang-tidy uses) need it written out.
template <class... Handlers>
Overloaded(Handlers...) -> Overloaded<Handlers...>;

}  // namespace eda
