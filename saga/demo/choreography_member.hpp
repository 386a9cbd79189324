// One service of the choreographed checkout on the wire, shared by the all-in-one run
// (choreography.cpp) and the one-service-per-process roles (roles.cpp): its outbox published by
// a relay at its own endpoint, the other services' events taken from a subscriber and handed to
// its reaction.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "eda/pubsub.hpp"
#include "eda/saga/outbox_relay.hpp"

namespace eda::saga::demo {

/// One service of the choreography: publishes its outbox, hears the others.
class ChoreographyMember {
 public:
  /// `name` publishes its outbox (the database at `db_path`) at `endpoint` and hands every
  /// event it hears to `react`; `tick`, when set, runs at each poll before anything is taken
  /// (the Order desk expires its deadlines there, so a late reply finds the order timed out).
  ChoreographyMember(zmq::context_t& context, const std::string& name, const std::string& db_path,
                     const std::string& endpoint, std::function<void(const DecodedEvent&)> react,
                     std::function<void()> tick = {})
      : context_(context),
        name_(name),
        react_(std::move(react)),
        tick_(std::move(tick)),
        publisher_(context, {.source = name, .endpoints = {endpoint}}),
        relay_(context, db_path, publisher_) {}

  /// Subscribes to the others' publishers; then, once those subscriptions are confirmed, to
  /// `then` as well. A participant listens to the Order desk last: when the desk sees all
  /// three subscribed, each hears the other two already, and no event of the first checkout
  /// is published before its listener has subscribed.
  void listen(const std::vector<std::string>& others, const std::vector<std::string>& then = {}) {
    inbox_.emplace(context_,
                   SubscriberOptions{.endpoints = others, .name = name_, .drop_duplicates = false});
    then_ = then;
  }

  /// Acts on time, takes what arrived (waiting at most `wait` for the first), reacts, and
  /// relays what the reactions wrote.
  void poll(std::chrono::milliseconds wait) {
    (void)publisher_.serve(std::chrono::milliseconds(0));
    if (tick_) tick_();
    take(*inbox_, wait);
    if (!later_ && !then_.empty() && inbox_->handshake_complete()) {
      later_.emplace(
          context_, SubscriberOptions{.endpoints = then_, .name = name_, .drop_duplicates = false});
    }
    if (later_) take(*later_, std::chrono::milliseconds(0));
    while (relay_.relay_batch() > 0) {
    }
  }

  /// Where it publishes, as bound.
  [[nodiscard]] const std::string& endpoint() const { return publisher_.endpoints().front(); }
  /// Whether every publisher it listens to confirmed its subscription.
  [[nodiscard]] bool ready() const {
    return inbox_ && inbox_->handshake_complete() &&
           (then_.empty() || (later_ && later_->handshake_complete()));
  }
  /// How many services hear it (their subscriptions confirmed).
  [[nodiscard]] std::size_t subscribers() const { return publisher_.subscriber_count(); }

 private:
  /// Reacts to what `inbox` holds (waiting at most `wait` for the first), at most 1000.
  void take(Subscriber& inbox, std::chrono::milliseconds wait) {
    for (int i = 0; i < 1000; ++i) {
      auto delivery = inbox.receive(i == 0 ? wait : std::chrono::milliseconds(0));
      if (!delivery) break;
      react_(delivery->event);
    }
  }

  zmq::context_t& context_;
  std::string name_;
  std::function<void(const DecodedEvent&)> react_;
  std::function<void()> tick_;
  Publisher publisher_;
  OutboxRelay relay_;
  std::optional<Subscriber> inbox_;
  std::vector<std::string> then_;    // listened to once inbox_'s subscriptions are confirmed
  std::optional<Subscriber> later_;  // ... by this subscriber
};

}  // namespace eda::saga::demo
