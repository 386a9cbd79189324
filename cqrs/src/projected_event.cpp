// Which of the store's events the shop's projections read, and how they see each one: the
// events of the order streams (`order-<id>`), decoded and upcast once per batch for all of them.

#include <charconv>

#include "eda/cqrs/projection.hpp"
#include "eda/sourcing/order_repository.hpp"

namespace eda::cqrs {

std::optional<std::uint64_t> order_of_stream(std::string_view stream) {
  constexpr std::string_view prefix = "order-";
  if (!stream.starts_with(prefix)) {
    return std::nullopt;
  }
  std::uint64_t id = 0;
  const std::string_view digits = stream.substr(prefix.size());
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (error != std::errc() || end != digits.data() + digits.size() || digits.empty()) {
    return std::nullopt;
  }
  return id;
}

std::optional<ProjectedEvent> projected_event_of(const sourcing::RecordedEvent& recorded) {
  const auto order_id = order_of_stream(recorded.stream);
  if (!order_id) return std::nullopt;
  return ProjectedEvent{*order_id, recorded.version, recorded.position,
                        recorded.event.timestamp_ns(), sourcing::order_event_from(recorded)};
}

}  // namespace eda::cqrs
