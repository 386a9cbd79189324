#include "eda/sourcing/subscription.hpp"

#include <algorithm>
#include <thread>

#include "eda/clock.hpp"

namespace eda::sourcing {

NotifyingEventStore::NotifyingEventStore(EventStore& inner, zmq::context_t& context,
                                         std::string endpoint, Security security)
    : ForwardingEventStore(inner),
      publisher_(context, {.source = "event-store",
                           .endpoints = {std::move(endpoint)},
                           .security = std::move(security)}),
      endpoint_(publisher_.endpoints().front()) {}

void NotifyingEventStore::serve(std::chrono::milliseconds wait) {
  std::lock_guard lock(mutex_);
  (void)publisher_.serve(wait);
}

std::uint64_t NotifyingEventStore::announcements() {
  std::lock_guard lock(mutex_);
  return publisher_.last_sequence();
}

void NotifyingEventStore::announce(std::uint64_t last_position) {
  std::lock_guard lock(mutex_);
  (void)publisher_.publish(EventsAppended{last_position});
}

AppendResult NotifyingEventStore::append(std::string_view stream, const ExpectedVersion& expected,
                                         std::span<const EventData> events) {
  const AppendResult result = inner().append(stream, expected, events);
  if (!result.already_stored) {
    announce(result.last_position);
  }
  return result;
}

std::vector<AppendOutcome> NotifyingEventStore::append_all(
    std::span<const AppendRequest> requests) {
  std::vector<AppendOutcome> outcomes = inner().append_all(requests);
  std::uint64_t last = 0;
  for (const AppendOutcome& outcome : outcomes) {
    if (outcome.result && !outcome.result->already_stored) {
      last = std::max(last, outcome.result->last_position);
    }
  }
  if (last > 0) {
    announce(last);
  }
  return outcomes;
}

CatchUpSubscription::CatchUpSubscription(const EventStore& store, zmq::context_t& context,
                                         SubscriptionOptions options)
    : store_(store),
      options_(std::move(options)),
      next_position_(std::max<std::uint64_t>(options_.from_position, 1)) {
  if (options_.batch == 0 || options_.fallback_poll <= std::chrono::milliseconds(0)) {
    throw std::invalid_argument("a subscription needs a batch of at least 1 and a positive poll");
  }
  if (!options_.notifications.empty()) {
    wakeups_ = std::make_unique<Subscriber>(
        context, SubscriberOptions{.endpoints = {options_.notifications},
                                   .topics = {std::string(EventsAppended::event_type)},
                                   .receive_high_water_mark = 1000,
                                   .name = "catch-up subscription",
                                   .detect_gaps = false,
                                   .security = options_.security});
  }
}

bool CatchUpSubscription::await_notifications(std::chrono::milliseconds timeout) {
  return !wakeups_ || wakeups_->await_handshake(timeout);
}

bool CatchUpSubscription::fill() {
  for (RecordedEvent& event : store_.read_all(next_position_, options_.batch)) {
    buffer_.push_back(std::move(event));
  }
  live_ = buffer_.size() < options_.batch;
  if (!buffer_.empty()) {
    next_position_ = buffer_.back().position + 1;
  }
  return !buffer_.empty();
}

std::optional<RecordedEvent> CatchUpSubscription::next(std::chrono::milliseconds timeout) {
  const Deadline deadline(timeout);
  for (;;) {
    if (buffer_.empty() && !fill()) {
      if (deadline.expired()) {
        return std::nullopt;
      }
      // Caught up: sleep until an append is announced (or the fallback period passes), then
      // read the store again.
      await_append(std::min(deadline.remaining(), options_.fallback_poll));
      continue;
    }
    RecordedEvent event = std::move(buffer_.front());
    buffer_.pop_front();
    return event;
  }
}

void CatchUpSubscription::await_append(std::chrono::milliseconds wait) {
  if (!wakeups_) {
    std::this_thread::sleep_for(wait);  // no notifications configured: plain polling
    return;
  }
  auto wakeup = wakeups_->receive(wait);
  // Notifications that piled up are drained: the one read that follows serves them all.
  while (wakeup) {
    remember(*wakeup);
    wakeup = wakeups_->receive(std::chrono::milliseconds(0));
  }
}

void CatchUpSubscription::remember(const Delivery& wakeup) {
  try {
    const auto appended = wakeup.event.payload_as<EventsAppended>();
    if (announcements_.size() == max_remembered) {
      announcements_.pop_front();
    }
    announcements_.emplace_back(appended.last_position, wakeup.event.meta());
  } catch (const MalformedMessage&) {
    // A wake-up is a hint, never data: one that does not decode still woke us, nothing more.
  }
}

Cause CatchUpSubscription::cause_of(std::uint64_t position, std::chrono::milliseconds wait) {
  const Deadline deadline(wait);
  for (;;) {
    if (wakeups_) {
      while (auto wakeup = wakeups_->receive(std::chrono::milliseconds(0))) {
        remember(*wakeup);
      }
    }
    // Positions only grow: announcements below `position` can never be a later answer either.
    while (!announcements_.empty() && announcements_.front().first < position) {
      announcements_.pop_front();
    }
    if (!announcements_.empty()) {
      return Cause::of(announcements_.front().second);
    }
    if (!wakeups_ || deadline.expired()) {
      return Cause{};
    }
    const auto remaining = std::max(deadline.remaining(), std::chrono::milliseconds(1));
    if (auto wakeup = wakeups_->receive(remaining)) {
      remember(*wakeup);
    }
  }
}

std::vector<RecordedEvent> CatchUpSubscription::next_batch(std::size_t max_count,
                                                           std::chrono::milliseconds timeout) {
  std::vector<RecordedEvent> batch;
  if (max_count == 0) {
    return batch;
  }
  std::optional<RecordedEvent> first = next(timeout);
  if (!first) {
    return batch;
  }
  batch.reserve(std::min(max_count, buffer_.size() + 1));
  batch.push_back(std::move(*first));
  while (batch.size() < max_count && !buffer_.empty()) {
    batch.push_back(std::move(buffer_.front()));
    buffer_.pop_front();
  }
  return batch;
}

}  // namespace eda::sourcing
