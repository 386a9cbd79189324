/// @file json.hpp
/// @brief The human form of events, dead letters and MessagePack bytes: JSON, made with
///        nlohmann/json from the same bytes that travel.
///
/// Kept apart from codec.hpp so that code which only sends and receives events (everything
/// that includes the pub/sub header) does not compile the JSON library: narration, traces and
/// dead-letter files include this header.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "eda/codec.hpp"
#include "eda/dead_letter.hpp"

namespace eda {

/// @brief An event as a JSON object: the metadata fields, and the payload as JSON.
[[nodiscard]] nlohmann::json to_json(const DecodedEvent& event);

/// @brief A dead letter as a JSON object: fault, reason, origin, time, and each frame as JSON
///        (when it is MessagePack) or as escaped text.
[[nodiscard]] nlohmann::json to_json(const DeadLetter& letter);

/// @brief The human (JSON) form of any MessagePack bytes; `null` when they do not parse.
[[nodiscard]] nlohmann::json json_from_msgpack(std::string_view bytes) noexcept;

/// @brief A one-line JSON rendering of an event, for narration and traces.
[[nodiscard]] std::string to_json_line(const DecodedEvent& event);

/// @brief A JSON value as one line of text; bytes that are not UTF-8 (strings on the wire need
///        not be) are replaced instead of throwing.
[[nodiscard]] std::string one_line(const nlohmann::json& value);

}  // namespace eda
