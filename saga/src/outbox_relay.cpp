// The outbox relay: reads unpublished rows in position order, sends them over the kit's
// Publisher, records them published (in its own progress file) once they have settled.
#include "eda/saga/outbox_relay.hpp"

#include <algorithm>
#include <array>
#include <filesystem>
#include <stdexcept>
#include <utility>
#include <vector>

#include "eda/clock.hpp"
#include "eda/codec.hpp"
#include "eda/saga/outbox.hpp"

namespace eda::saga {
namespace {

/// One row read for sending: its position, when it was written, and its decoded envelope.
struct ReadyRow {
  std::uint64_t position = 0;
  std::int64_t created_ns = 0;
  DecodedEvent event;
};

/// Decodes a row and checks that the envelope agrees with the row; throws OutboxRowError.
DecodedEvent decode_row(std::uint64_t position, const std::string& event_id,
                        std::string_view event_type, std::string_view envelope) {
  std::optional<DecodedEvent> event;
  try {
    event.emplace(DecodedEvent::decode(envelope));
  } catch (const MalformedMessage& e) {
    throw OutboxRowError(position, event_id,
                         std::string("its envelope does not decode: ") + e.what());
  }
  if (event->event_id() != event_id) {
    throw OutboxRowError(position, event_id,
                         "its envelope carries event id '" + std::string(event->event_id()) + "'");
  }
  if (event->type() != event_type) {
    throw OutboxRowError(position, event_id,
                         "its envelope is a '" + std::string(event->type()) +
                             "' event but the row says '" + std::string(event_type) + "'");
  }
  if (event->sequence() != position) {
    throw OutboxRowError(position, event_id,
                         "its envelope carries sequence " + std::to_string(event->sequence()) +
                             " instead of its position");
  }
  return *event;
}

}  // namespace

OutboxRowError::OutboxRowError(std::uint64_t position, const std::string& event_id,
                               const std::string& reason)
    : Error(ErrorCategory::wire,
            "outbox row " + std::to_string(position) + " (event '" + printable(event_id) +
                "') cannot be published: " + reason +
                ". The relay stops here so that no later event overtakes it; repair or remove the "
                "row, and the relay goes on"),
      position_(position) {}

OutboxRelay::OutboxRelay(zmq::context_t& context, const std::string& path, Publisher& publisher,
                         RelayOptions options)
    : options_(std::move(options)),
      context_(context),
      publisher_(publisher),
      doorbell_(context, zmq::socket_type::pull),
      doorbell_endpoint_("inproc://eda-outbox-relay-" + new_event_id()) {
  if (options_.batch_size == 0) {
    throw std::invalid_argument("an outbox relay's batch size must be at least 1");
  }
  if (!std::filesystem::is_regular_file(path)) {
    throw StorageError("the outbox relay cannot read '" + path +
                       "': no such database file (give it the participant's database)");
  }
  try {
    // It only reads this database (never commits, so never checkpoints it either).
    db_.emplace(path, sqlite::Durability::normal, "outbox relay's database");
    open_database();
  } catch (const StorageError& e) {
    throw StorageError("the outbox relay cannot read '" + path + "': " + e.what());
  }
  progress_.emplace(options_.progress.empty() ? relay_progress_path(path) : options_.progress);
  check_progress();
  doorbell_.set(zmq::sockopt::rcvhwm, 1);
  doorbell_.set(zmq::sockopt::linger, 0);
  doorbell_.bind(doorbell_endpoint_);
}

void OutboxRelay::open_database() {
  sqlite::Statement has_outbox(db_->handle(),
                               "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND "
                               "name = 'outbox'");
  if (has_outbox.single_integer() == 0) {
    throw StorageError(
        "it has no outbox table (is it the participant's database? the participant creates "
        "the table when it opens it)");
  }
}

void OutboxRelay::check_progress() {
  sqlite::Statement last(db_->handle(), "SELECT MAX(position) FROM outbox");
  const auto last_position = static_cast<std::uint64_t>(last.single_integer());
  if (progress_->published_through() > last_position) {
    // Rows are never deleted from an outbox: this record is of some other outbox (or of this
    // database before it was replaced), and following it would skip rows never sent.
    throw StorageError("the outbox relay's progress '" + progress_->path() +
                       "' records rows published through position " +
                       std::to_string(progress_->published_through()) + " but '" + db_->path() +
                       "' holds rows only through " + std::to_string(last_position) +
                       ": it is the progress of another outbox. Delete it to make the relay "
                       "start again from the outbox's first row");
  }
  next_position_ = progress_->published_through() + 1;
  restart_sent_through_ = progress_->sent_through();
  const std::scoped_lock lock(mutex_);
  counters_.next_position = next_position_;
  counters_.published_through = progress_->published_through();
}

std::size_t OutboxRelay::relay_batch() {
  const std::int64_t now = monotonic_ns();
  const std::int64_t settle_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(options_.settle).count();
  std::optional<std::uint64_t> settled;  // the last row of the batches that have settled
  while (!unsettled_.empty() && now - unsettled_.front().sent_monotonic_ns >= settle_ns) {
    settled = unsettled_.front().last;
    unsettled_.pop_front();
  }

  // Read the next batch; a bad row ends it (and is reported after the rows before it are sent).
  std::vector<ReadyRow> ready;
  std::optional<OutboxRowError> bad;
  {
    sqlite::Statement query(db_->handle(),
                            "SELECT position, event_id, event_type, envelope, created_ns "
                            "FROM outbox WHERE position >= ? ORDER BY position LIMIT ?");
    query.bind(next_position_, static_cast<std::uint64_t>(options_.batch_size));
    while (query.step()) {
      const auto position = static_cast<std::uint64_t>(query.integer(0));
      const std::string event_id(query.text(1));
      if (position != next_position_ + ready.size()) {
        bad.emplace(position, event_id,
                    "position " + std::to_string(next_position_ + ready.size()) +
                        " is missing before it (rows are never deleted from an outbox)");
        break;
      }
      try {
        ready.push_back(ReadyRow{position, query.integer(4),
                                 decode_row(position, event_id, query.text(2), query.blob(3))});
      } catch (OutboxRowError& e) {
        bad.emplace(std::move(e));
        break;
      }
    }
    query.done();
  }

  // One commit to the progress file records what settled and claims what is about to be sent.
  const std::uint64_t last = ready.empty() ? 0 : ready.back().position;
  const std::uint64_t published_before = progress_->published_through();
  std::optional<std::uint64_t> claim;
  if (last > progress_->sent_through()) claim = last;
  if (claim || settled) progress_->record(claim, settled);
  const std::uint64_t marked = progress_->published_through() - published_before;

  const std::int64_t sent_wall = wall_clock_ns();
  std::uint64_t repeated = 0;
  for (const ReadyRow& row : ready) {
    publisher_.republish(row.event);
    if (row.position <= restart_sent_through_) {
      ++repeated;
    }
  }
  if (!ready.empty()) {
    unsettled_.push_back(SentBatch{last, monotonic_ns()});
    next_position_ = last + 1;
    if (options_.sent) {
      options_.sent(last);
    }
  }
  {
    const std::scoped_lock lock(mutex_);
    counters_.marked += marked;
    counters_.next_position = next_position_;
    counters_.published_through = progress_->published_through();
    if (!ready.empty()) {
      counters_.published += ready.size();
      counters_.republished += repeated;
      ++counters_.batches;
      for (const ReadyRow& row : ready) {
        counters_.last_lag_ns = sent_wall - row.created_ns;
        counters_.max_lag_ns = std::max(counters_.max_lag_ns, counters_.last_lag_ns);
      }
    }
    if (bad) {
      ++counters_.errors;
      stalled_ = bad->what();
    } else {
      stalled_.reset();
    }
  }
  if (bad) {
    throw *bad;
  }
  return ready.size();
}

std::int64_t OutboxRelay::next_settle_ns() const {
  if (unsettled_.empty()) {
    return -1;
  }
  const std::int64_t settle_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(options_.settle).count();
  return std::max<std::int64_t>(0,
                                unsettled_.front().sent_monotonic_ns + settle_ns - monotonic_ns());
}

bool OutboxRelay::drain(std::chrono::milliseconds timeout) {
  const Deadline deadline(timeout);
  while (!deadline.expired()) {
    const std::size_t sent = relay_batch();
    if (sent > 0) {
      continue;
    }
    const std::int64_t settle_left = next_settle_ns();
    if (settle_left < 0) {
      sqlite::Statement last(db_->handle(), "SELECT MAX(position) FROM outbox");
      if (static_cast<std::uint64_t>(last.single_integer()) < next_position_) {
        return true;  // everything sent, and every batch marked
      }
      continue;  // a row committed meanwhile
    }
    const auto wait = std::chrono::milliseconds(settle_left / 1'000'000 + 1);
    (void)publisher_.serve(std::min(wait, deadline.remaining()));
  }
  return false;
}

void OutboxRelay::wait(std::chrono::milliseconds timeout, bool& rang) {
  std::array<zmq::pollitem_t, 2> items{{
      {doorbell_.handle(), 0, ZMQ_POLLIN, 0},
      {publisher_.socket().handle(), 0, ZMQ_POLLIN, 0},
  }};
  rang = false;
  (void)zmq::poll(items.data(), items.size(), timeout);
  if ((items[0].revents & ZMQ_POLLIN) != 0) {
    zmq::message_t ring;
    while (doorbell_.recv(ring, zmq::recv_flags::dontwait)) {
      rang = true;
    }
  }

  if ((items[1].revents & ZMQ_POLLIN) != 0) {
    (void)publisher_.serve(std::chrono::milliseconds(0));
  }
}

void OutboxRelay::run(const std::stop_token& stop) {
  // The stopping thread rings with a socket of its own (a socket serves one thread).
  const std::stop_callback wake(stop, [this] {
    try {
      zmq::socket_t bell(context_, zmq::socket_type::push);
      bell.connect(doorbell_endpoint_);
      (void)bell.send(zmq::message_t(), zmq::send_flags::dontwait);
    } catch (const zmq::error_t&) {
      // The context is closing: the next poll ends the loop.
    }
  });
  bool rang = false;
  while (!stop.stop_requested()) {
    std::size_t sent = 0;
    try {
      sent = relay_batch();
    } catch (const OutboxRowError&) {
      // stalled() says why; the row is tried again at the next poll.
    } catch (const StorageError& e) {
      // A busy or failing database: say so, and try again at the next poll.
      const std::scoped_lock lock(mutex_);
      ++counters_.errors;
      stalled_ = e.what();
    }
    if (!rang) {
      const std::scoped_lock lock(mutex_);
      counters_.found_by_poll += sent;
    }
    if (sent == options_.batch_size) {
      continue;  // more is waiting: go on at once (found thanks to the same wake-up)
    }
    std::chrono::milliseconds timeout = options_.fallback_poll;
    const std::int64_t settle_left = next_settle_ns();
    if (settle_left >= 0) {
      timeout = std::min(timeout, std::chrono::milliseconds(settle_left / 1'000'000 + 1));
    }
    wait(timeout, rang);
    if (rang && !stop.stop_requested()) {  // counted before it sends (the stop's ring is not)
      const std::scoped_lock lock(mutex_);
      ++counters_.doorbells;
    }
  }
}

RelayCounters OutboxRelay::counters() const {
  const std::scoped_lock lock(mutex_);
  return counters_;
}

std::optional<std::string> OutboxRelay::stalled() const {
  const std::scoped_lock lock(mutex_);
  return stalled_;
}

OutboxDoorbell::OutboxDoorbell(zmq::context_t& context, const std::string& endpoint)
    : socket_(context, zmq::socket_type::push) {
  socket_.set(zmq::sockopt::sndhwm, 1);
  socket_.set(zmq::sockopt::linger, 0);
  socket_.connect(endpoint);
}

void OutboxDoorbell::ring() noexcept {
  try {
    (void)socket_.send(zmq::message_t(), zmq::send_flags::dontwait);
  } catch (const zmq::error_t&) {
    // Cannot ring (the context is closing): the relay's fallback poll finds the row.
  }
}

}  // namespace eda::saga
