/// @file participant_database.hpp
/// @brief What every saga participant keeps in its own SQLite database besides its state: the
///        outbox its replies go out through, and the log of the commands it handled.
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "eda/codec.hpp"
#include "eda/errors.hpp"
#include "eda/saga/checkout_messages.hpp"
#include "eda/saga/command_log.hpp"
#include "eda/saga/outbox.hpp"
#include "eda/sqlite/database.hpp"

namespace eda::saga {

/// @brief A participant's database, its outbox and its command log, opened together (each
///        participant owns one; nothing is shared between participants).
struct ParticipantDatabase {
  /// @brief Opens (creating if needed) the database at `path`; `what` names it in errors.
  ///        Throws eda::StorageError when the file cannot be used.
  ParticipantDatabase(const std::string& path, sqlite::Durability durability, const char* what)
      : db(path, durability, what), outbox(db), commands(db, outbox) {}

  sqlite::Database db;  ///< The participant's own database.
  Outbox outbox;        ///< Its outbox (replies and other events).
  CommandLog commands;  ///< The commands it handled, with their replies.
};

/// @brief Handles a command of a participant that knows two: `Do` (executed by
///        `run_do(transaction, payload, cause)`) and its compensation `Undo` (by `run_undo`),
///        each returning its reply's outbox position; anything else is refused with
///        UnknownCommand naming `participant`. Calls `replied` (if set) once the transaction
///        has committed.
template <EventPayload Do, EventPayload Undo, class RunDo, class RunUndo>
CommandOutcome handle_command(CommandLog& log, const DecodedEvent& command,
                              std::string_view participant, RunDo run_do, RunUndo run_undo,
                              const std::function<void()>& replied) {
  const CommandOutcome outcome =
      log.handle(command, [&](sqlite::Transaction& tx, const Cause& cause) -> std::uint64_t {
        if (command.is<Do>()) return run_do(tx, command.payload_as<Do>(), cause);
        if (command.is<Undo>()) return run_undo(tx, command.payload_as<Undo>(), cause);
        throw UnknownCommand(participant, command.type());
      });
  if (replied) replied();
  return outcome;
}

/// @brief The status named `name` in a participant's `table`, whose statuses are `names` in
///        the order of the enum `Status`; throws eda::StorageError for a name it does not know.
template <class Status, std::size_t N>
Status status_named(const std::array<std::string_view, N>& names, std::string_view name,
                    std::string_view table) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<Status>(i);
  }
  throw StorageError("the " + std::string(table) + " table holds an unknown status '" +
                     printable(name) + "'");
}

}  // namespace eda::saga
