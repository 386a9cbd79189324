#include "scenario.hpp"

#include <stdexcept>

#include "eda/clock.hpp"
#include "eda/codec.hpp"

namespace trace_test {
namespace {

struct OrderPlaced {
  static constexpr std::string_view event_type = "shop.order.placed";
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t order_id = 0;
  std::string customer;
  MSGPACK_DEFINE(order_id, customer)
};

struct StockReserved {
  static constexpr std::string_view event_type = "shop.stock.reserved";
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t order_id = 0;
  std::uint32_t items = 0;
  MSGPACK_DEFINE(order_id, items)
};

struct PaymentCharged {
  static constexpr std::string_view event_type = "shop.payment.charged";
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t order_id = 0;
  std::uint64_t amount_cents = 0;
  MSGPACK_DEFINE(order_id, amount_cents)
};

struct ParcelShipped {
  static constexpr std::string_view event_type = "shop.parcel.shipped";
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t order_id = 0;
  std::string carrier;
  MSGPACK_DEFINE(order_id, carrier)
};

struct RefundIssued {
  static constexpr std::string_view event_type = "shop.refund.issued";
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t order_id = 0;
  MSGPACK_DEFINE(order_id)
};

/// Stamps sequences per source the way a Publisher does, unless told to skip one.
class Script {
 public:
  template <class P>
  const ScriptedEvent& add(const std::string& source, const P& payload,
                           const eda::Cause& cause = {}, std::uint64_t skip = 0) {
    eda::EventMetadata meta = eda::make_metadata<P>(source, cause);
    sequences_[source] += 1 + skip;
    meta.sequence = sequences_[source];
    msgpack::sbuffer buffer;
    eda::encode_event(meta, payload, buffer);
    events_.push_back(ScriptedEvent{meta, std::string(buffer.data(), buffer.size())});
    return events_.back();
  }

  void repeat(const ScriptedEvent& event) { events_.push_back(event); }

  std::vector<ScriptedEvent> take() { return std::move(events_); }

 private:
  std::map<std::string, std::uint64_t> sequences_;
  std::vector<ScriptedEvent> events_;
};

}  // namespace

std::vector<ScriptedEvent> shop_scenario(const Faults& faults, std::uint64_t orders) {
  Script script;
  std::vector<eda::EventMetadata> placed;
  for (std::uint64_t order = 1; order <= orders; ++order) {
    const std::uint64_t skip = faults.gap && order == 2 ? 1 : 0;
    placed.push_back(
        script
            .add("order-service", OrderPlaced{order, "customer-" + std::to_string(order)}, {}, skip)
            .meta);
  }
  for (std::uint64_t i = 0; i < orders; ++i) {
    // Out of order: the warehouse handles the orders last to first.
    const std::uint64_t order = faults.out_of_order ? orders - i : i + 1;
    script.add("warehouse", StockReserved{order, static_cast<std::uint32_t>(order + 1)},
               eda::Cause::of(placed[order - 1]));
  }
  std::vector<eda::EventMetadata> charged;
  for (std::uint64_t order = 1; order <= orders; ++order) {
    const ScriptedEvent charge = script.add("payment-service", PaymentCharged{order, 1000 * order},
                                            eda::Cause::of(placed[order - 1]));
    charged.push_back(charge.meta);
    if (faults.duplicate && order == 1) script.repeat(charge);
  }
  for (std::uint64_t order = 1; order <= orders; ++order) {
    script.add("warehouse", ParcelShipped{order, "parcel-post"},
               eda::Cause::of(charged[order - 1]));
  }
  if (faults.missing_cause) {
    // A refund whose cause (an id made now, after any tap started) is never published.
    script.add("payment-service", RefundIssued{1},
               eda::Cause{placed.front().correlation_id, eda::new_event_id()});
  }
  return script.take();
}

ScriptedEvent restamped(const ScriptedEvent& event, const eda::EventMetadata& meta) {
  const auto decoded = eda::DecodedEvent::decode(event.envelope);
  msgpack::sbuffer buffer;
  eda::encode_event(meta, decoded.payload(), buffer);
  return ScriptedEvent{meta, std::string(buffer.data(), buffer.size())};
}

eda::trace::Capture capture_of(const std::vector<ScriptedEvent>& events, std::int64_t started_ns) {
  eda::trace::Capture capture;
  capture.info.started_ns = started_ns;
  capture.info.endpoints = {"inproc://scripted"};
  for (const ScriptedEvent& event : events) {
    capture.messages.push_back(
        eda::trace::CapturedMessage{event.meta.timestamp_ns + 1000, {event.envelope}});
  }
  return capture;
}

ScenarioPublishers::ScenarioPublishers(zmq::context_t& context,
                                       const std::vector<std::string>& endpoints) {
  if (endpoints.size() != services.size()) {
    throw std::invalid_argument("the scenario needs one endpoint per service");
  }
  for (std::size_t i = 0; i < services.size(); ++i) {
    by_source_[services[i]] = std::make_unique<eda::Publisher>(
        context, eda::PublisherOptions{.source = services[i], .endpoints = {endpoints[i]}});
  }
}

std::vector<std::string> ScenarioPublishers::endpoints() const {
  std::vector<std::string> out;
  for (const std::string& service : services)
    out.push_back(by_source_.at(service)->endpoints().front());
  return out;
}

bool ScenarioPublishers::await_subscribers(std::size_t count, std::chrono::milliseconds timeout) {
  // A subscriber to several publishers finishes its handshake only when all of them answered
  // its first round, so they must be served together, not one after the other.
  const eda::Deadline deadline(timeout);
  while (!deadline.expired()) {
    bool all = true;
    for (auto& [source, publisher] : by_source_) {
      (void)publisher->serve(std::chrono::milliseconds(5));
      all = all && publisher->subscriber_count() >= count;
    }
    if (all) return true;
  }
  return false;
}

void ScenarioPublishers::publish(const std::vector<ScriptedEvent>& events) {
  for (const ScriptedEvent& event : events) {
    by_source_.at(event.meta.source)->republish(eda::DecodedEvent::decode(event.envelope));
  }
}

}  // namespace trace_test
