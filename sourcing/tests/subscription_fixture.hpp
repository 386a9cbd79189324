// Helpers for the catch-up subscription tests (test_subscription.cpp, and the history/live
// seam of the store contract, store_contract.inc): numbered ticks to append, and joining a
// subscription to its store's notifications.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "eda/sourcing/event_store.hpp"
#include "eda/sourcing/subscription.hpp"

namespace eda::sourcing::test {

/// A numbered event: tick `n` is the n-th one appended, so a reader can check the order.
struct Tick {
  static constexpr std::string_view event_type = "test.tick";
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t n = 0;
  MSGPACK_DEFINE(n)
};

/// Appends ticks `first` .. `first + count - 1`, one append each, spread over five streams.
inline void append_ticks(EventStore& store, std::uint64_t first, std::uint64_t count) {
  for (std::uint64_t n = first; n < first + count; ++n) {
    store.append("ticks-" + std::to_string(n % 5), ExpectedVersion::any(),
                 std::vector{EventData::of(eda::make_metadata<Tick>("clock"), Tick{n})});
  }
}

/// Joins `subscription` to `notifier`'s announcements: the notifier serves handshakes on its
/// own thread until the subscription is confirmed (true) or 10 s have passed (false).
inline bool connect(NotifyingEventStore& notifier, CatchUpSubscription& subscription) {
  std::atomic<bool> done{false};
  std::jthread serving([&] {
    while (!done) notifier.serve(std::chrono::milliseconds(5));
  });
  const bool confirmed = subscription.await_notifications(std::chrono::seconds(10));
  done = true;
  return confirmed;
}

}  // namespace eda::sourcing::test
