// eda-kit-demo: the shared kit on its own, in one process.
//
// The order service publishes a few thin "order placed" events; an inventory consumer receives
// them after a real subscription handshake and calls the order service back over RPC for each
// order's details. Everything the pattern modules are built from appears once: the envelope,
// the codec, pub/sub with sequence checks, RPC with a timeout, and the latency recorder.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <thread>

#include "eda/cli.hpp"
#include "eda/clock.hpp"
#include "eda/json.hpp"
#include "eda/latency.hpp"
#include "eda/narrator.hpp"
#include "eda/pubsub.hpp"
#include "eda/rpc.hpp"
#include "eda/trace/demo_trace.hpp"

namespace {

using namespace std::chrono_literals;

/// A thin event: just enough to route it.
struct OrderPlaced {
  static constexpr std::string_view event_type = "shop.order.placed";
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t order_id = 0;
  MSGPACK_DEFINE(order_id)
};

/// What the consumer fetches back over RPC.
struct OrderDetails {
  std::uint64_t order_id = 0;
  std::string customer;
  std::string item;
  std::uint32_t quantity = 0;
  MSGPACK_DEFINE(order_id, customer, item, quantity)
};

OrderDetails details_of(std::uint64_t order_id) {
  static const char* const items[] = {"widget", "gadget", "gizmo"};
  return {order_id, "customer-" + std::to_string(order_id % 3 + 1), items[order_id % 3],
          static_cast<std::uint32_t>(order_id % 4 + 1)};
}

int run_demo(const eda::cli::CommonOptions& options, const std::string& curve_keys,
             bool trace_flag) {
  eda::Narrator narrator(std::cout, options.verbosity);
  zmq::context_t context;
  const auto curve = eda::cli::curve_setup(context, curve_keys);
  narrator.heading("The shared kit: events over pub/sub with a handshake, and RPC");
  if (curve.is_on()) {
    narrator.say("security",
                 "tcp and ipc connections run CURVE (inproc never leaves the process); "
                 "the ZAP handler lets in the keys of " +
                     curve_keys + "/clients");
  }

  eda::Publisher orders(context,
                        {.source = "order-service",
                         .endpoints = {eda::ephemeral_endpoint(options.transport, "orders")},
                         .security = curve.server()});
  eda::RpcServer order_api(context,
                           {.endpoints = {eda::ephemeral_endpoint(options.transport, "order-api")},
                            .security = curve.server()});
  order_api.handle_typed<std::uint64_t>("GetOrder",
                                        [](std::uint64_t id) { return details_of(id); });
  narrator.say("order-service", "publishes events on " + orders.endpoints().front() +
                                    ", answers GetOrder on " + order_api.endpoints().front());

  const std::size_t count = options.count;
  std::atomic<bool> inventory_done{false};
  eda::LatencyRecorder fetch_back;
  eda::SubscriberStats inventory_stats;
  std::size_t handled = 0;

  // The inventory consumer runs in its own thread, as it would run in its own process.
  std::thread inventory([&] {
    eda::Subscriber inbox(context, {.endpoints = {orders.endpoints().front()},
                                    .topics = {"shop.order"},
                                    .name = "inventory",
                                    // The order service publishes only shop.order.* events, so
                                    // a jump in its sequence here is a real loss: check gaps.
                                    .detect_gaps = true,
                                    .security = curve.client()});
    eda::RpcClient order_client(
        context,
        {.endpoint = order_api.endpoints().front(), .timeout = 2000ms, .security = curve.client()});
    if (!inbox.await_handshake(10s)) {
      narrator.say("inventory", "no handshake with the order service within 10 s; giving up");
      inventory_done = true;
      return;
    }
    const eda::Deadline deadline(30s);
    while (handled < count && !deadline.expired()) {
      auto delivery = inbox.receive(deadline.remaining());
      if (!delivery) {
        break;
      }
      const auto& event = delivery->event;
      const auto placed = event.payload_as<OrderPlaced>();
      narrator.say("inventory", "received " + event.meta().type + " #" +
                                    std::to_string(event.meta().sequence) + " (order " +
                                    std::to_string(placed.order_id) + ")");
      narrator.detail("inventory", eda::to_json_line(event));
      const std::int64_t start = eda::monotonic_ns();
      const auto details = order_client.call<OrderDetails>("GetOrder", placed.order_id);
      fetch_back.record(eda::monotonic_ns() - start);
      narrator.say("inventory",
                   "  fetched details back over RPC: " + std::to_string(details.quantity) + " x " +
                       details.item + " for " + details.customer);
      ++handled;
    }
    inventory_stats = inbox.stats();
    inventory_done = true;
  });

  // --trace: a tap on the order service's events; it is one more subscriber. This thread
  // serves the publisher, so it does while the tap joins.
  std::optional<eda::trace::DemoTrace> trace;
  if (trace_flag) {
    trace.emplace(context, eda::trace::DemoTraceOptions{
                               .endpoints = {orders.endpoints().front()},
                               .security = curve.client(),
                               .serve_publishers = [&] { (void)orders.serve(5ms); }});
  }
  // A real signal, not a sleep: the publisher counts subscribers whose handshake completed.
  if (orders.wait_for_subscribers(trace ? 2 : 1, 10s)) {
    narrator.say("order-service", "inventory's subscription to shop.order.* is confirmed");
  } else {
    narrator.say("order-service", "no subscriber joined within 10 s");
  }
  for (std::uint64_t id = 1; id <= count && orders.subscriber_count() > 0; ++id) {
    const eda::EventMetadata sent = orders.publish(OrderPlaced{id});
    narrator.say("order-service", "published " + sent.type + " #" + std::to_string(sent.sequence) +
                                      " (order " + std::to_string(id) + ")");
  }
  // Keep answering fetch-back calls until the consumer is done (bounded by its own deadline).
  order_api.serve_while([&] { return !inventory_done.load(); }, 20ms);
  inventory.join();

  narrator.heading("Summary");
  std::cout << "events delivered: " << inventory_stats.delivered << " of " << count
            << ", gaps: " << inventory_stats.gaps << ", duplicates: " << inventory_stats.duplicates
            << ", dead letters: " << inventory_stats.malformed << '\n'
            << "fetch-back RPC over " << eda::to_string(options.transport) << ": "
            << fetch_back.summary().to_string() << '\n';
  if (trace) {
    (void)trace->report(std::cout, orders.last_sequence());
  }
  return handled == count && inventory_stats.gaps == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "eda-kit-demo: the shared kit of eda-patterns in one small, bounded run.\n"
      "An order service publishes thin events; an inventory consumer receives them\n"
      "after a subscription handshake and fetches each order's details over RPC."};
  eda::cli::CommonOptions options;
  eda::cli::add_common_options(app, options, 100'000);
  std::string curve_keys;
  eda::cli::add_curve_keys_option(app, curve_keys);
  bool trace = false;
  app.add_flag("--trace", trace, eda::trace::trace_flag_help);
  return eda::cli::run(app, argc, argv, [&] { return run_demo(options, curve_keys, trace); });
}
