#include "eda/sourcing/open_store.hpp"

#include <atomic>
#include <cctype>
#include <stdexcept>
#include <string_view>

#include "eda/sourcing/memory_store.hpp"
#include "eda/sourcing/sqlite_store.hpp"
#include "store_spec_scheme.hpp"

namespace eda::sourcing {

namespace {

// How PostgreSQL specs are opened, when the program links the PostgreSQL store: it installs
// this before main() (postgres_registration.cpp). Constant-initialized, so it is null before
// any registration runs whatever the order in which the program's files are initialized.
constinit std::atomic<detail::PostgresOpener> postgres_opener{nullptr};

}  // namespace

std::string detail::scheme_of(std::string_view spec) {
  const std::size_t colon = spec.find(':');
  if (colon == std::string_view::npos || colon == 0) return {};
  std::string scheme;
  for (std::size_t i = 0; i < colon; ++i) {
    const auto c = static_cast<unsigned char>(spec[i]);
    const bool fits =
        i == 0 ? std::isalpha(c) != 0 : (std::isalnum(c) != 0 || c == '+' || c == '-' || c == '.');
    if (!fits) return {};
    scheme += static_cast<char>(std::tolower(c));
  }
  return scheme;
}

void detail::install_postgres_opener(PostgresOpener opener) noexcept {
  postgres_opener.store(opener);
}

namespace {

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
  const std::string scheme = detail::scheme_of(spec);
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
      if (const detail::PostgresOpener open_postgres = postgres_opener.load()) {
        return open_postgres(parsed.location, options);
      }
      throw StoreError("event store \"" + redact_store_spec(spec) +
                       "\": this program was built without the PostgreSQL event store; "
                       "link it with the CMake target eda::sourcing_postgres (which needs "
                       "libpq: the Debian package libpq-dev)");
  }
  refuse(spec, "unknown kind of store");
}

bool can_open(StoreKind kind) noexcept {
  return kind != StoreKind::postgres || postgres_opener.load() != nullptr;
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
