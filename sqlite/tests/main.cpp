// The Catch2 runner for the tests of the SQLite layer.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
