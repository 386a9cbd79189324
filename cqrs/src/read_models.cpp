// The projection host: the read models' database, the checkpoints, the batches and the
// rebuilds. What the read models hold, and how they are asked, is their projections' business
// (customer_orders_projection.cpp and the others): nothing here knows a table of theirs.
#include "eda/cqrs/read_models.hpp"

#include <algorithm>
#include <condition_variable>
#include <future>
#include <utility>
#include <thread>
#include <limits>
#include <set>
#include <stdexcept>

#include "eda/errors.hpp"

namespace eda::cqrs {

using sqlite::Database;
using sqlite::Statement;
using sqlite::Transaction;

namespace {

/// Checkpoints the write-ahead log in the background, so that the projector's commits never
/// wait for it.
///
/// Why: with `synchronous=NORMAL` a commit only appends to the WAL; the flush to disk happens
/// when the WAL is copied back into the database (a checkpoint), which SQLite by default does
/// inside every thousandth commit — on the projector's thread, where it shows up as the lag's
/// tail. Here the projector's connection never checkpoints, and this thread does, with a
/// connection of its own, every 100 ms (PASSIVE: it never blocks a writer or a reader).
class BackgroundCheckpointer {
 public:
  BackgroundCheckpointer(const std::string& path, sqlite::Durability durability)
      : database_(path, durability, "read-model database"), thread_([this] { run(); }) {}
  ~BackgroundCheckpointer() {
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }
  BackgroundCheckpointer(const BackgroundCheckpointer&) = delete;
  BackgroundCheckpointer& operator=(const BackgroundCheckpointer&) = delete;

 private:
  void run() {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stopping_; })) {
      // A failed checkpoint only leaves the WAL longer; the next one tries again.
      sqlite3_wal_checkpoint_v2(database_.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                nullptr);
    }
  }

  Database database_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace

struct ProjectionHost::Connection {
  explicit Connection(const ReadModelOptions& options)
      : database(options.path, options.durability, "read-model database") {
    // A projector touches rows all over its tables (every open order's); with SQLite's
    // default 2 MiB page cache a rebuild of a large store rereads pages it just wrote. The
    // cache grows only as far as it is used.
    database.exec("PRAGMA cache_size=-65536");  // 64 MiB
    database.exec(
        "CREATE TABLE IF NOT EXISTS checkpoints (projection TEXT PRIMARY KEY,"
        " position INTEGER NOT NULL);"
        // The furthest store position any batch has brought, whether every projection applied
        // it or not (a projection being rebuilt lets the live batches pass): a rebuild is done
        // once it has caught up with this. Read models from before it start at their highest
        // checkpoint.
        "CREATE TABLE IF NOT EXISTS head (id INTEGER PRIMARY KEY CHECK (id = 1),"
        " position INTEGER NOT NULL);"
        "INSERT OR IGNORE INTO head (id, position)"
        " SELECT 1, coalesce(max(position), 0) FROM checkpoints");
    get_checkpoint.emplace(database.handle(),
                           "SELECT position FROM checkpoints WHERE projection = ?");
    set_checkpoint.emplace(database.handle(),
                           "INSERT INTO checkpoints (projection, position) VALUES (?, ?)"
                           " ON CONFLICT (projection) DO UPDATE SET position = excluded.position");
    get_head.emplace(database.handle(), "SELECT position FROM head WHERE id = 1");
    raise_head.emplace(database.handle(),
                       "UPDATE head SET position = max(position, ?) WHERE id = 1");
    clear_head.emplace(database.handle(),
                       "UPDATE head SET position = 0 WHERE id = 1"
                       " AND NOT EXISTS (SELECT 1 FROM checkpoints WHERE position > 0)");
    begin_read.emplace(database.handle(), "BEGIN DEFERRED");
    end_read.emplace(database.handle(), "COMMIT");
  }

  /// Called before the first write: from then on the WAL is checkpointed in the background.
  void start_checkpointer(const ReadModelOptions& options) {
    if (checkpointer) return;
    database.exec("PRAGMA wal_autocheckpoint=0");
    checkpointer.emplace(options.path, options.durability);
  }

  Database database;  // first: destroyed last, after every statement
  // Read snapshots' statements are prepared once too: a query is a few microseconds, compiling
  // SQL is not free.
  std::optional<Statement> get_checkpoint, set_checkpoint, get_head, raise_head, clear_head,
      begin_read, end_read;
  std::optional<BackgroundCheckpointer> checkpointer;
};

ProjectionHost::ProjectionHost(ReadModelOptions options,
                               std::vector<std::unique_ptr<Projection>> projections)
    : options_(std::move(options)), projections_(std::move(projections)) {
  std::set<std::string_view> names;
  for (const auto& projection : projections_) {
    if (!names.insert(projection->name()).second) {
      throw std::invalid_argument("two projections are named '" + std::string(projection->name()) +
                                  "'");
    }
  }
  // Projections prepare statements on the connection: they are reset before it closes.
  db_ = std::make_unique<Connection>(options_);
  try {
    Transaction tx(db_->database);  // several processes may open the file at once
    for (const auto& projection : projections_) {
      projection->open(db_->database);
    }
    tx.commit();
  } catch (const std::exception& e) {
    projections_.clear();
    throw StorageError("read-model database " + options_.path + ": " + e.what());
  }
}

ProjectionHost::~ProjectionHost() {
  projections_.clear();  // their statements go before the connection
}

const Database& ProjectionHost::database() const noexcept { return db_->database; }

// Rows and the checkpoint read with them agree even while a projector commits.
ProjectionHost::ReadSnapshot::ReadSnapshot(const ProjectionHost& host) : host_(host) {
  host_.db_->begin_read->run();
}

ProjectionHost::ReadSnapshot::~ReadSnapshot() {
  try {
    host_.db_->end_read->run();
  } catch (...) {  // a read-only transaction has nothing to lose; never throw from here
  }
}

Projection& ProjectionHost::find(std::string_view projection) const {
  for (const auto& p : projections_) {
    if (p->name() == projection) return *p;
  }
  throw std::invalid_argument("no projection is named '" + std::string(projection) + "'");
}

std::uint64_t ProjectionHost::checkpoint_locked(std::string_view projection) const {
  return static_cast<std::uint64_t>(db_->get_checkpoint->bind(projection).single_integer());
}

std::uint64_t ProjectionHost::checkpoint(std::string_view projection) const {
  (void)find(projection);
  const std::lock_guard lock(mutex_);
  return checkpoint_locked(projection);
}

std::uint64_t ProjectionHost::head() const {
  const std::lock_guard lock(mutex_);
  return static_cast<std::uint64_t>(db_->get_head->single_integer());
}

std::uint64_t ProjectionHost::position() const {
  const std::lock_guard lock(mutex_);
  std::uint64_t lowest = std::numeric_limits<std::uint64_t>::max();
  for (const auto& p : projections_) lowest = std::min(lowest, checkpoint_locked(p->name()));
  return projections_.empty() ? 0 : lowest;
}

std::vector<std::string> ProjectionHost::projections() const {
  std::vector<std::string> names;
  for (const auto& p : projections_) names.emplace_back(p->name());
  return names;
}

BatchApplied ProjectionHost::apply(std::span<const sourcing::RecordedEvent> events,
                                   std::uint64_t read_from) {
  BatchApplied result{events.size(), 0, 0};
  if (events.empty()) {
    result.position = position();
    return result;
  }
  // Decode once, before the transaction: a corrupt event stops the batch with nothing
  // written, and names where it is.
  std::vector<ProjectedEvent> decoded;
  decoded.reserve(events.size());
  for (const sourcing::RecordedEvent& recorded : events) {
    if (std::optional<ProjectedEvent> event = projected_event_of(recorded)) {
      decoded.push_back(std::move(*event));
    }
  }
  const std::uint64_t last = events.back().position;
  const std::lock_guard lock(mutex_);
  if (!unusable_.empty()) throw StorageError(unusable_);
  db_->start_checkpointer(options_);
  Transaction tx(db_->database);
  // A batch that fails half-way is rolled back: the projections forget it too.
  struct Discard {
    std::vector<std::unique_ptr<Projection>>& projections;
    bool armed = true;
    ~Discard() {
      if (armed)
        for (const auto& p : projections) p->discard();
    }
  } discard_on_failure{projections_};
  std::uint64_t lowest = std::numeric_limits<std::uint64_t>::max();
  for (const auto& projection : projections_) {
    const std::uint64_t checkpoint = checkpoint_locked(projection->name());
    if (read_from > 0 && checkpoint + 1 < read_from) {
      lowest = std::min(lowest, checkpoint);  // behind this batch: its rebuild feeds it
      continue;
    }
    for (const ProjectedEvent& event : decoded) {
      if (event.position > checkpoint) {
        projection->apply(event);
        ++result.applied;
      }
    }
    projection->write();
    const std::uint64_t moved = std::max(checkpoint, last);
    db_->set_checkpoint->bind(projection->name(), moved).run();
    lowest = std::min(lowest, moved);
  }
  db_->raise_head->bind(last).run();
  tx.commit();
  discard_on_failure.armed = false;
  result.position = lowest;
  return result;
}

void ProjectionHost::reset(std::string_view projection) {
  Projection& p = find(projection);
  const std::lock_guard lock(mutex_);
  if (!unusable_.empty()) throw StorageError(unusable_);
  try {
    Transaction tx(db_->database);
    p.drop(db_->database);
    p.open(db_->database);
    db_->set_checkpoint->bind(projection, std::uint64_t{0}).run();
    db_->clear_head->run();  // nothing left anywhere: no batch has brought anything yet
    tx.commit();
  } catch (const std::exception& e) {
    // Rolled back: the tables and the checkpoint are as they were, but drop() let go of the
    // projection's prepared statements. Open it again on the restored tables, so that it
    // keeps working, then report the failure.
    try {
      p.open(db_->database);
    } catch (const std::exception& again) {
      unusable_ = "read-model database " + options_.path + ": projection '" +
                  std::string(projection) + "' could not be reopened after a failed reset (" +
                  again.what() + "); open the read models again";
    }
    throw StorageError("resetting projection '" + std::string(projection) +
                       "' failed, nothing changed: " + e.what());
  }
}

std::string ProjectionHost::dump() const {
  const std::lock_guard lock(mutex_);
  const ReadSnapshot snapshot(*this);
  std::vector<std::string> tables;
  {
    Statement list(db_->database.handle(),
                   "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT IN "
                   "('checkpoints', 'head')"
                   " ORDER BY name");
    while (list.step()) tables.emplace_back(list.text(0));
  }
  std::string out;
  for (const std::string& table : tables) {
    out += "[" + table + "]\n";
    // Table names come from the database's own schema, not from input.
    Statement rows(db_->database.handle(), ("SELECT * FROM \"" + table + "\"").c_str());
    std::vector<std::string> lines;
    while (rows.step()) {
      std::string line;
      const int columns = rows.columns();
      for (int c = 0; c < columns; ++c) {
        if (c > 0) line += '|';
        line += rows.is_null(c) ? std::string("NULL") : std::string(rows.text(c));
      }
      lines.push_back(std::move(line));
    }
    std::sort(lines.begin(), lines.end());
    for (const std::string& line : lines) out += line + "\n";
  }
  return out;
}

namespace {

/// Resets `rebuilt` and feeds them from the first event of the store (see rebuild()).
std::uint64_t rebuild_projections(ProjectionHost& read_models, const sourcing::EventStore& store,
                                  const std::vector<std::string>& rebuilt,
                                  const RebuildProgress& progress, std::size_t batch) {
  if (batch == 0) {
    throw std::invalid_argument("a rebuild reads at least one event per batch");
  }
  for (const std::string& name : rebuilt) read_models.reset(name);
  // The rebuilt projections' lowest checkpoint. A live projector may bring batches meanwhile
  // (in this process or another) and, because the rebuilt ones are behind them, pass them by
  // (see apply()): the rebuild ends only once they have caught up with the furthest position
  // any batch has brought (head()), and the store had nothing more.
  const auto ours = [&] {
    std::uint64_t lowest = std::numeric_limits<std::uint64_t>::max();
    for (const std::string& name : rebuilt) lowest = std::min(lowest, read_models.checkpoint(name));
    return lowest;
  };
  // The next page is read (and its envelopes decoded) on another thread while this one is
  // applied: reading and applying take about as long as each other, and there are two cores.
  const auto read_ahead = [&store, batch](std::uint64_t from) {
    return std::async(std::launch::async,
                      [&store, batch, from] { return store.read_all(from, batch); });
  };
  std::uint64_t next = 1;
  std::uint64_t read = 0;
  std::future<std::vector<sourcing::RecordedEvent>> ahead = read_ahead(next);
  // An applied page is freed on another thread too: a page of decoded envelopes is tens of
  // thousands of allocations, and freeing them took a tenth of the applying thread's time.
  std::future<void> freed;
  for (;;) {
    std::vector<sourcing::RecordedEvent> events = ahead.get();
    const std::uint64_t from = next;
    if (!events.empty()) next = events.back().position + 1;
    const bool full = events.size() == batch;
    if (full) ahead = read_ahead(next);
    if (!events.empty()) {
      read_models.apply(events, from);
      read += events.size();
      if (progress) {
        progress(events.back().position, std::max(store.last_position(), events.back().position));
      }
      // (Replacing the future waits for the previous page's freeing, which keeps one at a time.)
      freed = std::async(std::launch::async, [page = std::move(events)]() mutable { page = {}; });
    }
    if (!full) {
      const std::uint64_t reached = ours();  // first: the head read after it is at least as far
      const std::uint64_t head = read_models.head();
      if (reached >= head) break;
      if (head > store.last_position()) {  // no reading will ever catch up with it
        throw StorageError(
            "the read models are ahead of the store (they have seen position " +
            std::to_string(head) + ", the store ends at " + std::to_string(store.last_position()) +
            "): were they built from another store? Rebuild all of them (rebuild_all)");
      }
      ahead = read_ahead(next);  // the live projector moved on meanwhile: read on
    }
  }
  return read;
}

}  // namespace

std::uint64_t rebuild(ProjectionHost& read_models, const sourcing::EventStore& store,
                      std::string_view projection, const RebuildProgress& progress,
                      std::size_t batch) {
  (void)read_models.checkpoint(
      projection);  // an unknown name is refused before anything is dropped
  return rebuild_projections(read_models, store, {std::string(projection)}, progress, batch);
}

std::uint64_t rebuild_all(ProjectionHost& read_models, const sourcing::EventStore& store,
                          const RebuildProgress& progress, std::size_t batch) {
  return rebuild_projections(read_models, store, read_models.projections(), progress, batch);
}

}  // namespace eda::cqrs
