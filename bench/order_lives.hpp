/// @file order_lives.hpp
/// @brief The Billing workload of the consumer group benchmarks: orders' lives (placed, amended,
///        cancelled) as a stream of keyed events. bench-scaling runs it through the ZeroMQ
///        group, bench-brokers-groups through the brokers' groups.
#pragma once

#include <cstdint>
#include <string>

#include "eda/scaling/billing.hpp"

namespace eda::bench {

/// @brief Distinct order ids (partition keys) the workload cycles through.
inline constexpr std::uint64_t order_keys = 10'000;

/// @brief Event `i` of the workload, handed to `sink(key, payload)`: orders' lives one after the other
/// (placed, amended, cancelled), over 10 000 order ids; an id's next life goes on with step 4.
/// The three events of one life are adjacent, as a shop sends them: the case where competing
/// consumers reorder.
template <class Sink>
void emit_event(std::uint64_t i, const Sink& sink) {
  const std::uint64_t life = i / 3;
  const std::string id = "order-" + std::to_string(life % order_keys);
  const auto step = static_cast<std::uint32_t>((life / order_keys) * 3 + i % 3 + 1);
  switch (i % 3) {
    case 0:
      sink(id, scaling::OrderPlaced{id, step, 1000 + static_cast<std::int64_t>(life % 97)});
      break;
    case 1:
      sink(id, scaling::OrderAmended{id, step, 1200});
      break;
    default:
      sink(id, scaling::OrderCancelled{id, step});
  }
}

}  // namespace eda::bench
