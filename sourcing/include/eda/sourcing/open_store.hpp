/// @file open_store.hpp
/// @brief Opening an event store from one string, the store spec, so that every program that
///        opens a store (the demos, the store service, the CQRS command side and projectors)
///        chooses between memory, SQLite and PostgreSQL the same way, on its command line.
///
/// The accepted forms:
///
/// | spec                                | the store                                  |
/// |-------------------------------------|--------------------------------------------|
/// | `memory:`                           | InMemoryEventStore (nothing survives)      |
/// | `sqlite:orders.db`                  | SqliteEventStore in that file              |
/// | `orders.db` (no scheme)             | the same: a bare path is a SQLite file     |
/// | `postgresql://user@host:5432/shop`  | PostgresEventStore (libpq's URI form)      |
/// | `postgres://user@host/shop`         | the same (libpq accepts both schemes)      |
///
/// A bare path keeps the older flags (`--db FILE`, `--store FILE`) working unchanged.
///
/// @par PostgreSQL is linked in, or not
/// The PostgreSQL store is a library of its own, the CMake target `eda::sourcing_postgres`,
/// so that a program using the in-memory or SQLite store does not link libpq. open_event_store()
/// lives here, below it, and learns how to open a PostgreSQL spec from that library: linking it
/// is enough (it installs its opener before main(), see postgres_registration.cpp). In a
/// program without it, a PostgreSQL spec is refused with an error naming the target to link;
/// can_open() tells beforehand.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "eda/sourcing/event_store.hpp"
#include "eda/sourcing/sqlite_store.hpp"

namespace eda::sourcing {

/// @brief Which kind of store a spec names.
enum class StoreKind {
  memory,    ///< `memory:`: an InMemoryEventStore.
  sqlite,    ///< `sqlite:PATH` or a bare path: a SqliteEventStore.
  postgres,  ///< `postgresql://...` or `postgres://...`: a PostgresEventStore.
};

/// @brief A store spec taken apart: the kind of store and where it is.
struct StoreSpec {
  StoreKind kind = StoreKind::memory;  ///< Which store.
  /// @brief The SQLite file's path, or the PostgreSQL connection URI (as given, password
  ///        included); empty for memory.
  std::string location{};
};

/// @brief How the stores a spec opens are set up, where the spec itself says nothing.
struct StoreSpecOptions {
  Durability durability = Durability::full;  ///< SQLite: see Durability.
  /// @brief PostgreSQL: how long to wait for the server when connecting.
  std::chrono::seconds connect_timeout = std::chrono::seconds(10);
  /// @brief PostgreSQL: the application name the server shows for the connection.
  std::string application_name = "eda-event-store";
};

/// @brief The forms open_event_store() accepts, one line of text for help and error messages.
[[nodiscard]] const char* accepted_store_specs() noexcept;

/// @brief Takes `spec` apart without opening anything; throws std::invalid_argument naming
///        the accepted forms (and never the password) when `spec` is none of them: empty,
///        `sqlite:` without a path, `memory:` followed by anything, an unknown scheme such as
///        `mysql://...`, or a ZeroMQ endpoint (a store service is opened with RemoteEventStore).
[[nodiscard]] StoreSpec parse_store_spec(const std::string& spec);

/// @brief Opens the store `spec` names (see the file's table): creates the SQLite file or the
///        PostgreSQL schema when absent. Throws std::invalid_argument for a spec that is none
///        of the accepted forms, eda::StorageError (StoreError for PostgreSQL) when the store cannot be opened — a
///        PostgreSQL spec included, in a program that does not link eda::sourcing_postgres
///        (the message says so).
///
/// @par Example
/// ```cpp
/// auto store = open_event_store("postgresql://shop@db.example/shop");
/// OrderRepository orders(*store);
/// ```
[[nodiscard]] std::unique_ptr<EventStore> open_event_store(const std::string& spec,
                                                           const StoreSpecOptions& options = {});

/// @brief Whether open_event_store() can open a store of this kind in this program: always for
///        memory and SQLite, for PostgreSQL when the program links eda::sourcing_postgres.
[[nodiscard]] bool can_open(StoreKind kind) noexcept;

/// @brief `spec` as it may be printed: the password taken out of a URI's user part and out
///        of a `password=` parameter (`postgresql://user:secret@host/db` becomes
///        `postgresql://user@host/db`). Anything else is returned as it is.
[[nodiscard]] std::string redact_store_spec(const std::string& spec);

/// @brief A description of the store `spec` names, for narration and logs, never with a
///        password: `in memory`, `SQLite file PATH`, or the PostgreSQL URI as
///        redact_store_spec() prints it. Never throws for a bad spec: it is then described
///        as `unknown store spec ...` (redacted).
[[nodiscard]] std::string describe_store_spec(const std::string& spec);

namespace detail {

/// @brief How open_event_store() opens a PostgreSQL spec: `connection` is the URI as given.
using PostgresOpener = std::unique_ptr<EventStore> (*)(const std::string& connection,
                                                       const StoreSpecOptions& options);

/// @brief Makes open_event_store() open PostgreSQL specs with `opener`. Called once, before
///        main(), by the PostgreSQL store's library (eda::sourcing_postgres); nothing else
///        needs to call it.
void install_postgres_opener(PostgresOpener opener) noexcept;

}  // namespace detail

}  // namespace eda::sourcing
