// The idempotent consumer: an event's id and its effect commit in one transaction.
#include "eda/saga/idempotent_consumer.hpp"

#include <stdexcept>
#include <utility>

#include "eda/envelope.hpp"

namespace eda::saga {

IdempotentConsumer::IdempotentConsumer(const std::string& path, std::string name,
                                       sqlite::Durability durability)
    : name_(std::move(name)), db_(path, durability, "consumer database") {
  if (name_.empty()) {
    throw std::invalid_argument("an idempotent consumer needs a name");
  }
  db_.exec(
      "CREATE TABLE IF NOT EXISTS processed_events ("
      " consumer TEXT NOT NULL, event_id TEXT NOT NULL, processed_ns INTEGER NOT NULL,"
      " PRIMARY KEY (consumer, event_id)) WITHOUT ROWID;");
}

Handled IdempotentConsumer::handle(const DecodedEvent& event,
                                   const std::function<void(sqlite::Database&)>& effect) {
  sqlite::Transaction tx(db_);
  sqlite::Statement remember(db_.handle(),
                             "INSERT OR IGNORE INTO processed_events (consumer, event_id, "
                             "processed_ns) VALUES (?, ?, ?)");
  remember.bind(std::string_view(name_), event.event_id(), wall_clock_ns());
  remember.run();
  if (db_.changes() == 0) {
    ++counters_.duplicates;
    return Handled::duplicate;  // the transaction rolls back: nothing was written
  }
  effect(db_);
  tx.commit();
  ++counters_.applied;
  return Handled::applied;
}

bool IdempotentConsumer::processed(std::string_view event_id) const {
  sqlite::Statement query(
      db_.handle(), "SELECT COUNT(*) FROM processed_events WHERE consumer = ? AND event_id = ?");
  query.bind(std::string_view(name_), event_id);
  return query.single_integer() != 0;
}

std::uint64_t IdempotentConsumer::processed_count() const {
  sqlite::Statement query(db_.handle(), "SELECT COUNT(*) FROM processed_events WHERE consumer = ?");
  query.bind(std::string_view(name_));
  return static_cast<std::uint64_t>(query.single_integer());
}

}  // namespace eda::saga
