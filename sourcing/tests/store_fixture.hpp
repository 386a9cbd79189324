// Helpers for the event-sourcing tests.
#pragma once

#include "eda_test_support.hpp"

namespace eda::sourcing::test {

using eda::test::TempDatabase;

}  // namespace eda::sourcing::test
