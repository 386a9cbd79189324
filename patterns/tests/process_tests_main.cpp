// The Catch2 runner for the child-process helper's tests (eda::process).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
