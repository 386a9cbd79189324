// Pieces every shop projection is made of (private to this module): the batch's working set of
// rows, and order lines kept as MessagePack in a row.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

#include "eda/codec.hpp"
#include "eda/cqrs/projection.hpp"

namespace eda::cqrs::detail {

/// An order's lines by sku, as the aggregate's evolve() keeps them.
using Lines = std::map<std::string, sourcing::OrderLine>;

/// The lines after `item` was added: the quantity adds up, the newest price wins.
inline void add_line(Lines& lines, const sourcing::ItemAdded& item) {
  sourcing::OrderLine& line = lines[item.sku];
  line.quantity += item.quantity;
  line.unit_price_cents = item.unit_price_cents;
}

/// Lines as stored in a working column (MessagePack), and back.
inline std::string encode_lines(const Lines& lines) { return encode_value(lines); }
inline Lines decode_lines(std::string_view bytes) {
  return bytes.empty() ? Lines{} : decode_value<Lines>(bytes, "order lines in a read model");
}

/// The rows one batch touches, by order id, kept in memory until the batch is written.
///
/// Why: applying each event with its own SQL statements costs several statements per event;
/// folding the batch in memory and writing each touched row once costs about one per order.
/// A batch of one event (a live projector) is no slower; a rebuild, whose batches hold
/// thousands of events, is many times faster.
///
/// Each row carries the last version of its order applied to it: an event at or below it is
/// ignored, which makes the handlers idempotent (a redelivered event changes nothing), whether
/// the row came from this batch or from the database; an event beyond the next one is an error.
template <class Row>
class BatchRows {
 public:
  /// The row of `order_id`: from this batch, or read with `load(order_id)` (which returns
  /// std::optional<Row>: nothing when the order has no row yet).
  template <class Load>
  std::optional<Row>& find(std::uint64_t order_id, Load&& load) {
    auto it = entries_.find(order_id);
    if (it == entries_.end()) it = entries_.emplace(order_id, Entry{load(order_id), false}).first;
    return it->second.row;
  }

  /// A new row for an order that has none (its first event), to be written.
  Row& create(std::uint64_t order_id, Row row) {
    Entry& entry = entries_[order_id];
    entry = Entry{std::move(row), true};
    return *entry.row;
  }

  /// The row, if `event` is the next event of its order (then recorded as applied and the row
  /// marked for writing); nothing when it was applied before (a redelivery changes nothing).
  ///
  /// An event further ahead than the next one means an event was skipped on the way here, and
  /// an order without a row means its OrderPlaced was: either way every answer from now on
  /// would be silently wrong, so it throws (std::runtime_error naming the order and position)
  /// and the batch is rolled back.
  template <class Load>
  Row* claim(const ProjectedEvent& event, Load&& load) {
    std::optional<Row>& row = find(event.order_id, load);
    const std::uint64_t applied = row ? row->version : 0;
    if (event.version <= applied) return nullptr;
    if (!row || event.version != applied + 1) {
      throw std::runtime_error("order " + std::to_string(event.order_id) + ": event " +
                               std::to_string(event.version) + " (store position " +
                               std::to_string(event.position) + ") arrived, but the read model " +
                               (row ? "has applied its events only up to " + std::to_string(applied)
                                    : std::string("has never seen it placed")) +
                               ": an event was skipped; rebuild the projection");
    }
    row->version = event.version;
    entries_[event.order_id].dirty = true;
    return &*row;
  }

  /// Calls `write(order_id, row)` for every row the batch changed, then forgets the batch.
  template <class Write>
  void write_changed(Write&& write) {
    for (const auto& [order_id, entry] : entries_) {
      if (entry.dirty) write(order_id, *entry.row);
    }
    entries_.clear();
  }

  /// Forgets the batch (when its transaction was rolled back).
  void clear() noexcept { entries_.clear(); }

 private:
  struct Entry {
    std::optional<Row> row;
    bool dirty = false;
  };
  std::unordered_map<std::uint64_t, Entry> entries_;
};

}  // namespace eda::cqrs::detail
