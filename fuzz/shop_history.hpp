// A small shop history (orders placed, filled, paid, shipped, cancelled) for targets and the
// seed generator that need realistic state to answer from.
#pragma once

#include <cstdint>

#include "eda/sourcing/order_repository.hpp"

namespace eda::fuzz {

/// The time every event of the history carries: 2026-11-25 12:00 UTC, in ns.
inline constexpr std::int64_t history_time_ns = 1'795'608'000'000'000'000;

/// Writes orders 1..`orders` through a repository on `store`, in every status.
inline void write_shop_history(sourcing::EventStore& store, std::uint64_t orders = 6) {
  using namespace sourcing;
  OrderRepository repository(store, RepositoryOptions{.clock = [] { return history_time_ns; }});
  const char* customers[] = {"alice", "bob", "carol"};
  for (std::uint64_t id = 1; id <= orders; ++id) {
    repository.execute(id, PlaceOrder{customers[id % 3]});
    repository.execute(id, AddItem{"widget", static_cast<std::uint32_t>(id), 1250});
    repository.execute(id, AddItem{"gadget", 1, 999});
    if (id % 3 == 0) repository.execute(id, RemoveItem{"gadget"});
    if (id % 2 == 0) {
      repository.execute(id, Pay{repository.load(id).state.total_cents()});
      if (id % 4 == 0) repository.execute(id, Ship{"post"});
    }
    if (id % 5 == 0) repository.execute(id, Cancel{"changed my mind"});
  }
}

}  // namespace eda::fuzz
