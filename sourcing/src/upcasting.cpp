#include "eda/sourcing/upcasting.hpp"

#include <stdexcept>

namespace eda::sourcing {

void Upcasters::add(std::string type, std::uint32_t from_version, UpcastStep step) {
  if (from_version == 0 || !step) {
    throw std::invalid_argument("an upcaster needs a version from 1 and a function");
  }
  if (!steps_.emplace(std::pair{std::move(type), from_version}, std::move(step)).second) {
    throw std::invalid_argument("this upcasting step is already registered");
  }
}

msgpack::object Upcasters::upcast(const DecodedEvent& event, std::uint32_t target,
                                  msgpack::zone& zone) const {
  const EventMetadata& meta = event.meta();
  msgpack::object payload = event.payload();
  for (std::uint32_t version = meta.schema_version; version < target; ++version) {
    const auto step = steps_.find(std::pair{meta.type, version});
    if (step == steps_.end()) {
      throw MalformedMessage(WireFault::unknown_schema_version,
                             meta.type + " event " + meta.event_id + " has schema version " +
                                 std::to_string(meta.schema_version) +
                                 " and no upcaster turns version " + std::to_string(version) +
                                 " into " + std::to_string(version + 1));
    }
    payload = step->second(payload, zone);
  }
  return payload;
}

}  // namespace eda::sourcing
