#include "eda/sourcing/open_store.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <string_view>

#include "eda/sourcing/memory_store.hpp"
#include "eda/sourcing/postgres_store.hpp"
#include "eda/sourcing/sqlite_store.hpp"

namespace eda::sourcing {

namespace {

/// The scheme at the start of `spec` (RFC 3986: a letter, then letters, digits, `+-.`),
/// lower-cased, without its `:`; empty when there is none.
std::string scheme_of(std::string_view spec) {
  const std::size_t colon = spec.find(':');
  if (colon == std::string_view::npos || colon == 0) return {};
  std::string scheme;
  for (std::size_t i = 0; i < colon; ++i) {
    const auto c = static_cast<unsigned char>(spec[i]);
    const bool fits = i == 0 ? std::isalpha(c) != 0
                             : (std::isalnum(c) != 0 || c == '+' || c == '-' || c == '.');
    if (!fits) return {};
    scheme += static_cast<char>(std::tolower(c));
  }
  return scheme;
}

bool is_password_key(std::string_view text) {
  constexpr std::string_view key = "password=";
  if (text.size() < key.size()) return false;
  for (std::size_t i = 0; i < key.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != key[i]) return false;
  }
  return true;
}

/// `text` without any `password=VALUE` (a URI query parameter, or a libpq keyword pair that
/// was written where a path was expected), and without the separator before it.
std::string without_password_parameters(const std::string& text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const bool at_start = i == 0 || text[i - 1] == '?' || text[i - 1] == '&' ||
                          std::isspace(static_cast<unsigned char>(text[i - 1])) != 0;
    if (at_start && is_password_key(std::string_view(text).substr(i))) {
      std::size_t end = i;
      while (end < text.size() && text[end] != '&' && text[end] != '#' &&
             std::isspace(static_cast<unsigned char>(text[end])) == 0) {
        ++end;
      }
      // Drop the separator too: `?a=1&password=x&b=2` -> `?a=1&b=2`, `?password=x` -> ``.
      if (end < text.size() && text[end] == '&') {
        ++end;
      } else if (!out.empty() && (out.back() == '&' || out.back() == '?')) {
        out.pop_back();
      }
      i = end;
      continue;
    }
    out += text[i++];
  }
  return out;
}

[[noreturn]] void refuse(const std::string& spec, const std::string& why) {
  throw std::invalid_argument("event store \"" + redact_store_spec(spec) + "\": " + why +
                              "; accepted: " + accepted_store_specs());
}

}  // namespace

const char* accepted_store_specs() noexcept {
  return "memory:, sqlite:FILE, FILE (a SQLite file), postgresql://... or postgres://... "
         "(a PostgreSQL connection URI)";
}

StoreSpec parse_store_spec(const std::string& spec) {
  if (spec.empty()) refuse(spec, "no store given");
  const std::string scheme = scheme_of(spec);
  const std::string rest = scheme.empty() ? spec : spec.substr(scheme.size() + 1);
  if (scheme == "memory") {
    if (!rest.empty()) refuse(spec, "memory: takes nothing after the colon");
    return {StoreKind::memory, {}};
  }
  if (scheme == "sqlite") {
    if (rest.empty()) refuse(spec, "sqlite: needs a file after the colon");
    return {StoreKind::sqlite, rest};
  }
  if (scheme == "postgresql" || scheme == "postgres") {
    if (!rest.starts_with("//")) refuse(spec, "a PostgreSQL store is a URI: " + scheme + "://...");
    return {StoreKind::postgres, spec};
  }
  if (scheme == "tcp" || scheme == "ipc" || scheme == "inproc") {
    refuse(spec, "a ZeroMQ endpoint names a store service, which RemoteEventStore opens");
  }
  // Any other `scheme://` is a database we do not speak; `name:thing` without the slashes
  // may well be a file name, and is taken as one, like any other bare path.
  if (!scheme.empty() && rest.starts_with("//")) refuse(spec, "unknown scheme " + scheme + "://");
  return {StoreKind::sqlite, spec};
}

std::unique_ptr<EventStore> open_event_store(const std::string& spec,
                                             const StoreSpecOptions& options) {
  StoreSpec parsed = parse_store_spec(spec);
  switch (parsed.kind) {
    case StoreKind::memory:
      return std::make_unique<InMemoryEventStore>();
    case StoreKind::sqlite:
      return std::make_unique<SqliteEventStore>(
          SqliteStoreOptions{.path = std::move(parsed.location), .durability = options.durability});
    case StoreKind::postgres:
      return std::make_unique<PostgresEventStore>(
          PostgresStoreOptions{.connection = std::move(parsed.location),
                               .connect_timeout = options.connect_timeout,
                               .application_name = options.application_name});
  }
  refuse(spec, "unknown kind of store");
}

std::string redact_store_spec(const std::string& spec) {
  std::string out = spec;
  const std::size_t slashes = out.find("://");
  if (slashes != std::string::npos && !scheme_of(out).empty()) {
    const std::size_t begin = slashes + 3;
    const std::size_t end = std::min(out.find_first_of("/?#", begin), out.size());
    // The user part ends at the last `@` of the authority (a password may hold a raw `@`).
    const std::size_t at = out.rfind('@', end == 0 ? 0 : end - 1);
    if (at != std::string::npos && at >= begin) {
      const std::size_t colon = out.find(':', begin);
      if (colon < at) out.erase(colon, at - colon);
    }
  }
  return without_password_parameters(out);
}

std::string describe_store_spec(const std::string& spec) {
  try {
    const StoreSpec parsed = parse_store_spec(spec);
    switch (parsed.kind) {
      case StoreKind::memory:
        return "in memory";
      case StoreKind::sqlite:
        return "SQLite file " + redact_store_spec(parsed.location);
      case StoreKind::postgres:
        return redact_store_spec(parsed.location);
    }
  } catch (const std::invalid_argument&) {
  }
  return "unknown store spec " + redact_store_spec(spec);
}

}  // namespace eda::sourcing
