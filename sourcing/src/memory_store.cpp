#include "eda/sourcing/memory_store.hpp"

#include <mutex>

#include "eda/sourcing/store_support.hpp"

namespace eda::sourcing {

AppendResult InMemoryEventStore::append(std::string_view stream, const ExpectedVersion& expected,
                                        std::span<const EventData> events) {
  detail::check_batch(stream, events);
  std::unique_lock lock(mutex_);
  std::vector<std::optional<detail::StoredAt>> found;
  for (const EventData& event : events) {
    const auto it = ids_.find(event.event_id);
    if (it == ids_.end()) {
      found.emplace_back();
    } else {
      const Stored& stored = log_[it->second - 1];
      found.emplace_back(detail::StoredAt{stored.stream, stored.version, it->second});
    }
  }
  if (auto retry = detail::check_retry(stream, found)) {
    return *retry;
  }
  auto& positions = streams_[std::string(stream)];
  const std::uint64_t current = positions.size();
  if (!expected.allows(current)) {
    if (positions.empty()) streams_.erase(std::string(stream));
    throw ConcurrencyConflict(std::string(stream), expected, current);
  }
  AppendResult result{current + 1, current + events.size(), log_.size() + 1,
                      log_.size() + events.size(), false};
  for (const EventData& event : events) {
    log_.push_back(Stored{std::string(stream), positions.size() + 1, event.envelope});
    positions.push_back(log_.size());
    ids_.emplace(event.event_id, log_.size());
  }
  return result;
}

std::vector<RecordedEvent> InMemoryEventStore::read_stream(std::string_view stream,
                                                           std::uint64_t from,
                                                           std::size_t max_count,
                                                           Direction direction) const {
  std::shared_lock lock(mutex_);
  std::vector<RecordedEvent> out;
  const auto it = streams_.find(stream);
  if (it == streams_.end() || max_count == 0) {
    return out;
  }
  const std::vector<std::uint64_t>& positions = it->second;
  const auto emit = [&](std::uint64_t version) {
    const std::uint64_t position = positions[version - 1];
    const Stored& stored = log_[position - 1];
    out.push_back(detail::recorded(stored.stream, version, position, stored.envelope));
  };
  if (direction == Direction::forward) {
    for (std::uint64_t v = std::max<std::uint64_t>(from, 1);
         v <= positions.size() && out.size() < max_count; ++v) {
      emit(v);
    }
  } else {
    std::uint64_t v = (from == 0 || from > positions.size()) ? positions.size() : from;
    for (; v >= 1 && out.size() < max_count; --v) {
      emit(v);
    }
  }
  return out;
}

std::vector<RecordedEvent> InMemoryEventStore::read_all(std::uint64_t from,
                                                        std::size_t max_count) const {
  std::shared_lock lock(mutex_);
  std::vector<RecordedEvent> out;
  for (std::uint64_t p = std::max<std::uint64_t>(from, 1);
       p <= log_.size() && out.size() < max_count; ++p) {
    const Stored& stored = log_[p - 1];
    out.push_back(detail::recorded(stored.stream, stored.version, p, stored.envelope));
  }
  return out;
}

std::uint64_t InMemoryEventStore::stream_version(std::string_view stream) const {
  std::shared_lock lock(mutex_);
  const auto it = streams_.find(stream);
  return it == streams_.end() ? 0 : it->second.size();
}

std::uint64_t InMemoryEventStore::last_position() const {
  std::shared_lock lock(mutex_);
  return log_.size();
}

void InMemoryEventStore::save_snapshot(std::string_view stream, const Snapshot& snapshot) {
  std::unique_lock lock(mutex_);
  const auto it = snapshots_.find(stream);
  if (it == snapshots_.end()) {
    snapshots_.emplace(std::string(stream), snapshot);
  } else if (snapshot.version >= it->second.version) {
    it->second = snapshot;
  }
}

std::optional<Snapshot> InMemoryEventStore::load_snapshot(std::string_view stream) const {
  std::shared_lock lock(mutex_);
  const auto it = snapshots_.find(stream);
  if (it == snapshots_.end()) return std::nullopt;
  return it->second;
}

}  // namespace eda::sourcing
