// The outbox table: created with the participant's other tables, written inside its
// transactions, read by the relay in position order.
#include "eda/saga/outbox.hpp"

#include <sqlite3.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

namespace eda::saga {

void create_outbox_table(const sqlite::Database& db) {
  db.exec(
      "CREATE TABLE IF NOT EXISTS outbox ("
      " position INTEGER PRIMARY KEY,"
      " event_id TEXT NOT NULL UNIQUE,"
      " event_type TEXT NOT NULL,"
      " envelope BLOB NOT NULL,"
      " created_ns INTEGER NOT NULL);");
  // The relay keeps its progress in a file of its own (relay_progress.hpp): it only reads here.
}

namespace {

int look_again_soon(void* /*unused*/, int attempts) {
  constexpr int attempts_in_busy_timeout = 100'000;  // 10 s of 100 us steps
  if (attempts >= attempts_in_busy_timeout) return 0;  // SQLITE_BUSY: the statement says so
  std::this_thread::sleep_for(std::chrono::microseconds(100));
  return 1;
}

}  // namespace

void wait_briefly_for_write_lock(const sqlite::Database& db) {
  sqlite3_busy_handler(db.handle(), look_again_soon, nullptr);
}

Outbox::Outbox(sqlite::Database& db) : db_(db) {
  wait_briefly_for_write_lock(db_);
  create_outbox_table(db_);
}

std::uint64_t Outbox::begin_add(sqlite::Transaction& /*open*/, const EventMetadata& meta) {
  // The Transaction parameter documents the contract; SQLite says whether it holds.
  if (sqlite3_get_autocommit(db_.handle()) != 0) {
    throw std::logic_error(
        "Outbox::add outside a transaction: the event would commit apart from the state change "
        "it announces; begin an eda::sqlite::Transaction and add the event inside it");
  }
  if (meta.event_id.empty() || !is_valid_event_type(meta.type)) {
    throw std::invalid_argument("Outbox::add needs an event id and a valid event type (got '" +
                                meta.type + "')");
  }
  // Inside the write transaction nobody else can add a row, so MAX + 1 is ours; rows are
  // never deleted, so a position is never reused.
  sqlite::Statement last(db_.handle(), "SELECT MAX(position) FROM outbox");
  return static_cast<std::uint64_t>(last.single_integer()) + 1;
}

void Outbox::insert(std::uint64_t position, const EventMetadata& meta, std::string_view envelope) {
  sqlite::Statement insert(db_.handle(),
                           "INSERT INTO outbox (position, event_id, event_type, envelope, "
                           "created_ns) VALUES (?, ?, ?, ?, ?)");
  insert.bind(position, std::string_view(meta.event_id), std::string_view(meta.type),
              sqlite::Statement::as_blob(envelope), wall_clock_ns());
  insert.run();
}

std::uint64_t Outbox::repeat(sqlite::Transaction& open, std::uint64_t position) {
  const std::vector<OutboxRow> rows = read(position, 1);
  if (rows.empty() || rows.front().position != position) {
    throw std::invalid_argument("Outbox::repeat: there is no outbox row at position " +
                                std::to_string(position));
  }
  const DecodedEvent first = DecodedEvent::decode(rows.front().envelope);
  EventMetadata meta = first.meta();
  meta.timestamp_ns = wall_clock_ns();
  meta.event_id = new_event_id(meta.timestamp_ns);
  const std::uint64_t repeated = begin_add(open, meta);
  meta.sequence = repeated;
  msgpack::sbuffer buffer;
  encode_event(meta, first.payload(), buffer);
  insert(repeated, meta, std::string_view(buffer.data(), buffer.size()));
  return repeated;
}

std::vector<OutboxRow> Outbox::read(std::uint64_t first_position, std::size_t limit) const {
  sqlite::Statement query(db_.handle(),
                          "SELECT position, event_id, event_type, envelope, created_ns "
                          "FROM outbox WHERE position >= ? ORDER BY position LIMIT ?");
  query.bind(first_position, static_cast<std::uint64_t>(limit));
  std::vector<OutboxRow> rows;
  while (query.step()) {
    OutboxRow row;
    row.position = static_cast<std::uint64_t>(query.integer(0));
    row.event_id = std::string(query.text(1));
    row.event_type = std::string(query.text(2));
    row.envelope = std::string(query.blob(3));
    row.created_ns = query.integer(4);
    rows.push_back(std::move(row));
  }
  query.done();
  return rows;
}

std::uint64_t Outbox::last_position() const {
  sqlite::Statement query(db_.handle(), "SELECT MAX(position) FROM outbox");
  return static_cast<std::uint64_t>(query.single_integer());
}

}  // namespace eda::saga
