#include "eda/json.hpp"

#include <utility>

namespace eda {

nlohmann::json to_json(const DecodedEvent& event) {
  const EventMetadata& m = event.meta();
  return nlohmann::json{{"event_id", m.event_id},
                        {"type", m.type},
                        {"source", m.source},
                        {"sequence", m.sequence},
                        {"timestamp_ns", m.timestamp_ns},
                        {"schema_version", m.schema_version},
                        {"correlation_id", m.correlation_id},
                        {"causation_id", m.causation_id},
                        {"payload", json_from_msgpack(event.payload_bytes())}};
}

nlohmann::json to_json(const DeadLetter& letter) {
  nlohmann::json rendered = nlohmann::json::array();
  for (const std::string& frame : letter.frames) {
    nlohmann::json as_json = json_from_msgpack(frame);
    // A frame that parses as MessagePack is shown decoded; anything else as escaped text.
    if (as_json.is_null() || as_json.is_number()) {
      rendered.push_back(printable(frame, 200));
    } else {
      rendered.push_back(std::move(as_json));
    }
  }
  return nlohmann::json{{"fault", std::string(to_string(letter.fault))},
                        {"reason", letter.reason},
                        {"origin", letter.origin},
                        {"received_at_ns", letter.received_at_ns},
                        {"frames", std::move(rendered)}};
}

nlohmann::json json_from_msgpack(std::string_view bytes) noexcept {
  try {
    // Validate (and bound the nesting depth) with the untrusted-input parser first: the JSON
    // library parses recursively and must never see hostile nesting.
    (void)unpack_untrusted(bytes, "value");
    return nlohmann::json::from_msgpack(bytes.begin(), bytes.end());
  } catch (const std::exception&) {
    return nullptr;
  }
}

std::string one_line(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string to_json_line(const DecodedEvent& event) { return one_line(to_json(event)); }

}  // namespace eda
