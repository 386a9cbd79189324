/// @file participant_database.hpp
/// @brief What every saga participant keeps in its own SQLite database besides its state: the
///        outbox its replies go out through, and the log of the commands it handled.
#pragma once

#include <string>

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

}  // namespace eda::saga
