// The Catch2 runner for the shop workloads' tests.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
