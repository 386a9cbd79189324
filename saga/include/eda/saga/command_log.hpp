/// @file command_log.hpp
/// @brief How a saga participant handles commands idempotently: each command's id is recorded
///        with the position of its reply in the outbox, in the same transaction as its effect.
///
/// Commands arrive at least once: the orchestrator sends a command again when it resumes after a
/// crash (it cannot know whether the first copy arrived), and a transport may deliver one
/// twice. A command seen before is not executed again; its first reply is repeated instead
/// (Outbox::repeat), because the sender is asking again precisely when it may have missed it.
#pragma once

#include <cstdint>
#include <functional>

#include "eda/codec.hpp"
#include "eda/envelope.hpp"
#include "eda/saga/outbox.hpp"
#include "eda/sqlite/database.hpp"

namespace eda::saga {

/// @brief What a participant did with a command.
enum class CommandOutcome {
  executed,  ///< First time seen: executed, its reply added to the outbox.
  repeated,  ///< Seen before: not executed again; its first reply added to the outbox again.
};

/// @brief Counters of a CommandLog since it opened.
struct CommandCounters {
  std::uint64_t executed = 0;  ///< Commands executed.
  std::uint64_t repeated = 0;  ///< Duplicates answered with their first reply.
};

/// @brief Executes a command and adds its reply, inside the transaction given; returns the
///        reply's outbox position. `cause` links the reply to the command (Cause::of).
using CommandExecutor = std::function<std::uint64_t(sqlite::Transaction&, const Cause&)>;

/// @brief The `processed_commands(command_id, reply_position)` table of a participant's
///        database, and the one transaction that executes a command, records it and replies.
///
/// @par Thread safety
/// Like the Database it writes to: one thread at a time.
class CommandLog {
 public:
  /// @brief Uses `db` and `outbox` (both must outlive this), creating the table if missing.
  CommandLog(sqlite::Database& db, Outbox& outbox);

  /// @brief Handles `command` in one transaction: a command id seen before gets its first reply
  ///        again; a new one is executed by `execute` and recorded with its reply.
  ///
  /// If `execute` throws (an unknown command, a payload that does not decode, a failing
  /// database), nothing is kept and the exception propagates: the command was not handled.
  CommandOutcome handle(const DecodedEvent& command, const CommandExecutor& execute);

  /// @brief Whether a command with this id was handled.
  [[nodiscard]] bool handled(std::string_view command_id) const;

  /// @brief Counters since it opened.
  [[nodiscard]] const CommandCounters& counters() const noexcept { return counters_; }

 private:
  sqlite::Database& db_;
  Outbox& outbox_;
  CommandCounters counters_{};
};

}  // namespace eda::saga
