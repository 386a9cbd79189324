// A projector killed with SIGKILL in the middle of its work, again and again: because each
// batch and its checkpoint commit together, the read models end exactly as a clean run leaves
// them — no event applied twice, none skipped.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include <catch2/catch.hpp>

#include "eda/cqrs/projector.hpp"
#include "eda/sourcing/order_repository.hpp"
#include "eda/sourcing/sqlite_store.hpp"
#include "shop_fixture.hpp"

using namespace eda::cqrs;
using namespace eda::cqrs::test;
using namespace eda::sourcing;
using namespace std::chrono_literals;

namespace {

/// A history of `orders` orders, each placed, given items, and most paid, shipped or
/// cancelled.
void write_history(EventStore& store, std::uint64_t orders) {
  OrderRepository repository(store);
  std::mt19937_64 random(7);
  for (std::uint64_t id = 1; id <= orders; ++id) {
    repository.execute(id, PlaceOrder{"customer-" + std::to_string(id % 17)});
    std::int64_t total = 0;
    for (std::uint64_t line = 0; line <= random() % 3; ++line) {
      const std::int64_t price = 100 + static_cast<std::int64_t>(random() % 900);
      repository.execute(id, AddItem{"sku-" + std::to_string(line), 1, price});
      total += price;
    }
    if (random() % 4 == 0) continue;  // left open
    repository.execute(id, Pay{total});
    if (random() % 3 == 0)
      repository.execute(
          id, random() % 2 == 0 ? OrderCommand{Ship{"post"}} : OrderCommand{Cancel{"late"}});
  }
}

/// Projects the store into the read models until everything is applied, in small batches.
void project_to_the_end(const std::string& store_path, const std::string& read_path) {
  zmq::context_t context;
  SqliteEventStore store({.path = store_path});
  ReadModels read({.path = read_path});
  Projector projector(store, read, context, {.batch = 37, .fallback_poll = 10ms});
  while (read.position() < store.last_position()) projector.step(10ms);
}

}  // namespace

TEST_CASE(
    "a projector killed with SIGKILL mid-batch, again and again, ends identical to a "
    "clean run",
    "[projector][crash]") {
  TempDatabase store_file, read_file, clean_file;
  {
    SqliteEventStore store({.path = store_file.path(), .durability = Durability::normal});
    write_history(store, 1500);
  }
  std::mt19937_64 random(42);
  int killed_mid_run = 0;
  std::uint64_t last_checkpoint = 0;
  std::uint64_t progress_seen = 0;
  // The kill comes after a random delay that adapts to the machine (a sanitizer build starts
  // and works many times slower): longer after a round without progress, shorter after a
  // round the child finished before it was killed.
  std::uint64_t delay_us = 2000;
  for (int round = 0; round < 25; ++round) {
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      try {
        project_to_the_end(store_file.path(), read_file.path());
        _exit(0);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "projector: %s\n", e.what());
        _exit(2);
      }
    }
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us + random() % delay_us));
    ::kill(child, SIGKILL);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    if (WIFSIGNALED(status)) {
      ++killed_mid_run;
    } else {
      REQUIRE(WEXITSTATUS(status) == 0);  // it finished before the kill: fine, never an error
      delay_us = std::max<std::uint64_t>(500, delay_us / 2);
    }
    ReadModels read({.path = read_file.path()});
    CHECK(read.position() >= last_checkpoint);  // a checkpoint never goes back
    if (read.position() > last_checkpoint) {
      ++progress_seen;
    } else if (WIFSIGNALED(status)) {
      delay_us = std::min<std::uint64_t>(2'000'000, delay_us * 2);
    }
    last_checkpoint = read.position();
  }
  CHECK(killed_mid_run >= 5);  // the kills really landed in the middle of the work
  CHECK(progress_seen >= 3);   // ...and the projector got further between them

  project_to_the_end(store_file.path(), read_file.path());   // resume to the end
  project_to_the_end(store_file.path(), clean_file.path());  // one clean run
  ReadModels resumed({.path = read_file.path()});
  ReadModels clean({.path = clean_file.path()});
  CHECK(resumed.position() == clean.position());
  CHECK(resumed.dump() == clean.dump());
  CHECK_FALSE(clean.customer_orders("customer-3").empty());
}
