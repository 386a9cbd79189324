#include "story.hpp"

#include <utility>

#include "eda/latency.hpp"

namespace eda::state_transfer::demo {

using namespace std::chrono_literals;

std::string stale(std::chrono::nanoseconds staleness) {
  return eda::format_duration(staleness.count()) + " stale";
}

std::string describe(const ShippingLabel& label) {
  return "order " + std::to_string(label.order_id) + " -> " + label.address +
         (label.express ? " [express]" : "");
}

std::string describe_from_replica(const ShippingLabel& label) {
  return describe(label) + "  (as of #" + std::to_string(label.as_of_sequence) + ", " +
         stale(label.staleness) + ")";
}

ShippingReplica::ShippingReplica(zmq::context_t& context, Narrator& say, std::string name,
                                 std::string updates, std::string snapshots, eda::Security security,
                                 eda::Heartbeat heartbeat)
    : replica_(context, {.name = name,
                         .updates_endpoint = std::move(updates),
                         .snapshot_endpoint = std::move(snapshots),
                         .silence_timeout = 500ms,
                         .heartbeat = heartbeat,
                         .security = std::move(security),
                         .report = [&say, name](std::string_view line) { say.say(name, line); }}),
      thread_([this](const std::stop_token& stop) { replica_.run(stop, 10ms); }) {}

}  // namespace eda::state_transfer::demo
