#include "eda/state_transfer/replica.hpp"

#include <algorithm>
#include <cerrno>
#include <stdexcept>

#include "eda/clock.hpp"
#include "eda/endpoint.hpp"
#include "eda/latency.hpp"
#include "eda/state_transfer/snapshot_protocol.hpp"
#include "eda/wire.hpp"

namespace eda::state_transfer {
namespace {

/// Frames of a snapshot reply as the DEALER sees it: command, body.
constexpr std::size_t reply_frame_count = 2;

SubscriberOptions inbox_options(const ReplicaOptions& options) {
  if (options.updates_endpoint.empty() || options.snapshot_endpoint.empty()) {
    throw std::invalid_argument("replica '" + options.name +
                                "' needs the source's updates endpoint and snapshot endpoint");
  }
  validate_endpoint(options.snapshot_endpoint);
  if (options.silence_timeout <= std::chrono::milliseconds(0) ||
      options.snapshot_timeout <= std::chrono::milliseconds(0)) {
    throw std::invalid_argument("replica timeouts must be positive");
  }
  return SubscriberOptions{
      .endpoints = {options.updates_endpoint},
      .topics = {std::string(customer_topic_prefix)},
      .receive_high_water_mark = options.receive_high_water_mark,
      .max_message_bytes = options.max_message_bytes,
      .heartbeat = options.heartbeat,
      .name = options.name,
      // The replica judges every sequence number itself (see handle()): it must see a
      // restarted source's numbers too, and it repairs gaps instead of counting them.
      .detect_gaps = false,
      .drop_duplicates = false,
      .dead_letters = options.dead_letters,
      .security = options.security,
  };
}

std::string short_id(Incarnation incarnation) { return to_hex(incarnation).substr(0, 8); }

/// Adds the records of one `snapshot.chunk` body (a SnapshotChunk) to `records`, checking
/// every record field by field (see customer_from()).
void add_chunk(std::string_view body, CustomerTable& records) {
  msgpack::zone zone;
  const msgpack::object chunk = unpack_untrusted(zone, body, "snapshot chunk", true);
  if (chunk.type != msgpack::type::ARRAY || chunk.via.array.size != 1 ||
      chunk.via.array.ptr[0].type != msgpack::type::ARRAY) {
    throw MalformedMessage(WireFault::payload_mismatch,
                           "snapshot chunk is not [records]: see SnapshotChunk");
  }
  const msgpack::object_array& list = chunk.via.array.ptr[0].via.array;
  for (std::uint32_t i = 0; i < list.size; ++i) {
    Customer customer = customer_from(list.ptr[i], "record in a snapshot chunk");
    const CustomerId id = customer.id;
    records.insert_or_assign(id, std::move(customer));
  }
}

}  // namespace

std::string_view to_string(ReplicaState state) noexcept {
  switch (state) {
    case ReplicaState::waiting_for_source:
      return "waiting for source";
    case ReplicaState::live:
      return "live";
    case ReplicaState::source_silent:
      return "source silent";
  }
  return "unknown";
}

std::string_view to_string(SnapshotFailure::Reason reason) noexcept {
  switch (reason) {
    case SnapshotFailure::Reason::not_connected:
      return "not connected";
    case SnapshotFailure::Reason::no_answer:
      return "no answer";
    case SnapshotFailure::Reason::refused:
      return "refused";
    case SnapshotFailure::Reason::malformed:
      return "malformed";
    case SnapshotFailure::Reason::incomplete:
      return "incomplete";
  }
  return "unknown";
}

std::string_view to_string(SyncReason reason) noexcept {
  switch (reason) {
    case SyncReason::first_sync:
      return "first synchronisation";
    case SyncReason::gap:
      return "updates were lost";
    case SyncReason::source_back:
      return "the source is back";
    case SyncReason::source_restarted:
      return "the source restarted";
    case SyncReason::unreadable_update:
      return "an update could not be applied";
  }
  return "unknown";
}

Replica::Replica(zmq::context_t& context, ReplicaOptions options)
    : options_(std::move(options)), context_(context), inbox_(context, inbox_options(options_)) {
  open_snapshot_socket();
}

Replica::~Replica() = default;

void Replica::open_snapshot_socket() {
  // A fresh socket per failed attempt (the Guide's Lazy Pirate): replies to an abandoned
  // request can never be mistaken for the next snapshot.
  snapshot_socket_ = zmq::socket_t(context_, zmq::socket_type::dealer);
  snapshot_socket_.set(zmq::sockopt::linger, 0);
  snapshot_socket_.set(zmq::sockopt::maxmsgsize, options_.max_message_bytes);
  snapshot_socket_.set(zmq::sockopt::rcvtimeo, static_cast<int>(options_.snapshot_timeout.count()));
  const std::string owner = "replica '" + options_.name + "' (snapshots)";
  apply_heartbeat(snapshot_socket_, options_.heartbeat, owner);
  (void)secure_client_socket(snapshot_socket_, options_.security, owner);
  connect_endpoint(snapshot_socket_, options_.snapshot_endpoint);
}

void Replica::pump(std::chrono::milliseconds wait) {
  try {
    pump_once(wait);
  } catch (const zmq::error_t& e) {
    if (e.num() != EINTR) {  // a signal (Ctrl-C) interrupted the wait: the caller decides
      throw;
    }
  }
  // The subscriber dead-letters what does not even decode; the replica what it cannot apply
  // (through the same subscriber). Readers see one count.
  if (const std::uint64_t malformed = inbox_.stats().malformed; malformed != dead_letters_seen_) {
    dead_letters_seen_ = malformed;
    std::unique_lock lock(mutex_);
    stats_.dead_letters = malformed;
  }
}

void Replica::pump_once(std::chrono::milliseconds wait) {
  if (state_ == ReplicaState::waiting_for_source) {
    const std::int64_t backoff_left = next_attempt_ns_ - monotonic_ns();
    if (backoff_left > 0) {
      // The last attempt failed: wait before the next, reading (and dropping: the next
      // snapshot holds them) whatever updates come meanwhile.
      (void)inbox_.receive(std::min(wait, std::chrono::ceil<std::chrono::milliseconds>(
                                              std::chrono::nanoseconds(backoff_left))));
      return;
    }
    // Subscribed first; the handshake proves the subscription is in place, so no update
    // published after the snapshot can be missed.
    if (inbox_.await_handshake(wait)) {
      synchronise(SyncReason::first_sync);
    }
    return;
  }
  if (auto delivery = inbox_.receive(wait)) {
    handle(delivery->event);
  }
  notice_silence();
  notice_lost_connection();
}

void Replica::run(const std::stop_token& stop, std::chrono::milliseconds tick) {
  while (!stop.stop_requested()) {
    pump(tick);
  }
}

/// One message from the source, its payload decoded.
struct Replica::Change {
  enum class Kind { updated, removed, heartbeat };
  Kind kind = Kind::heartbeat;
  Incarnation incarnation = 0;
  Customer customer{};     // for `updated`
  CustomerId removed = 0;  // for `removed`
};

Replica::Change Replica::read_change(const DecodedEvent& event) {
  Change change;
  if (event.is<CustomerUpdated>()) {
    // The tree first: payload_as() then converts from it instead of parsing the bytes again.
    const msgpack::object& payload = event.payload();
    const auto update = event.payload_as<CustomerUpdated>();  // checks type, version, shape
    change.kind = Change::Kind::updated;
    change.incarnation = update.incarnation;
    // ... and the record inside, field by field: a record with fields missing would
    // otherwise arrive with them empty and blank the replica's copy.
    change.customer = customer_from(payload.via.array.ptr[1], "customer record");
  } else if (event.is<CustomerRemoved>()) {
    const auto removal = event.payload_as<CustomerRemoved>();
    change.kind = Change::Kind::removed;
    change.incarnation = removal.incarnation;
    change.removed = removal.customer_id;
  } else if (event.is<SourceHeartbeat>()) {
    change.incarnation = event.payload_as<SourceHeartbeat>().incarnation;
  } else {
    throw MalformedMessage(WireFault::unprocessable,
                           "unknown customer event type '" + event.meta().type + "'");
  }
  return change;
}

void Replica::handle(const DecodedEvent& event) {
  const EventMetadata& meta = event.meta();
  if (!source_.empty() && meta.source != source_) {
    dead_letter(event, WireFault::unprocessable,
                "update from '" + meta.source + "', but this replica follows '" + source_ + "'");
    return;
  }
  last_heard_ns_ = monotonic_ns();
  Change change;
  try {
    change = read_change(event);
  } catch (const MalformedMessage& e) {
    // An update this replica cannot apply (a bad payload, or a kind of change from a newer
    // source): recorded, and then a snapshot, which holds the records as they are after it.
    dead_letter(event, e.fault(), e.what());
    say("update #" + std::to_string(meta.sequence) + " could not be applied (" + e.what() +
        "); re-synchronising");
    synchronise(SyncReason::unreadable_update);
    return;
  }
  if (change.incarnation != incarnation_) {
    // A restarted source counts from 1 again: none of its numbers compare with ours.
    say("a new run of the source (" + short_id(change.incarnation) + ", was " +
        short_id(incarnation_) + ") is publishing");
    synchronise(SyncReason::source_restarted);
    return;
  }
  if (state_ == ReplicaState::source_silent) {
    // Whatever happened meanwhile, only a snapshot tells: the message that woke us is
    // already in it, because the source sent it before answering the request.
    synchronise(SyncReason::source_back);
    return;
  }
  const std::uint64_t expected = sequence_ + 1;
  if (meta.sequence < expected) {
    // Queued while the snapshot was fetched, and already reflected in it.
    std::unique_lock lock(mutex_);
    ++stats_.stale_skipped;
    return;
  }
  if (meta.sequence > expected) {
    {
      std::unique_lock lock(mutex_);
      stats_.missed += meta.sequence - expected;
    }
    say("gap: expected update #" + std::to_string(expected) + ", got #" +
        std::to_string(meta.sequence) + " (" + std::to_string(meta.sequence - expected) + " lost)");
    synchronise(SyncReason::gap);
    return;
  }
  apply_in_order(meta, std::move(change));
}

void Replica::apply_in_order(const EventMetadata& meta, Change change) {
  {
    std::unique_lock lock(mutex_);
    switch (change.kind) {
      case Change::Kind::updated: {
        const CustomerId id = change.customer.id;
        records_.insert_or_assign(id, std::move(change.customer));
        ++stats_.updates;
        break;
      }
      case Change::Kind::removed:
        records_.erase(change.removed);
        ++stats_.removals;
        break;
      case Change::Kind::heartbeat:
        ++stats_.heartbeats;
        break;
    }
    sequence_ = meta.sequence;
    current_as_of_ns_ = last_heard_ns_;
  }
  publish_progress();
  if (options_.applied) {
    options_.applied(meta);
  }
}

void Replica::synchronise(SyncReason reason) {
  if (monotonic_ns() < next_attempt_ns_) {
    return;  // the last attempt failed moments ago: no snapshot storm against a sick source
  }
  {
    std::unique_lock lock(mutex_);
    switch (reason) {
      case SyncReason::first_sync:
        break;
      case SyncReason::gap:
        ++stats_.resyncs_after_gap;
        break;
      case SyncReason::source_back:
        ++stats_.resyncs_after_silence;
        break;
      case SyncReason::source_restarted:
        ++stats_.resyncs_after_restart;
        break;
      case SyncReason::unreadable_update:
        ++stats_.resyncs_after_bad_update;
        break;
    }
  }
  const std::int64_t started = monotonic_ns();
  std::variant<FetchedSnapshot, SnapshotFailure> fetched = fetch_snapshot();
  if (auto* failure = std::get_if<SnapshotFailure>(&fetched)) {
    open_snapshot_socket();
    // Back off: 100 ms, doubling up to 5 s, until an attempt succeeds.
    retry_delay_ns_ = std::clamp<std::int64_t>(2 * retry_delay_ns_, 100'000'000, 5'000'000'000);
    next_attempt_ns_ = monotonic_ns() + retry_delay_ns_;
    {
      std::unique_lock lock(mutex_);
      ++stats_.failed_snapshots;
      last_snapshot_failure_ = *failure;
      // Wait for a sign of life before the next attempt, rather than hammer a dead source.
      if (state_ == ReplicaState::live) {
        state_ = ReplicaState::source_silent;
        ++stats_.silences;
      }
    }
    publish_progress();
    say("snapshot failed (" + failure->detail +
        "); answering from what I have until the source speaks");
    return;
  }
  FetchedSnapshot& snapshot = std::get<FetchedSnapshot>(fetched);
  CustomerTable& fresh = snapshot.records;
  const std::uint64_t sequence = snapshot.sequence;
  const std::size_t count = fresh.size();
  {
    std::unique_lock lock(mutex_);
    records_.swap(fresh);  // readers see the old records or the new ones, never a mix
    sequence_ = sequence;
    incarnation_ = snapshot.incarnation;
    last_snapshot_failure_.reset();
    state_ = ReplicaState::live;
    current_as_of_ns_ = monotonic_ns();
    ++stats_.snapshots;
    stats_.snapshot_records += count;
  }
  source_ = snapshot.source;
  last_heard_ns_ = monotonic_ns();
  retry_delay_ns_ = 0;
  next_attempt_ns_ = 0;
  publish_progress();
  say("synchronised (" + std::string(to_string(reason)) + "): " + std::to_string(count) +
      " records as of #" + std::to_string(sequence) + " in " +
      format_duration(monotonic_ns() - started));
  // `fresh` now holds the old records and is destroyed here, outside the lock.
}

std::variant<Replica::FetchedSnapshot, SnapshotFailure> Replica::fetch_snapshot() {
  using Reason = SnapshotFailure::Reason;
  const std::string request = encode_value(SnapshotRequest{options_.name});
  try {
    if (!snapshot_socket_.send(zmq::buffer(snapshot_request),
                               zmq::send_flags::sndmore | zmq::send_flags::dontwait) ||
        !snapshot_socket_.send(zmq::buffer(request), zmq::send_flags::dontwait)) {
      return SnapshotFailure{Reason::not_connected, "the source is not connected"};
    }
  } catch (const zmq::error_t& e) {
    return SnapshotFailure{Reason::not_connected, e.what()};
  }
  FetchedSnapshot snapshot;
  for (;;) {
    // Each message waits at most snapshot_timeout (the socket's receive timeout).
    const std::size_t count = receive_frames(snapshot_socket_, frames_, reply_frame_count);
    if (count == 0) {
      return SnapshotFailure{
          Reason::no_answer,
          "no answer within " + std::to_string(options_.snapshot_timeout.count()) + " ms"};
    }
    const std::string_view command = view_of(frames_[0]);
    try {
      if (count != reply_frame_count) {
        throw MalformedMessage(WireFault::wrong_frame_count,
                               "snapshot reply with " + std::to_string(count) + " frames");
      }
      const std::string_view body = view_of(frames_[1]);
      if (command == snapshot_chunk) {
        add_chunk(body, snapshot.records);
      } else if (command == snapshot_end) {
        const auto end = decode_value<SnapshotEnd>(body, "snapshot end");
        if (end.records != snapshot.records.size()) {
          return SnapshotFailure{Reason::incomplete,
                                 "snapshot announced " + std::to_string(end.records) +
                                     " records, " + std::to_string(snapshot.records.size()) +
                                     " arrived"};
        }
        snapshot.sequence = end.sequence;
        snapshot.incarnation = end.incarnation;
        snapshot.source = end.source;
        return snapshot;
      } else if (command == snapshot_refused) {
        return SnapshotFailure{Reason::refused, "refused: " + std::string(body)};
      } else {
        throw MalformedMessage(WireFault::unprocessable,
                               "unknown snapshot reply '" + std::string(command) + "'");
      }
    } catch (const MalformedMessage& e) {
      return SnapshotFailure{Reason::malformed, e.what()};
    }
  }
}

void Replica::dead_letter(const DecodedEvent& event, WireFault fault, const std::string& why) {
  inbox_.dead_letter(event, fault, why);
}

void Replica::notice_silence() {
  if (state_ != ReplicaState::live) {
    return;
  }
  const std::int64_t silent_ns = monotonic_ns() - last_heard_ns_;
  if (silent_ns < std::chrono::nanoseconds(options_.silence_timeout).count()) {
    return;
  }
  {
    std::unique_lock lock(mutex_);
    state_ = ReplicaState::source_silent;
    ++stats_.silences;
  }
  publish_progress();
  say("no word from the source for " + format_duration(silent_ns) +
      "; answering from what I have (as of #" + std::to_string(sequence_) + ")");
}

void Replica::notice_lost_connection() {
  // Reading the connection reports costs a system call: a few times a second is plenty.
  const std::int64_t now = monotonic_ns();
  if (now - last_connection_check_ns_ < 50'000'000) {
    return;
  }
  last_connection_check_ns_ = now;
  const std::uint64_t disconnects = inbox_.peers().disconnects;
  if (disconnects == disconnects_seen_) {
    return;
  }
  {
    std::unique_lock lock(mutex_);
    stats_.connections_lost += disconnects - disconnects_seen_;
  }
  disconnects_seen_ = disconnects;
  say("the connection to the source was closed (it stopped answering heartbeats, or went "
      "away); reconnecting by itself");
}

void Replica::say(const std::string& line) const {
  if (options_.report) {
    options_.report(line);
  }
}

void Replica::publish_progress() {
  if (waiters_.load(std::memory_order_acquire) > 0) {
    std::lock_guard lock(progress_mutex_);
    progress_.notify_all();
  }
}

CustomerView Replica::lookup(CustomerId id) const {
  return read_record(id, [](const Customer* record, CustomerView view) {
    if (record != nullptr) {
      view.customer = *record;
    }
    return view;
  });
}

CustomerView Replica::view_at(std::int64_t now_ns) const {
  CustomerView view;
  view.sequence = sequence_;
  view.state = state_;
  view.staleness =
      std::chrono::nanoseconds(state_ == ReplicaState::waiting_for_source
                                   ? 0
                                   : std::max<std::int64_t>(0, now_ns - current_as_of_ns_));
  return view;
}

bool Replica::await_sequence(std::uint64_t sequence, std::chrono::milliseconds timeout,
                             Incarnation incarnation) const {
  return await_progress(
      [&] {
        std::shared_lock lock(mutex_);
        return sequence_ >= sequence && state_ != ReplicaState::waiting_for_source &&
               (incarnation == 0 || incarnation == incarnation_);
      },
      timeout);
}

bool Replica::await_state(ReplicaState state, std::chrono::milliseconds timeout) const {
  return await_progress(
      [&] {
        std::shared_lock lock(mutex_);
        return state_ == state;
      },
      timeout);
}

bool Replica::await_progress(const std::function<bool()>& reached,
                             std::chrono::milliseconds timeout) const {
  if (reached()) {
    return true;
  }
  waiters_.fetch_add(1, std::memory_order_acq_rel);
  const Deadline deadline(timeout);
  bool done = false;
  {
    std::unique_lock lock(progress_mutex_);
    // Woken by publish_progress(), which notifies under progress_mutex_: a change made
    // between reached() and wait_for() cannot slip by, because this thread holds that mutex
    // until wait_for() releases it, and the writer counted us in waiters_ before it looked.
    while (!(done = reached()) && !deadline.expired()) {
      progress_.wait_for(lock, deadline.remaining());
    }
  }
  waiters_.fetch_sub(1, std::memory_order_acq_rel);
  return done;
}

ReplicaStatus Replica::status() const {
  std::shared_lock lock(mutex_);
  const CustomerView view = view_at(monotonic_ns());
  return ReplicaStatus{view.state, view.sequence, records_.size(), view.staleness, incarnation_};
}

ReplicaStats Replica::stats() const {
  std::shared_lock lock(mutex_);
  return stats_;
}

std::optional<SnapshotFailure> Replica::last_snapshot_failure() const {
  std::shared_lock lock(mutex_);
  return last_snapshot_failure_;
}

CustomerTable Replica::copy() const {
  std::shared_lock lock(mutex_);
  return records_;
}

}  // namespace eda::state_transfer
