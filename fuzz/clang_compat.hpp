// Force-included in the libFuzzer build only (fuzz/CMakeLists.txt), for clang before 17: it
// cannot deduce the template arguments of an aggregate (C++20's P1816), which the kit's
// eda::Overloaded relies on. This deduction guide says the same thing explicitly. (The same
// line in patterns/include/eda/overloaded.hpp would make this file unnecessary.)
#pragma once

namespace eda {
template <class... Handlers>
struct Overloaded;
template <class... Handlers>
Overloaded(Handlers...) -> Overloaded<Handlers...>;
}  // namespace eda
