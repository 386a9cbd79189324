// The projection lag run: every command accepted and projected, one lag sample per event,
// samples kept across runs; a store that cannot be opened fails the set-up.

#include <catch2/catch.hpp>

#include <chrono>
#include <stdexcept>

#include "eda/workloads/projection_lag.hpp"
#include "eda_test_support.hpp"

using namespace std::chrono_literals;
using namespace eda::workloads;

TEST_CASE("a projection lag run projects every command and times every event", "[workloads][lag]") {
  eda::test::TempDatabase store;
  eda::test::TempDatabase read_models;
  ProjectionLagRun run({.store_path = store.path(),
                        .read_models_path = read_models.path(),
                        .commands_per_second = 400,
                        .run_time = 100ms,
                        .durability = eda::sourcing::Durability::normal});
  run.run();
  // 400/s for 100 ms: 40 commands, each of which writes one event.
  CHECK(run.commands_accepted() == 40);
  CHECK(run.command_latency().count() == 40);
  CHECK(run.lag().count() == 40);
  CHECK(run.lag().summary().min_ns > 0);
  CHECK(run.lag().summary().max_ns < std::chrono::nanoseconds(10s).count());
  CHECK(run.events_per_batch() >= 1.0);
  CHECK(run.commands_per_second() > 0);

  run.run();  // a second run adds to the same samples
  CHECK(run.commands_accepted() == 80);
  CHECK(run.lag().count() == 80);
}

TEST_CASE("a projection lag run whose store cannot be opened fails when set up",
          "[workloads][lag]") {
  CHECK_THROWS(ProjectionLagRun({.store_path = "/nonexistent-folder/store.db",
                                 .read_models_path = "/nonexistent-folder/read.db"}));
}

TEST_CASE("the projection lag is defined once, for the tour's notes", "[workloads][lag]") {
  CHECK(projection_lag_definition.find("decided") != std::string_view::npos);
  CHECK(projection_lag_definition.find("committed") != std::string_view::npos);
}
