// The checkout saga tests' common parts: commands made as the orchestrator makes them, and the
// replies a participant's outbox holds.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "eda/codec.hpp"
#include "eda/envelope.hpp"
#include "eda/saga/outbox.hpp"

namespace eda::saga::test {

/// A command as the orchestrator sends it (its event id is the command id).
template <class P>
DecodedEvent command(const P& payload, const std::string& command_id = {}) {
  EventMetadata meta = make_metadata<P>("order-saga");
  if (!command_id.empty()) meta.event_id = command_id;
  meta.sequence = 1;
  return DecodedEvent::decode(encode_event(Event<P>{meta, payload}));
}

/// Every event in an outbox, in position order.
inline std::vector<DecodedEvent> replies(const Outbox& outbox) {
  std::vector<DecodedEvent> all;
  for (const OutboxRow& row : outbox.read(1, 100'000)) {
    all.push_back(DecodedEvent::decode(row.envelope));
  }
  return all;
}

}  // namespace eda::saga::test
