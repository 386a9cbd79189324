#include "eda/notification/outbox.hpp"

#include <algorithm>
#include <stdexcept>

namespace eda::notification {

Outbox::Outbox(std::size_t capacity) : capacity_(std::max<std::size_t>(1, capacity)) {}

void Outbox::append(std::uint64_t sequence, std::string_view envelope) {
  if (last_ != 0 && sequence != last_ + 1) {
    throw std::logic_error("outbox expects sequence " + std::to_string(last_ + 1) + ", got " +
                           std::to_string(sequence));
  }
  if (events_.size() == capacity_) {
    bytes_ -= events_.front().size();
    events_.pop_front();
  }
  events_.emplace_back(envelope);
  bytes_ += envelope.size();
  last_ = sequence;
}

std::uint64_t Outbox::first_sequence() const noexcept {
  return events_.empty() ? 0 : last_ - events_.size() + 1;
}

ReplayReply Outbox::after(std::uint64_t after_sequence, std::size_t max_events) const {
  ReplayReply reply;
  reply.first_available = first_sequence();
  reply.last_sequence = last_;
  if (events_.empty() || after_sequence >= last_) {
    return reply;
  }
  const std::uint64_t from = std::max(after_sequence + 1, reply.first_available);
  const std::size_t start = static_cast<std::size_t>(from - reply.first_available);
  const std::size_t end = std::min(events_.size(), start + max_events);
  reply.events.reserve(end - start);
  for (std::size_t i = start; i < end; ++i) {
    reply.events.emplace_back(events_[i].begin(), events_[i].end());
  }
  return reply;
}

}  // namespace eda::notification
