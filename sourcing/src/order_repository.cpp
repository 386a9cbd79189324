#include "eda/sourcing/order_repository.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace eda::sourcing {
namespace {

/// The OrderEvent alternative whose type is `type`, converted from the record.
template <std::size_t I = 0>
OrderEvent convert(const RecordedEvent& recorded) {
  if constexpr (I == std::variant_size_v<OrderEvent>) {
    throw CorruptEvent("stream '" + recorded.stream + "' version " +
                       std::to_string(recorded.version) + " (position " +
                       std::to_string(recorded.position) + ") holds a " +
                       recorded.event.meta().type + ", which is not an order event");
  } else {
    using Alternative = std::variant_alternative_t<I, OrderEvent>;
    if (recorded.event.is<Alternative>()) {
      return order_upcasters().payload_as<Alternative>(recorded.event);
    }
    return convert<I + 1>(recorded);
  }
}

}  // namespace

const Upcasters& order_upcasters() {
  static const Upcasters upcasters = [] {
    Upcasters chain;
    chain.add(std::string(ItemAdded::event_type), 1,
              [](const msgpack::object& payload, msgpack::zone& zone) {
                const auto v1 = detail::convert_checked<ItemAddedV1>(
                    payload, [] { return "ItemAdded version 1"; });
                const ItemAdded v2{v1.sku, v1.quantity, std::llround(v1.unit_price_euros * 100.0)};
                return msgpack::object(v2, zone);
              });
    return chain;
  }();
  return upcasters;
}

std::string order_stream(std::uint64_t order_id) { return "order-" + std::to_string(order_id); }

EventData to_event_data(const OrderEvent& event, std::string_view source, const Cause& cause,
                        std::optional<std::int64_t> timestamp_ns) {
  return std::visit(
      [&](const auto& payload) {
        using Payload = std::decay_t<decltype(payload)>;
        EventMetadata meta = make_metadata<Payload>(source, cause);
        if (timestamp_ns) {
          meta.timestamp_ns = *timestamp_ns;
        }
        return EventData::of(meta, payload);
      },
      event);
}

OrderEvent order_event_from(const RecordedEvent& recorded) {
  try {
    return convert(recorded);
  } catch (const MalformedMessage& e) {
    throw CorruptEvent("stream '" + recorded.stream + "' version " +
                       std::to_string(recorded.version) + " (position " +
                       std::to_string(recorded.position) + "): " + e.what());
  }
}

OrderRepository::OrderRepository(EventStore& store, RepositoryOptions options)
    : store_(store), options_(std::move(options)) {
  if (options_.max_attempts < 1 || options_.page == 0) {
    throw std::invalid_argument("max_attempts and page must be at least 1");
  }
}

LoadedOrder OrderRepository::fold(std::uint64_t order_id, std::uint64_t up_to_version) const {
  LoadedOrder loaded;
  const std::string stream = order_stream(order_id);
  // A snapshot is a cache: one of another shape, later than asked, or unreadable is ignored.
  if (const auto snapshot = store_.load_snapshot(stream);
      snapshot && snapshot->schema_version == order_state_schema_version &&
      snapshot->version <= up_to_version) {
    try {
      loaded.state = decode_value<OrderState>(snapshot->state, "snapshot of " + stream);
      loaded.version = snapshot->version;
      loaded.snapshot_version = snapshot->version;
    } catch (const MalformedMessage&) {
      loaded = LoadedOrder{};
    }
  }
  fold_events(order_id, loaded, up_to_version, [](const RecordedEvent&) { return true; });
  return loaded;
}

template <class Keep>
void OrderRepository::fold_events(std::uint64_t order_id, LoadedOrder& loaded, std::uint64_t last,
                                  Keep keep) const {
  for_each_event(order_id, loaded.version + 1, last, [&](const RecordedEvent& recorded) {
    if (!keep(recorded)) {
      return false;
    }
    loaded.state = evolve(std::move(loaded.state), order_event_from(recorded));
    loaded.version = recorded.version;
    ++loaded.events_replayed;
    return true;
  });
}

template <class Visit>
void OrderRepository::for_each_event(std::uint64_t order_id, std::uint64_t from, std::uint64_t last,
                                     Visit visit) const {
  const std::string stream = order_stream(order_id);
  // Page by page: a long stream is never held in memory whole, and nothing after version
  // `last` is read (an order as of version 5 reads 5 events, not a page of 1 000).
  while (from <= last) {
    const auto wanted =
        static_cast<std::size_t>(std::min<std::uint64_t>(options_.page, last - from + 1));
    const auto page = store_.read_stream(stream, from, wanted, Direction::forward);
    for (const RecordedEvent& recorded : page) {
      if (!visit(recorded)) {
        return;
      }
    }
    if (page.size() < wanted) {
      return;
    }
    from = page.back().version + 1;
  }
}

LoadedOrder OrderRepository::load(std::uint64_t order_id) const {
  return fold(order_id, std::numeric_limits<std::uint64_t>::max());
}

LoadedOrder OrderRepository::load_as_of_version(std::uint64_t order_id,
                                                std::uint64_t version) const {
  return fold(order_id, version);
}

LoadedOrder OrderRepository::load_as_of_time(std::uint64_t order_id,
                                             std::int64_t timestamp_ns) const {
  // A snapshot does not say when its events happened: a point in time replays from 1.
  LoadedOrder loaded;
  fold_events(order_id, loaded, std::numeric_limits<std::uint64_t>::max(),
              [timestamp_ns](const RecordedEvent& recorded) {
                return recorded.event.timestamp_ns() <= timestamp_ns;
              });
  return loaded;
}

void OrderRepository::snapshot_if_due(std::uint64_t order_id, const OrderState& state,
                                      const AppendResult& appended) {
  const std::uint64_t every = options_.snapshot_every;
  if (every == 0 || appended.already_stored ||
      appended.last_version / every == (appended.first_version - 1) / every) {
    return;
  }
  store_.save_snapshot(
      order_stream(order_id),
      Snapshot{appended.last_version, order_state_schema_version, encode_value(state)});
}

CommandOutcome OrderRepository::execute(std::uint64_t order_id, const OrderCommand& command,
                                        const Cause& cause) {
  const std::string stream = order_stream(order_id);
  for (int attempt = 1;; ++attempt) {
    LoadedOrder loaded = load(order_id);
    std::vector<OrderEvent> events = decide(command, loaded.state);  // may reject
    std::vector<EventData> data;
    data.reserve(events.size());
    for (const OrderEvent& event : events) {
      data.push_back(
          to_event_data(event, options_.source, cause,
                        options_.clock ? std::optional(options_.clock()) : std::nullopt));
    }
    const ExpectedVersion expected = loaded.version == 0 ? ExpectedVersion::no_stream()
                                                         : ExpectedVersion::exactly(loaded.version);
    try {
      const AppendResult appended = store_.append(stream, expected, data);
      OrderState state = std::move(loaded.state);
      for (const OrderEvent& event : events) {
        state = evolve(std::move(state), event);
      }
      snapshot_if_due(order_id, state, appended);
      return CommandOutcome{std::move(events), appended, std::move(state), attempt};
    } catch (const ConcurrencyConflict&) {
      if (attempt >= options_.max_attempts) {
        throw;
      }
      // Someone else changed the order between our load and our append: decide again on
      // the new state (the command may now be rejected, which is the point).
    }
  }
}

std::vector<RecordedEvent> OrderRepository::history(std::uint64_t order_id) const {
  std::vector<RecordedEvent> all;
  for_each_event(order_id, 1, std::numeric_limits<std::uint64_t>::max(),
                 [&](const RecordedEvent& recorded) {
                   all.push_back(recorded);
                   return true;
                 });
  return all;
}

}  // namespace eda::sourcing
