/// @file upcasting.hpp
/// @brief Schema evolution on read: a chain of upcasters turns an old event's payload into
///        the current shape, step by step, so histories written years ago still load.
///
/// Stored events are never rewritten: a version-1 event stays version 1 in the store. Each
/// reader applies the steps from the event's version to the version its code understands.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include <msgpack.hpp>

#include "eda/codec.hpp"

namespace eda::sourcing {

/// @brief One step: a payload of some type at version N in, the same payload at N + 1 out
///        (allocated in `zone`). Throws MalformedMessage when the old payload does not fit.
using UpcastStep =
    std::function<msgpack::object(const msgpack::object& payload, msgpack::zone& zone)>;

/// @brief The upcasting steps for every event type that has changed shape.
///
/// @par Example
/// @code
/// Upcasters upcasters;
/// upcasters.add("shop.order.item-added", 1, [](const msgpack::object& v1, msgpack::zone& z) {
///   ... return msgpack::object(v2_payload, z);
/// });
/// ItemAdded current = upcasters.payload_as<ItemAdded>(event);  // whatever version is stored
/// @endcode
class Upcasters {
 public:
  /// @brief Registers the step from version `from_version` of `type` to `from_version + 1`.
  void add(std::string type, std::uint32_t from_version, UpcastStep step);

  /// @brief The payload of `event` as a `P` of the current version (`P::schema_version`),
  ///        upcast as needed. Throws MalformedMessage: `unknown_schema_version` when a step is
  ///        missing or the event is newer than `P`, `payload_mismatch` when a shape is wrong.
  template <EventPayload P>
  [[nodiscard]] P payload_as(const DecodedEvent& event) const {
    const std::uint32_t stored = event.schema_version();
    if (stored >= P::schema_version || !event.is<P>()) {
      return event.payload_as<P>();  // current, newer or another type: its own checks say
    }
    msgpack::zone zone;
    const msgpack::object current = upcast(event, P::schema_version, zone);
    return eda::detail::convert_checked<P>(current, [&] {
      return "payload of " + event.meta().type + " event " + event.meta().event_id +
             " upcast from version " + std::to_string(stored);
    });
  }

  /// @brief How many steps are registered.
  [[nodiscard]] std::size_t size() const noexcept { return steps_.size(); }

 private:
  msgpack::object upcast(const DecodedEvent& event, std::uint32_t target,
                         msgpack::zone& zone) const;

  std::map<std::pair<std::string, std::uint32_t>, UpcastStep, std::less<>> steps_;
};

}  // namespace eda::sourcing
