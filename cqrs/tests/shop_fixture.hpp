// Helpers for the CQRS tests: a shop whose clock the test sets, and known timestamps.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "eda/sourcing/memory_store.hpp"
#include "eda/sourcing/order_repository.hpp"
#include "eda_test_support.hpp"

namespace eda::cqrs::test {

using eda::test::TempDatabase;

/// 2026-11-25T23:59:59Z and one second later, the next day, in ns since the Unix epoch.
inline constexpr std::int64_t late_on_the_25th = 1'795'651'199'000'000'000;
inline constexpr std::int64_t early_on_the_26th = late_on_the_25th + 2'000'000'000;
inline constexpr std::int64_t one_day_ns = 86'400'000'000'000;

/// A clock the test moves by hand; every reading advances it by a millisecond, so events
/// are strictly ordered in time as they are in the store.
class TestClock {
 public:
  explicit TestClock(std::int64_t start) : now_(std::make_shared<std::int64_t>(start)) {}
  /// Sets the time.
  void set(std::int64_t ns) { *now_ = ns; }
  /// Reads the time (and moves it by 1 ms).
  std::int64_t operator()() const { return (*now_ += 1'000'000) - 1'000'000; }
  /// What the next reading will be.
  [[nodiscard]] std::int64_t peek() const { return *now_; }

 private:
  std::shared_ptr<std::int64_t> now_;  // shared by the copies the repository keeps
};

/// An in-memory store and a repository stamping events with a TestClock.
struct Shop {
  explicit Shop(std::int64_t start = late_on_the_25th)
      : clock(start), orders(store, sourcing::RepositoryOptions{.clock = clock}) {}
  sourcing::InMemoryEventStore store;
  TestClock clock;
  sourcing::OrderRepository orders;
};

}  // namespace eda::cqrs::test
