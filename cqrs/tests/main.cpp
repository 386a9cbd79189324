// The Catch2 runner for the CQRS tests.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
