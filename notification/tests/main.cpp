// The Catch2 runner for the event-notification tests.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
