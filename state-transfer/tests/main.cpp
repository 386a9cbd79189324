// The Catch2 runner for the event-carried state transfer tests.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
