// An outbox relay's progress: one row of two positions in a SQLite file of the relay's own.
#include "eda/saga/relay_progress.hpp"

#include "eda/errors.hpp"

namespace eda::saga {
namespace {

std::string start_again_advice(const std::string& path) {
  return ". Delete '" + path +
         "' to make the relay start again from the outbox's first row (every event is sent "
         "again; consumers deduplicate by event id)";
}

}  // namespace

std::string relay_progress_path(const std::string& outbox_database) {
  return outbox_database + ".relay";
}

RelayProgress::RelayProgress(const std::string& path) {
  try {
    // A process crash never loses a commit in WAL at synchronous=NORMAL, and no commit waits
    // for an fsync: the relay records every round.
    db_.emplace(path, sqlite::Durability::normal, "outbox relay's progress");
    db_->exec(
        "CREATE TABLE IF NOT EXISTS relay_progress ("
        " id INTEGER PRIMARY KEY CHECK (id = 1),"
        " sent_through INTEGER NOT NULL,"
        " published_through INTEGER NOT NULL);"
        "INSERT OR IGNORE INTO relay_progress VALUES (1, 0, 0);");
    sqlite::Statement read(db_->handle(),
                           "SELECT sent_through, published_through FROM relay_progress");
    if (!read.step()) {
      throw StorageError("it has no progress row");
    }
    const std::int64_t sent = read.integer(0);
    const std::int64_t published = read.integer(1);
    read.done();
    if (sent < 0 || published < 0 || published > sent) {
      throw StorageError("it records rows published through " + std::to_string(published) +
                         " but sent only through " + std::to_string(sent));
    }
    sent_through_ = static_cast<std::uint64_t>(sent);
    published_through_ = static_cast<std::uint64_t>(published);
  } catch (const StorageError& e) {
    throw StorageError("the outbox relay's progress '" + path + "' cannot be read: " + e.what() +
                       start_again_advice(path));
  }
}

void RelayProgress::record(std::optional<std::uint64_t> sent_through,
                           std::optional<std::uint64_t> published_through) {
  const std::uint64_t sent = sent_through.value_or(sent_through_);
  const std::uint64_t published = published_through.value_or(published_through_);
  sqlite::Statement update(db_->handle(),
                           "UPDATE relay_progress SET sent_through = ?, published_through = ?");
  update.bind(sent, published);
  update.run();
  sent_through_ = sent;
  published_through_ = published;
}

}  // namespace eda::saga
