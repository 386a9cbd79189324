#include "eda/cqrs/projector.hpp"

#include <stdexcept>

namespace eda::cqrs {

Projector::Projector(const sourcing::EventStore& store, ProjectionHost& read_models,
                     zmq::context_t& context, ProjectorOptions options)
    : read_models_(read_models),
      batch_(options.batch),
      next_read_(read_models.position() + 1),
      follow_(store, context,
              sourcing::SubscriptionOptions{.from_position = read_models.position() + 1,
                                            .notifications = options.store_notifications,
                                            .batch = options.batch,
                                            .fallback_poll = options.fallback_poll,
                                            .security = options.security}) {
  if (!options.announce.empty()) {
    announcer_.emplace(context, PublisherOptions{.source = "projector",
                                                 .endpoints = std::move(options.announce),
                                                 .send_high_water_mark = 1000,
                                                 .linger_ms = 0,
                                                 .security = options.security});
  }
}

bool Projector::await_notifications(std::chrono::milliseconds timeout) {
  return follow_.await_notifications(timeout);
}

std::size_t Projector::step(std::chrono::milliseconds timeout) {
  if (announcer_) {
    (void)announcer_->serve(std::chrono::milliseconds(0));  // let query services join
  }
  // A batch that failed to apply (the database was busy, the disk full, ...) is still the
  // next one: the subscription has moved past it, so it is kept and tried again rather than
  // read anew — taking the next batch instead would skip its events for good.
  if (pending_.empty()) {
    pending_ = follow_.next_batch(batch_, timeout);
    if (pending_.empty()) {
      return 0;
    }
  }
  // The subscription delivers everything from where the last batch ended.
  const BatchApplied applied = read_models_.apply(pending_, next_read_);
  const std::vector<sourcing::RecordedEvent> events = std::move(pending_);
  pending_.clear();
  next_read_ = events.back().position + 1;
  ++stats_.batches;
  stats_.events += events.size();
  if (announcer_) {
    // Caused by the store's announcement of that position: a tracer shows the hop between
    // them, which is this projection's lag. While live, the announcement may be a moment
    // behind the events (the writer commits, then announces): it is worth a short wait.
    const auto wait = follow_.live() ? std::chrono::milliseconds(2) : std::chrono::milliseconds(0);
    announcer_->publish(ProjectionAdvanced{applied.position},
                        follow_.cause_of(applied.position, wait));
  }
  return events.size();
}

void Projector::run_while(const std::function<bool()>& keep_going, std::chrono::milliseconds tick) {
  while (keep_going()) {
    (void)step(tick);
  }
}

std::optional<std::string> Projector::announce_endpoint() const {
  if (!announcer_) return std::nullopt;
  return announcer_->endpoints().front();
}

}  // namespace eda::cqrs
