// A participant's command log: command id and reply position, committed with the effect.
#include "eda/saga/command_log.hpp"

namespace eda::saga {

CommandLog::CommandLog(sqlite::Database& db, Outbox& outbox) : db_(db), outbox_(outbox) {
  db_.exec(
      "CREATE TABLE IF NOT EXISTS processed_commands ("
      " command_id TEXT PRIMARY KEY, command_type TEXT NOT NULL,"
      " reply_position INTEGER NOT NULL) WITHOUT ROWID;");
}

CommandOutcome CommandLog::handle(const DecodedEvent& command, const CommandExecutor& execute) {
  sqlite::Transaction tx(db_);
  sqlite::Statement earlier(db_.handle(),
                            "SELECT reply_position FROM processed_commands WHERE command_id = ?");
  earlier.bind(command.event_id());
  if (earlier.step()) {
    const auto position = static_cast<std::uint64_t>(earlier.integer(0));
    earlier.done();
    (void)outbox_.repeat(tx, position);
    tx.commit();
    ++counters_.repeated;
    return CommandOutcome::repeated;
  }
  earlier.done();
  const std::uint64_t reply = execute(tx, Cause::of(command.meta()));
  sqlite::Statement record(db_.handle(),
                           "INSERT INTO processed_commands (command_id, command_type, "
                           "reply_position) VALUES (?, ?, ?)");
  record.bind(command.event_id(), command.type(), reply);
  record.run();
  tx.commit();
  ++counters_.executed;
  return CommandOutcome::executed;
}

bool CommandLog::handled(std::string_view command_id) const {
  sqlite::Statement query(db_.handle(),
                          "SELECT COUNT(*) FROM processed_commands WHERE command_id = ?");
  query.bind(command_id);
  return query.single_integer() != 0;
}

}  // namespace eda::saga
