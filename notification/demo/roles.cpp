#include "roles.hpp"

#include <chrono>
#include <memory>
#include <stdexcept>

#include "eda/clock.hpp"
#include "eda/curve_setup.hpp"
#include "eda/latency.hpp"
#include "eda/notification/baseline.hpp"
#include "eda/notification/consumer.hpp"
#include "eda/notification/order_service.hpp"

namespace eda::notification::demo {

using namespace std::chrono_literals;

namespace {

bool keep_running(const eda::Deadline& deadline) {
  return !eda::cli::stop_requested() && !deadline.expired();
}

std::chrono::milliseconds work_time(const Settings& s) {
  return std::chrono::milliseconds(s.slow == s.role ? s.slow_ms : 0);
}

/// Places `--count` orders with the Order service at `--api` (either design), then exits.
int run_customer(const Settings& s, Narrator& say, zmq::context_t& context,
                 const CurveSetup& curve) {
  eda::RpcClient customer(
      context, {.endpoint = s.api, .timeout = 30s, .attempts = 1, .security = curve.client()});
  std::uint64_t placed = 0;
  for (std::uint64_t n = 1; n <= s.common.count && !eda::cli::stop_requested(); ++n) {
    const std::int64_t start = eda::monotonic_ns();
    try {
      const auto id = customer.call<std::uint64_t>(method::place_order, sample_order(n));
      ++placed;
      say.say("customer", "order " + std::to_string(id) + " placed in " +
                              eda::format_duration(eda::monotonic_ns() - start));
    } catch (const eda::RpcTimeout&) {
      // A stop request cuts the wait for the answer short; the kit reports that as no answer.
      if (!eda::cli::stop_requested()) throw;
      say.say("customer",
              "order " + std::to_string(n) + ": sent, its answer not awaited (it may be placed)");
    }
  }
  if (eda::cli::stop_requested()) {
    say.say("customer", "stopped: " + std::to_string(placed) + " of " +
                            std::to_string(s.common.count) +
                            " orders placed (the Order service keeps them)");
  }
  return 0;
}

/// The baseline's Order service: calls inventory, shipping and billing for every order.
int run_baseline_order(const Settings& s, Narrator& say, zmq::context_t& context,
                       const CurveSetup& curve, const eda::Deadline& deadline) {
  baseline::SyncOrderService orders(
      context,
      {.api_endpoint = s.api,
       .downstream = {{"inventory", s.inventory}, {"shipping", s.shipping}, {"billing", s.billing}},
       .security = curve.both()});
  say.say("order-service", "(baseline) API on " + orders.api_endpoint());
  orders.serve_while([&] { return keep_running(deadline); });
  say.say("order-service", "stopped: " + std::to_string(orders.stats().orders) +
                               " orders placed, " + std::to_string(orders.stats().failed_orders) +
                               " refused; nothing kept (the baseline keeps its orders in memory)");
  return 0;
}

/// A baseline downstream service (inventory, shipping or billing): answers the calls.
int run_baseline_downstream(const Settings& s, Narrator& say, zmq::context_t& context,
                            const CurveSetup& curve, const eda::Deadline& deadline) {
  baseline::DownstreamService service(context, {.role = s.role,
                                                .endpoint = s.listen,
                                                .work_time = work_time(s),
                                                .security = curve.server()});
  say.say(s.role, "(baseline) answers " + std::string(baseline::method_for(s.role)) + " on " +
                      service.endpoint());
  service.serve_while([&] { return keep_running(deadline); });
  say.say(s.role,
          "stopped: " + std::to_string(service.handled()) + " calls answered; nothing kept");
  return 0;
}

/// The Order service: publishes OrderPlaced, answers fetch-backs and replays.
int run_order_service(const Settings& s, Narrator& say, zmq::context_t& context,
                      const CurveSetup& curve, const eda::Deadline& deadline) {
  OrderService service(
      context, {.events_endpoint = s.events, .api_endpoint = s.api, .security = curve.server()});
  say.say("order-service",
          "publishes on " + service.events_endpoint() + ", API on " + service.api_endpoint());
  while (keep_running(deadline)) {
    // OrderService polls its sockets itself: a stop request ends that wait with EINTR.
    (void)eda::cli::unless_stopped([&] { (void)service.serve_once(20ms); });
  }
  say.say("order-service",
          "stopped: " + std::to_string(service.stats().orders) +
              " orders placed; nothing kept (its orders and its replay buffer lived in memory)");
  return 0;
}

/// A consumer (inventory, shipping or billing): subscribes, catches up from the replay buffer
/// after its checkpoint, then reacts live.
int run_consumer(const Settings& s, Narrator& say, zmq::context_t& context, const CurveSetup& curve,
                 const eda::Deadline& deadline) {
  std::unique_ptr<Checkpoint> checkpoint;
  if (!s.checkpoint_file.empty()) checkpoint = std::make_unique<FileCheckpoint>(s.checkpoint_file);
  Consumer consumer(context,
                    {.name = s.role,
                     .events_endpoint = s.events,
                     .api_endpoint = s.api,
                     .follow_ups_endpoint = s.listen,
                     .work_time = work_time(s),
                     .checkpoint = checkpoint.get(),
                     .security = curve.both()},
                    [&say, role = s.role, inner = reaction_for(s.role)](
                        eda::Publisher& out, const OrderPlaced& placed, const Order* order,
                        const eda::EventMetadata& cause) {
                      inner(out, placed, order, cause);
                      say.say(role, describe(role, placed, order));
                    });
  // The handshake is awaited in short turns, so that a stop request is heeded meanwhile.
  const eda::Deadline handshake(30s);
  bool started = false;
  while (!(started = consumer.start(200ms)) && !handshake.expired() &&
         !eda::cli::stop_requested()) {
  }
  if (!started && eda::cli::stop_requested()) {
    say.say(s.role, "stopped before the Order service answered; nothing handled");
    return 0;
  }
  if (!started) {
    throw std::runtime_error("no handshake with the Order service at " + s.events + " within 30 s");
  }
  say.say(s.role, "subscribed; caught up " + std::to_string(consumer.stats().replayed) +
                      " orders from the replay buffer");
  std::uint64_t reconnections = 0;
  while (keep_running(deadline)) {
    try {
      (void)consumer.poll(100ms);
      if (consumer.stats().reconnections != reconnections) {
        reconnections = consumer.stats().reconnections;
        say.say(s.role,
                "reconnected to the Order service (the connection had been closed); "
                "caught up from the replay buffer, " +
                    std::to_string(consumer.stats().replayed) + " orders replayed so far");
      }
    } catch (const eda::RpcTimeout& e) {
      if (eda::cli::stop_requested()) break;  // the fetch-back was cut short by the stop
      say.say(s.role, std::string("the Order service does not answer: ") + e.what());
    }
  }
  say.say(s.role,
          "stopped: " + std::to_string(consumer.stats().handled) + " orders handled; " +
              (s.checkpoint_file.empty()
                   ? "its checkpoint (#" + std::to_string(consumer.last_processed()) +
                         ") lived in memory: a new run starts at the replay buffer's "
                         "oldest order"
                   : s.role + "'s checkpoint at sequence " +
                         std::to_string(consumer.last_processed()) + " in " + s.checkpoint_file));
  return 0;
}

}  // namespace

int run_role(const Settings& s, Narrator& say) {
  zmq::context_t context;
  const auto curve = eda::cli::curve_setup(context, s.curve_keys);
  const eda::Deadline deadline(std::chrono::seconds(s.run_for_s));
  if (s.role == "customer") return run_customer(s, say, context, curve);
  if (s.baseline) {
    return s.role == "order" ? run_baseline_order(s, say, context, curve, deadline)
                             : run_baseline_downstream(s, say, context, curve, deadline);
  }
  return s.role == "order" ? run_order_service(s, say, context, curve, deadline)
                           : run_consumer(s, say, context, curve, deadline);
}

}  // namespace eda::notification::demo
