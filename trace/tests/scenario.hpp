// A small shop scenario for the tracer's tests, with faults that can be injected one by one.
//
// Two orders go through three services. Per order:
//   order-service    shop.order.placed       (the first event: starts the correlation)
//   warehouse        shop.stock.reserved     caused by the order
//   payment-service  shop.payment.charged    caused by the order
//   warehouse        shop.parcel.shipped     caused by the payment
// published phase by phase (all orders placed, then all stock reserved, ...). Events are
// encoded here with their metadata chosen by the scenario, so that faults can be injected, and
// then sent through real kit Publishers (republish) or put straight into a capture.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <msgpack.hpp>
#include <zmq.hpp>

#include "eda/endpoint.hpp"
#include "eda/envelope.hpp"
#include "eda/pubsub.hpp"
#include "eda/trace/capture.hpp"

namespace trace_test {

/// Faults to inject into the scenario.
struct Faults {
  bool gap = false;            ///< order-service numbers its second order #3 (#2 never sent)
  bool duplicate = false;      ///< payment-service's charge for order 1 is sent twice
  bool missing_cause = false;  ///< a refund names a cause made after the tap started, never sent
  bool out_of_order = false;   ///< warehouse reserves stock for order 2 before order 1
};

/// One event of the scenario: its metadata and its record (type, zero byte, envelope).
struct ScriptedEvent {
  eda::EventMetadata meta;  ///< as encoded
  std::string envelope;     ///< The record, as a publisher sends it in one frame
};

/// The services of the scenario, in a fixed order.
inline const std::vector<std::string> services{"order-service", "warehouse", "payment-service"};

/// The events of the scenario with `faults`, in publication order.
std::vector<ScriptedEvent> shop_scenario(const Faults& faults, std::uint64_t orders = 2);

/// The same event with metadata `meta` (payload unchanged), e.g. to forge a fault.
ScriptedEvent restamped(const ScriptedEvent& event, const eda::EventMetadata& meta);

/// A capture holding `events` as a tap would have received them, started at `started_ns`.
eda::trace::Capture capture_of(const std::vector<ScriptedEvent>& events, std::int64_t started_ns);

/// One kit Publisher per service of the scenario, bound to `endpoints` (one per service).
class ScenarioPublishers {
 public:
  ScenarioPublishers(zmq::context_t& context, const std::vector<std::string>& endpoints);

  /// The endpoints actually bound, in the order of `services`.
  [[nodiscard]] std::vector<std::string> endpoints() const;

  /// Serves handshakes on every publisher until each has `count` subscribers; false on timeout.
  bool await_subscribers(std::size_t count, std::chrono::milliseconds timeout);

  /// Sends each event through the publisher of its source, unchanged.
  void publish(const std::vector<ScriptedEvent>& events);

 private:
  std::map<std::string, std::unique_ptr<eda::Publisher>> by_source_;
};

}  // namespace trace_test
