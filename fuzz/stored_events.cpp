// Target `stored_events`: what the event store holds, read back — envelopes decoded from stored
// bytes (detail::recorded, as both stores read rows), order events converted and upcast
// (order_event_from: ItemAdded v1 -> v2), a snapshot's state decoded, and the whole history
// folded into an order by OrderRepository (load, temporal loads, a command on top).
//
// Input: frames; frame 0 is a snapshot state (empty: none), frames 1.. are stored envelopes of
// stream `order-1`. Whatever the store's own append accepts is appended; every frame is also
// read back directly, as if it were a row on disk (a disk is not trusted either).
//
// Properties: unreadable bytes raise CorruptEvent (never anything else, never UB); an order
// event read back re-encodes to an event that reads back equal; a loaded order's version is
// the stream's; its state survives a snapshot round trip; a paid order's total is computable
// and paying it exactly is accepted; a loaded order's total fits in 64 bits (else total_cents()
// throws std::overflow_error rather than wrap).
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <optional>
#include <string>
#include <vector>

#include "eda/sourcing/memory_store.hpp"
#include "eda/sourcing/order_repository.hpp"
#include "eda/sourcing/store_support.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace eda::sourcing;

const std::string stream = order_stream(1);

/// Reads `bytes` as a stored row would be read; checks the order event inside, if any.
void read_back(std::string_view bytes, std::uint64_t version) {
  std::optional<RecordedEvent> recorded;
  try {
    recorded.emplace(detail::recorded(stream, version, version, bytes));
  } catch (const CorruptEvent&) {
    return;
  }
  OrderEvent event;
  try {
    event = order_event_from(*recorded);
  } catch (const CorruptEvent&) {
    return;
  }
  // The event in its current shape, stored again, reads back the same.
  const EventData again = to_event_data(event, "fuzz", eda::Cause::of(recorded->event.meta()));
  const RecordedEvent reread = detail::recorded(stream, version, version, again.envelope);
  EDA_FUZZ_CHECK(order_event_from(reread) == event, "an order event changed when stored again");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto frames = eda::fuzz::split_frames(eda::fuzz::as_view(data, size));
  InMemoryEventStore store;
  for (std::size_t i = 1; i < frames.size(); ++i) {
    read_back(frames[i], i);
    try {
      const eda::DecodedEvent event = eda::DecodedEvent::decode(frames[i]);
      const EventData stored{event.meta().event_id, event.meta().type, std::string(frames[i])};
      (void)store.append(stream, ExpectedVersion::any(), std::span(&stored, 1));
    } catch (const eda::MalformedMessage&) {
    } catch (const std::invalid_argument&) {  // the store refused it (e.g. an id seen before)
    }
  }
  const std::uint64_t version = store.stream_version(stream);
  if (!frames[0].empty()) {
    store.save_snapshot(stream, Snapshot{std::min<std::uint64_t>(version, 1),
                                         order_state_schema_version, std::string(frames[0])});
  }

  OrderRepository orders(store, RepositoryOptions{.page = 3});
  LoadedOrder loaded;
  try {
    loaded = orders.load(1);
  } catch (const CorruptEvent&) {
    return 0;  // a stored event that is not an order event, or does not fit its type
  }
  EDA_FUZZ_CHECK(loaded.version == version || (version == 0 && loaded.version <= 1),
                 "loaded version " + std::to_string(loaded.version) + " of a stream at " +
                     std::to_string(version));
  const OrderState reloaded =
      eda::decode_value<OrderState>(eda::encode_value(loaded.state), "state");
  EDA_FUZZ_CHECK(reloaded == loaded.state, "an order's state changed in a snapshot round trip");

  (void)orders.load_as_of_version(1, version / 2);
  (void)orders.load_as_of_time(1, 0);
  (void)orders.history(1);

  // What a command does with the state: its total (Pay checks the amount against it). A
  // history whose total does not fit in 64 bits cannot be an order's (decide() never makes
  // one): total_cents() must refuse it (std::overflow_error) rather than hand out a wrapped sum.
  std::int64_t checked = 0;
  bool fits = true;
  for (const auto& [sku, line] : loaded.state.lines) {
    std::int64_t cost = 0;
    fits = fits &&
           !__builtin_mul_overflow(static_cast<std::int64_t>(line.quantity), line.unit_price_cents,
                                   &cost) &&
           !__builtin_add_overflow(checked, cost, &checked);
  }
  if (!fits) {
    bool refused = false;
    try {
      (void)loaded.state.total_cents();
    } catch (const std::overflow_error&) {
      refused = true;
    }
    EDA_FUZZ_CHECK(refused, "a total that does not fit in 64 bits was not refused");
    return 0;
  }
  const std::int64_t total = loaded.state.total_cents();
  EDA_FUZZ_CHECK(total == checked, "total_cents() is not the sum of the lines");
  if (loaded.state.status == OrderStatus::open && !loaded.state.lines.empty()) {
    try {
      const CommandOutcome paid = orders.execute(1, Pay{total});
      EDA_FUZZ_CHECK(paid.state.status == OrderStatus::paid,
                     "paying the total did not pay the order");
    } catch (const CommandRejected& e) {
      eda::fuzz::property_failed(__FILE__, __LINE__, "paying exactly the total is accepted",
                                 e.what());
    }
  }
  return 0;
}
