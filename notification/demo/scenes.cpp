#include "scenes.hpp"

#include <iostream>
#include <memory>
#include <stdexcept>

#include "eda/clock.hpp"
#include "eda/endpoint.hpp"

namespace eda::notification::demo {

using namespace std::chrono_literals;

namespace {

/// The reaction of `role`, as the all-in-one run wraps it: it counts each order it ran for
/// (for the "effectively once" check) and says what it did.
Reaction counted_reaction(PatternRun& run, const std::string& role) {
  return [&run, role, inner = reaction_for(role)](eda::Publisher& out, const OrderPlaced& placed,
                                                  const Order* order,
                                                  const eda::EventMetadata& cause) {
    inner(out, placed, order, cause);
    {
      const std::lock_guard lock(run.stats_mutex);
      ++run.reactions[role][placed.order_id];
    }
    run.say.say(role, "got OrderPlaced #" + std::to_string(cause.sequence) +
                          ", fetched the details back, " + describe(role, placed, order));
  };
}

/// The `--down` consumer: stopped before the first order, back once half the orders are
/// placed, on the same address and with the same checkpoint; it catches up from the Order
/// service's replay buffer.
void down_then_back(PatternRun& run, std::unique_ptr<Consumer>& consumer,
                    const ConsumerOptions& options, const Reaction& reaction,
                    const MemoryCheckpoint& checkpoint) {
  const std::string& role = options.name;
  consumer.reset();
  run.say.say(role, "is DOWN (stopped before the first order)");
  run.ready.raise();
  (void)run.half_placed.wait_for(1, 60s);
  run.say.say(role, "is back up: asks the replay buffer for everything after #" +
                        std::to_string(checkpoint.load().value_or(0)));
  // Back on the same address (the kit's bind waits for the old socket to let go of it).
  consumer = std::make_unique<Consumer>(run.context, options, reaction);
  if (run.settings.trace)
    (void)consumer->follow_ups().wait_for_subscribers(1, 5s);  // the tap reconnects
  (void)consumer->start(10s);
  run.say.say(role, "caught up " + std::to_string(consumer->stats().replayed) +
                        " orders from the replay buffer, now live");
}

/// One consumer's life in the run, on its own thread: bind, subscribe, (with `--down`) go down
/// and come back, then react until it handled every order or the customer gave up.
void consume(PatternRun& run, const std::string& role) {
  const Settings& s = run.settings;
  MemoryCheckpoint checkpoint;  // survives the restart of a --down consumer
  ConsumerOptions options{.name = role,
                          .events_endpoint = run.service.events_endpoint(),
                          .api_endpoint = run.service.api_endpoint(),
                          .follow_ups_endpoint = eda::ephemeral_endpoint(s.common.transport, role),
                          .work_time = role == s.slow ? std::chrono::milliseconds(s.slow_ms) : 0ms,
                          .checkpoint = &checkpoint,
                          .security = run.curve.both()};
  const Reaction reaction = counted_reaction(run, role);
  auto consumer = std::make_unique<Consumer>(run.context, options, reaction);
  options.follow_ups_endpoint = consumer->follow_ups_endpoint();  // to come back to
  {
    const std::lock_guard lock(run.stats_mutex);
    run.follow_up_endpoints.push_back(consumer->follow_ups_endpoint());
  }
  run.bound.raise();
  // With --trace, the tap joins before the first reaction, so its trees are whole.
  if (s.trace && !consumer->follow_ups().wait_for_subscribers(1, 15s)) {
    run.say.say(role, "the trace's tap did not join; its follow-ups are missing from the trace");
  }
  if (!consumer->start(10s)) {
    run.say.say(role, "could not reach the Order service");
    run.ready.raise();
    return;
  }
  if (role == s.down) {
    down_then_back(run, consumer, options, reaction, checkpoint);
  } else {
    run.ready.raise();
  }
  const eda::Deadline deadline(120s);
  while (consumer->last_processed() < s.common.count && !deadline.expired() &&
         !eda::cli::stop_requested() && !run.no_more_orders) {
    try {
      (void)consumer->poll(20ms);
    } catch (const eda::RpcTimeout& e) {
      run.say.say(role, std::string("the Order service does not answer: ") + e.what());
    }
  }
  const std::lock_guard lock(run.stats_mutex);
  run.final_stats[role] = consumer->stats();
}

}  // namespace

PatternRun::PatternRun(const Settings& run_settings, Narrator& narrator,
                       zmq::context_t& run_context, const CurveSetup& run_curve)
    : settings(run_settings),
      say(narrator),
      context(run_context),
      curve(run_curve),
      service(run_context,
              {.events_endpoint = eda::ephemeral_endpoint(run_settings.common.transport, "orders"),
               .api_endpoint = eda::ephemeral_endpoint(run_settings.common.transport, "order-api"),
               .security = run_curve.server()}) {}

PatternRun::~PatternRun() {
  no_more_orders = true;
  half_placed.raise();
  for (auto& t : consumers) {
    if (t.joinable()) t.join();
  }
  service_done = true;
  if (service_thread.joinable()) service_thread.join();
}

void open_order_service(PatternRun& run) {
  run.say.heading(
      "Event notification: the Order service publishes a thin OrderPlaced and moves on");
  run.say.say("order-service", "publishes on " + run.service.events_endpoint() + ", API on " +
                                   run.service.api_endpoint());
  run.service_thread = std::thread(
      [&run] { run.service.serve_while([&run] { return !run.service_done.load(); }, 5ms); });
}

void start_consumers(PatternRun& run) {
  for (const auto role_view : downstream_roles) {
    run.consumers.emplace_back([&run, role = std::string(role_view)] {
      // An error ends this consumer, not the demo: it is reported and the summary shows it.
      try {
        consume(run, role);
      } catch (const std::exception& e) {
        run.say.say(role, std::string("stopped by an error: ") + e.what());
        run.bound.raise();  // at worst counted twice: it only lets the demo go on sooner
        run.ready.raise();
      }
    });
  }
  (void)run.bound.wait_for(3, 15s);
}

void start_trace(PatternRun& run) {
  if (run.settings.trace) {
    std::vector<std::string> tapped{run.service.events_endpoint()};
    {
      const std::lock_guard lock(run.stats_mutex);
      tapped.insert(tapped.end(), run.follow_up_endpoints.begin(), run.follow_up_endpoints.end());
    }
    run.say.say("tracer", "taps the Order service and the consumers' follow-ups");
    run.trace.emplace(run.context, eda::trace::DemoTraceOptions{.endpoints = tapped,
                                                                .security = run.curve.client()});
  }
  (void)run.ready.wait_for(3, 15s);
}

void customer_places_orders(PatternRun& run) {
  const std::size_t orders = run.settings.common.count;
  eda::RpcClient customer(
      run.context,
      {.endpoint = run.service.api_endpoint(), .timeout = 5s, .security = run.curve.client()});
  try {
    for (std::uint64_t n = 1; n <= orders && !eda::cli::stop_requested(); ++n) {
      const std::int64_t start = eda::monotonic_ns();
      const auto id = customer.call<std::uint64_t>(method::place_order, sample_order(n));
      run.place_latency.record(eda::monotonic_ns() - start);
      run.placed.push_back(id);
      run.say.say("customer",
                  "order " + std::to_string(id) + " placed in " +
                      eda::format_duration(eda::monotonic_ns() - start) +
                      " (the Order service published OrderPlaced and answered at once)");
      if (n == (orders + 1) / 2) run.half_placed.raise();
    }
  } catch (const std::exception& e) {
    // A call a stop request cut short is not a failure: the run is stopping.
    if (!eda::cli::stop_requested()) run.customer_failure = e.what();
    run.no_more_orders = true;  // no more orders will come: the consumers stop waiting for them
  }
}

void wind_down(PatternRun& run) {
  run.half_placed.raise();
  for (auto& t : run.consumers) t.join();
  run.service_done = true;
  run.service_thread.join();
  if (!run.customer_failure.empty()) {
    throw std::runtime_error("the customer could not place its orders: " + run.customer_failure);
  }
}

void say_stopped(PatternRun& run) {
  run.say.say("demo", "stopped: " + std::to_string(run.placed.size()) + " of " +
                          std::to_string(run.settings.common.count) +
                          " orders placed; nothing kept (the replay buffer and the consumers' "
                          "checkpoints lived in this process)");
}

bool summary(PatternRun& run) {
  const std::size_t orders = run.settings.common.count;
  const OrderServiceStats& service = run.service.stats();
  run.say.heading("Summary (event notification)");
  std::cout << "PlaceOrder as the customer saw it: " << run.place_latency.summary().to_string()
            << '\n'
            << "Order service: " << service.orders << " orders, " << service.fetch_backs
            << " fetch-backs served ("
            << (orders ? static_cast<double>(service.fetch_backs) / static_cast<double>(orders)
                       : 0.0)
            << " per order), " << service.replays << " replays\n";
  for (const auto& [role, st] : run.final_stats) {
    std::cout << "  " << role << ": handled " << st.handled << ", fetch-backs " << st.fetch_backs
              << ", caught up from the replay buffer " << st.replayed << ", duplicates skipped "
              << st.duplicates << ", lost " << st.lost << '\n';
  }
  bool effectively_once = true;
  for (const auto role_view : downstream_roles) {
    const std::string role(role_view);
    const std::string problems = once_each(run.placed, run.reactions[role]);
    if (!problems.empty()) {
      effectively_once = false;
      std::cout << "  " << role << ": " << problems << '\n';
    }
  }
  std::cout << (effectively_once ? "effectively once: every consumer handled each of the " +
                                       std::to_string(run.placed.size()) + " orders exactly once\n"
                                 : "NOT effectively once: a consumer missed an order or handled "
                                   "one twice (see above)\n");
  if (run.trace) {
    // Each order: OrderPlaced, then one follow-up from each of the three consumers.
    (void)run.trace->report(std::cout, orders * (1 + std::size(downstream_roles)));
  }
  return effectively_once;
}

}  // namespace eda::notification::demo
