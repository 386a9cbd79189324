#include "eda/notification/consumer.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "eda/errors.hpp"

namespace eda::notification {

FileCheckpoint::FileCheckpoint(std::string path) : path_(std::move(path)) {}

std::optional<std::uint64_t> FileCheckpoint::load() const {
  std::ifstream in(path_);
  if (!in) {
    return std::nullopt;  // never saved: a consumer that never ran
  }
  std::string text;
  std::getline(in, text);
  try {
    std::size_t used = 0;
    const unsigned long long value = std::stoull(text, &used);
    if (used == text.size()) {
      return value;
    }
  } catch (const std::exception&) {
  }
  throw StorageError("checkpoint file '" + path_ + "' does not hold a sequence number ('" +
                     printable(text) + "'); delete it to start over");
}

void FileCheckpoint::save(std::uint64_t sequence) {
  const std::string temporary = path_ + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << sequence << '\n';
    if (!out.flush()) {
      throw StorageError("cannot write checkpoint file '" + temporary + "'");
    }
  }
  // rename() replaces the old file in one step: a crash leaves the old or the new value.
  std::error_code error;
  std::filesystem::rename(temporary, path_, error);
  if (error) {
    throw StorageError("cannot replace checkpoint file '" + path_ + "': " + error.message());
  }
}

Consumer::Consumer(zmq::context_t& context, ConsumerOptions options, Reaction reaction)
    : options_(std::move(options)),
      reaction_(std::move(reaction)),
      checkpoint_(options_.checkpoint != nullptr ? options_.checkpoint : &own_checkpoint_),
      inbox_(context, {.endpoints = {options_.events_endpoint},
                       .topics = {std::string(OrderPlaced::event_type)},
                       .receive_high_water_mark = options_.receive_high_water_mark,
                       .name = options_.name,
                       // Gaps are repaired here from the outbox, by sequence.
                       .detect_gaps = true,
                       .dead_letters = options_.dead_letters,
                       .security = options_.security}),
      order_api_(context, {.endpoint = options_.api_endpoint,
                           .timeout = options_.rpc_timeout,
                           .attempts = options_.rpc_attempts,
                           .security = options_.security}),
      follow_ups_(context, {.source = options_.name,
                            .endpoints = {options_.follow_ups_endpoint},
                            .security = options_.security}) {
  if (!reaction_) {
    throw std::invalid_argument("consumer '" + options_.name + "' needs a reaction");
  }
  if (const auto saved = checkpoint_->load()) {
    resumed_ = true;
    checkpoint_value_ = *saved;
  }
}

bool Consumer::start(std::chrono::milliseconds timeout) {
  if (!inbox_.await_handshake(timeout)) {
    return false;
  }
  // Subscribed first, then caught up: whatever is published from now on waits in the inbox,
  // and whatever was published before comes from the outbox. Overlap is skipped by sequence.
  catch_up();
  handshakes_seen_ = inbox_.peers().handshakes;
  return true;
}

std::size_t Consumer::poll(std::chrono::milliseconds wait, std::size_t max_events) {
  const std::uint64_t before = stats_.handled;
  (void)follow_ups_.serve(std::chrono::milliseconds(0));  // let follow-up subscribers join
  // A connection to the producer that was closed (heartbeats unanswered: a cut link, a frozen
  // process) took the events queued for it along, and no later event may come to reveal the
  // gap. So every new connection after the first is followed by a catch-up from the outbox.
  if (const std::uint64_t handshakes = inbox_.peers().handshakes; handshakes > handshakes_seen_) {
    if (handshakes_seen_ > 0) {
      ++stats_.reconnections;
      must_catch_up_ = true;
    }
    handshakes_seen_ = handshakes;
  }
  if (must_catch_up_) {
    catch_up();
  }
  auto delivery = inbox_.receive(wait);
  for (std::size_t n = 0; delivery && n < max_events; ++n) {
    const std::uint64_t sequence = delivery->event.meta().sequence;
    if (sequence > checkpoint_value_ + 1) {
      // Events are missing between the checkpoint and this one (the consumer was slow and
      // the high-water mark overflowed, or it was away): fetch them from the outbox first.
      catch_up();
    }
    handle(delivery->event);
    if (n + 1 < max_events) {
      delivery = inbox_.receive(std::chrono::milliseconds(0));
    }
  }
  return stats_.handled - before;
}

void Consumer::catch_up() {
  must_catch_up_ = true;  // stays set if a call below throws
  ++stats_.catch_ups;
  // Each page moves the checkpoint forward, so this ends; the bound is a guard against a
  // misbehaving server, not a limit a real outbox reaches.
  for (int page = 0; page < 1'000'000; ++page) {
    const auto reply = order_api_.call<ReplayReply>(
        method::replay, ReplayRequest{checkpoint_value_, options_.replay_page});
    if (reply.first_available > checkpoint_value_ + 1) {
      if (resumed_ || checkpoint_value_ > 0) {
        losses_.push_back({checkpoint_value_ + 1, reply.first_available - 1});
        stats_.lost += reply.first_available - 1 - checkpoint_value_;
      }
      // A consumer that never ran starts at the oldest event the outbox still has.
      advance(reply.first_available - 1);
    }
    for (const auto& bytes : reply.events) {
      ++stats_.replayed;
      try {
        handle(DecodedEvent::decode(std::string_view(bytes.data(), bytes.size())));
      } catch (const MalformedMessage& e) {
        ++stats_.dead_letters;
        inbox_.dead_letters().put({{std::string(bytes.begin(), bytes.end())},
                                   e.fault(),
                                   e.what(),
                                   options_.name + " (replay)",
                                   wall_clock_ns()});
      }
    }
    if (reply.events.empty() || checkpoint_value_ >= reply.last_sequence) {
      break;
    }
  }
  must_catch_up_ = false;
}

void Consumer::handle(const DecodedEvent& event) {
  const EventMetadata& meta = event.meta();
  if (meta.sequence <= checkpoint_value_ || seen_ids_.count(meta.event_id) != 0) {
    ++stats_.duplicates;  // already handled: replay overlap or a re-delivery
    return;
  }
  OrderPlaced placed;
  try {
    placed = event.payload_as<OrderPlaced>();
  } catch (const MalformedMessage& e) {
    ++stats_.dead_letters;
    inbox_.dead_letter(event, e.fault(), e.what());
    advance(meta.sequence);
    return;
  }
  std::optional<Order> details;
  if (options_.needs_details) {
    try {
      details = order_api_.call<Order>(method::get_order, placed.order_id);
    } catch (const RpcTimeout&) {
      // The Order service is down: the event stays unprocessed, and the next poll() fetches
      // it again from the outbox.
      must_catch_up_ = true;
      throw;
    } catch (const RpcError& e) {
      // The Order service answered but refused (e.g. it does not know the order): retrying
      // will not help, so the event is dead-lettered and the consumer goes on.
      ++stats_.dead_letters;
      inbox_.dead_letter(event, WireFault::unprocessable,
                         std::string("fetch-back failed: ") + e.what());
      advance(meta.sequence);
      return;
    }
    ++stats_.fetch_backs;
  }
  if (options_.work_time.count() > 0) {
    std::this_thread::sleep_for(options_.work_time);  // simulated work: a slow consumer
  }
  reaction_(follow_ups_, placed, details ? &*details : nullptr, meta);
  remember(meta.event_id);
  advance(meta.sequence);
  ++stats_.handled;
}

void Consumer::remember(const std::string& event_id) {
  seen_ids_.insert(event_id);
  seen_order_.push_back(event_id);
  if (seen_order_.size() > options_.remembered_ids) {
    seen_ids_.erase(seen_order_.front());
    seen_order_.pop_front();
  }
}

void Consumer::advance(std::uint64_t sequence) {
  if (sequence > checkpoint_value_) {
    checkpoint_value_ = sequence;
    checkpoint_->save(sequence);
  }
}

}  // namespace eda::notification
