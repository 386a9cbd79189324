#include "eda/sourcing/event_store.hpp"

#include <set>

#include "eda/sourcing/store_support.hpp"

namespace eda::sourcing {

ExpectedVersion ExpectedVersion::exactly(std::uint64_t version) {
  if (version == 0) {
    throw std::invalid_argument(
        "expected version 0 does not exist: use ExpectedVersion::no_stream() for a new stream");
  }
  return ExpectedVersion(Kind::exact, version);
}

ExpectedVersion ExpectedVersion::from(std::uint8_t kind, std::uint64_t version) {
  switch (static_cast<Kind>(kind)) {
    case Kind::any:
      return any();
    case Kind::no_stream:
      return no_stream();
    case Kind::exact:
      return exactly(version);
  }
  throw std::invalid_argument("unknown kind of expected version: " + std::to_string(kind));
}

std::vector<AppendOutcome> EventStore::append_all(std::span<const AppendRequest> requests) {
  std::vector<AppendOutcome> outcomes(requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    try {
      outcomes[i].result = append(requests[i].stream, requests[i].expected, requests[i].events);
    } catch (...) {
      outcomes[i].failure = detail::append_failure(requests[i]);
    }
  }
  return outcomes;
}

void AppendFailure::raise() const {
  switch (kind) {
    case Kind::conflict:
      throw ConcurrencyConflict(stream, expected, actual_version);
    case Kind::rejected:
      throw std::invalid_argument(message);
    case Kind::failed:
    case Kind::unknown:  // thrown as the error behind it (a timeout, a lost connection)
      break;
  }
  switch (category) {
    case ErrorCategory::storage:
      throw StoreError(message);
    case ErrorCategory::wire:
      throw CorruptEvent(message);
    default:
      throw Error(category, message);
  }
}

const AppendResult& AppendOutcome::value() const {
  if (!result) {
    if (failure) failure->raise();
    throw std::logic_error("AppendOutcome::value(): the outcome holds neither result nor failure");
  }
  return *result;
}

bool ExpectedVersion::allows(std::uint64_t current) const noexcept {
  switch (kind_) {
    case Kind::any:
      return true;
    case Kind::no_stream:
      return current == 0;
    case Kind::exact:
      return current == version_;
  }
  return false;
}

std::string ExpectedVersion::describe() const {
  switch (kind_) {
    case Kind::any:
      return "any version";
    case Kind::no_stream:
      return "no stream";
    case Kind::exact:
      return "version " + std::to_string(version_);
  }
  return "?";
}

ConcurrencyConflict::ConcurrencyConflict(std::string stream, const ExpectedVersion& expected,
                                         std::uint64_t actual)
    : Error(ErrorCategory::conflict,
            "concurrency conflict on stream '" + stream + "': expected " + expected.describe() +
                ", but it is " +
                (actual == 0 ? std::string("absent") : "at version " + std::to_string(actual)) +
                " (someone else appended first: reload and decide again)"),
      stream_(std::move(stream)),
      actual_(actual) {}

namespace detail {

AppendFailure append_failure(const AppendRequest& request) {
  AppendFailure failure;
  failure.stream = request.stream;
  failure.expected = request.expected;
  try {
    throw;
  } catch (const ConcurrencyConflict& e) {
    failure.kind = AppendFailure::Kind::conflict;
    failure.category = ErrorCategory::conflict;
    failure.actual_version = e.actual_version();
    failure.message = e.what();
  } catch (const std::invalid_argument& e) {
    failure.kind = AppendFailure::Kind::rejected;
    failure.category = ErrorCategory::application;
    failure.message = e.what();
  } catch (const Error& e) {
    failure.category = e.category();
    failure.message = e.what();
  } catch (const std::exception& e) {
    failure.message = e.what();
  } catch (...) {
    failure.message = "an unknown exception";
  }
  return failure;
}

std::vector<bool> check_group(std::span<const AppendRequest> requests,
                              std::vector<AppendOutcome>& outcomes) {
  std::vector<bool> valid(requests.size(), true);
  for (std::size_t i = 0; i < requests.size(); ++i) {  // input errors need no transaction
    try {
      check_batch(requests[i].stream, requests[i].events);
    } catch (...) {
      outcomes[i].failure = append_failure(requests[i]);
      valid[i] = false;
    }
  }
  return valid;
}

namespace {

/// Whether `text` is well-formed UTF-8 without a NUL byte: what a text column takes in every
/// database (PostgreSQL refuses anything else when it receives it, which would fail a whole
/// group of appends instead of the one that brought it).
bool is_clean_text(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead == 0) return false;
    if (lead < 0x80) {
      ++i;
      continue;
    }
    // The lead byte says how many bytes the character has, and its first bits.
    std::size_t length = 0;
    std::uint32_t code = 0;
    if ((lead & 0xE0) == 0xC0) {
      length = 2, code = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3, code = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4, code = lead & 0x07;
    } else {
      return false;  // a continuation byte where a character should start, or 0xF8..0xFF
    }
    if (i + length > text.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3F);
    }
    // Not the shortest form, beyond Unicode, or a UTF-16 surrogate: not UTF-8.
    constexpr std::uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < smallest[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
      return false;
    }
    i += length;
  }
  return true;
}

}  // namespace

void check_batch(std::string_view stream, std::span<const EventData> events) {
  if (stream.empty() || stream.size() > 200) {
    throw std::invalid_argument("a stream name must be 1..200 characters, e.g. 'order-42'");
  }
  if (!is_clean_text(stream)) {
    throw std::invalid_argument("a stream name must be UTF-8 text without NUL bytes");
  }
  if (events.empty()) {
    throw std::invalid_argument("nothing to append to stream '" + std::string(stream) + "'");
  }
  std::set<std::string_view> ids;
  for (const EventData& event : events) {
    if (event.event_id.empty() || event.event_id.size() > 200 || !is_clean_text(event.event_id)) {
      throw std::invalid_argument(
          "an event id must be 1..200 bytes of UTF-8 text without NUL "
          "bytes (stream '" +
          std::string(stream) + "')");
    }
    if (event.type.empty() || event.type.size() > 200 || !is_clean_text(event.type)) {
      throw std::invalid_argument("event " + event.event_id +
                                  ": its type must be 1..200 bytes of "
                                  "UTF-8 text without NUL bytes");
    }
    if (!ids.insert(event.event_id).second) {
      throw std::invalid_argument("event id " + event.event_id + " appears twice in one append");
    }
    try {
      const DecodedEvent decoded = DecodedEvent::decode(event.envelope);
      if (decoded.event_id() != event.event_id || decoded.type() != event.type) {
        throw std::invalid_argument("event " + event.event_id + ": its envelope says id " +
                                    decoded.meta().event_id + ", type " + decoded.meta().type);
      }
    } catch (const MalformedMessage& e) {
      throw std::invalid_argument("event " + event.event_id + " for stream '" +
                                  std::string(stream) + "' is not a valid envelope: " + e.what());
    }
  }
}

std::optional<AppendResult> check_retry(std::string_view stream,
                                        std::span<const std::optional<StoredAt>> found) {
  std::size_t stored = 0;
  for (const auto& place : found) stored += place ? 1U : 0U;
  if (stored == 0) {
    return std::nullopt;  // all new
  }
  const bool same_batch = stored == found.size() && [&] {
    for (std::size_t i = 0; i < found.size(); ++i) {
      if (found[i]->stream != stream || found[i]->version != found[0]->version + i) return false;
    }
    return true;
  }();
  if (!same_batch) {
    throw std::invalid_argument(
        "some of these event ids are already stored, but not as this same append to stream '" +
        std::string(stream) + "': a retry must resend exactly the events it sent");
  }
  return AppendResult{found.front()->version, found.back()->version, found.front()->position,
                      found.back()->position, true};
}

RecordedEvent recorded(std::string stream, std::uint64_t version, std::uint64_t position,
                       std::string_view envelope) {
  try {
    DecodedEvent event = DecodedEvent::decode(envelope);  // before `stream` is moved away
    return RecordedEvent{std::move(stream), version, position, std::move(event)};
  } catch (const MalformedMessage& e) {
    throw CorruptEvent("stored event at position " + std::to_string(position) + " (stream '" +
                       stream + "', version " + std::to_string(version) +
                       ") cannot be read: " + e.what());
  }
}

}  // namespace detail
}  // namespace eda::sourcing
