// The Catch2 runner for the brokers module's tests.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
