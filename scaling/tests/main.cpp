// The Catch2 runner for the tests of partitioned consumer groups (scaling/).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
