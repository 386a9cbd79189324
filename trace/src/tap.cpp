#include "eda/trace/tap.hpp"

#include <stdexcept>

#include "eda/clock.hpp"
#include "eda/envelope.hpp"

namespace eda::trace {

/// The Subscriber hands malformed messages to a dead-letter sink; the tap's sink keeps their raw
/// frames in the capture, in arrival order, so the analysis (live or replayed) reports them.
class Tap::MalformedKeeper : public DeadLetterSink {
 public:
  explicit MalformedKeeper(Tap& tap) : tap_(tap) {}

  // The Subscriber calls this from inside Tap::poll(), on the tap's own thread.
  void put(DeadLetter letter) override {
    tap_.keep(CapturedMessage{letter.received_at_ns, std::move(letter.frames)});
  }

 private:
  Tap& tap_;
};

Tap::Tap(zmq::context_t& context, TapOptions options) : options_(std::move(options)) {
  if (options_.max_messages == 0) {
    throw std::invalid_argument("a tap needs room for at least one message (max_messages >= 1)");
  }
  capture_.info.started_ns = wall_clock_ns();
  capture_.info.endpoints = options_.endpoints;
  capture_.info.topics = options_.topics;
  keeper_ = std::make_unique<MalformedKeeper>(*this);
  SubscriberOptions subscriber;
  subscriber.endpoints = options_.endpoints;
  subscriber.topics = options_.topics;
  subscriber.receive_high_water_mark = options_.receive_high_water_mark;
  subscriber.name = "eda-trace";
  // The analysis judges sequences itself, from the raw capture: the tap must see every
  // duplicate rather than have the subscriber drop it.
  subscriber.detect_gaps = false;
  subscriber.drop_duplicates = false;
  subscriber.dead_letters = keeper_.get();
  subscriber.security = options_.security;
  subscriber_ = std::make_unique<Subscriber>(context, std::move(subscriber));
}

Tap::~Tap() = default;

bool Tap::await_handshake(std::chrono::milliseconds timeout) {
  return subscriber_->await_handshake(timeout);
}

bool Tap::handshake_complete() const noexcept { return subscriber_->handshake_complete(); }

void Tap::keep(CapturedMessage message) {
  if (capture_.messages.size() >= options_.max_messages) {
    ++overflowed_;
    return;
  }
  capture_.messages.push_back(std::move(message));
}

std::size_t Tap::poll(std::chrono::milliseconds wait) {
  const std::size_t before = capture_.messages.size() + overflowed_;
  if (auto delivery = subscriber_->receive(wait)) {
    const DecodedEvent& event = delivery->event;
    // The frames exactly as they arrived: the record alone, or (from a format 1 publisher) the
    // topic frame, which the decoder checked equals the event type, and the envelope.
    if (event.format_version() == envelope_format_version) {
      keep(CapturedMessage{wall_clock_ns(), {std::string(event.bytes())}});
    } else {
      keep(CapturedMessage{wall_clock_ns(), {event.meta().type, std::string(event.bytes())}});
    }
  }
  return capture_.messages.size() + overflowed_ - before;
}

Capture Tap::take_capture() {
  Capture taken = std::move(capture_);
  capture_ = Capture{};
  capture_.info = taken.info;
  return taken;
}

BackgroundTap::BackgroundTap(zmq::context_t& context, TapOptions options)
    : tap_(context, std::move(options)) {
  thread_ = std::thread([this] { run(); });
}

BackgroundTap::~BackgroundTap() {
  if (thread_.joinable()) {
    (void)stop(std::chrono::milliseconds(0));
  }
}

void BackgroundTap::run() {
  bool drained = false;
  while (!drained) {
    const bool stopping = stopping_.load();
    std::size_t got = 0;
    if (stopping) {
      // Take what is already queued, within the drain budget, then end.
      const Deadline deadline(drain_);
      while (!deadline.expired() && tap_.poll(std::chrono::milliseconds(0)) > 0) {
        ++got;
      }
      drained = true;
    } else {
      got = tap_.poll(std::chrono::milliseconds(50));
    }
    const bool handshake = tap_.handshake_complete();
    const std::lock_guard lock(mutex_);
    if (got > 0 || handshake != handshake_) {
      captured_ = tap_.capture().messages.size();
      handshake_ = handshake;
      changed_.notify_all();
    }
  }
}

bool BackgroundTap::await_handshake(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [this] { return handshake_; });
}

bool BackgroundTap::await_messages(std::size_t count, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [this, count] { return captured_ >= count; });
}

std::size_t BackgroundTap::captured() const {
  const std::lock_guard lock(mutex_);
  return captured_;
}

Capture BackgroundTap::stop(std::chrono::milliseconds drain) {
  if (!thread_.joinable()) {
    return Capture{};
  }
  drain_ = drain;
  stopping_.store(true);
  thread_.join();
  return tap_.take_capture();
}

}  // namespace eda::trace
