#include "roles.hpp"

#include <chrono>
#include <memory>
#include <stdexcept>

#include "eda/cli.hpp"
#include "eda/clock.hpp"
#include "eda/rpc.hpp"
#include "eda/sourcing/memory_store.hpp"
#include "eda/sourcing/open_store.hpp"
#include "eda/sourcing/order_repository.hpp"
#include "eda/sourcing/store_service.hpp"
#include "eda/sourcing/subscription.hpp"
#include "narration.hpp"

namespace eda::sourcing::demo {

using namespace std::chrono_literals;

namespace {

/// A client of the store service; a writer waits longer for its answers than a reader, which
/// would rather say that the store is down and go on waiting.
RpcClientOptions client_of(const std::string& endpoint, std::chrono::milliseconds timeout,
                           int attempts, const eda::Security& security) {
  return RpcClientOptions{
      .endpoint = endpoint, .timeout = timeout, .attempts = attempts, .security = security};
}

std::string unreachable(const std::string& endpoint) {
  return "the store service at " + endpoint +
         " does not answer (is `sourcing-demo --role store` running there?)";
}

}  // namespace

int run_store_role(const RoleSettings& s, Narrator& say) {
  zmq::context_t context;
  const auto curve = eda::cli::curve_setup(context, s.curve_keys);
  std::unique_ptr<EventStore> durable;
  if (s.db.empty()) {
    durable = std::make_unique<InMemoryEventStore>();
  } else {
    durable = open_event_store(s.db);  // FILE, sqlite:FILE or postgresql://...
  }
  NotifyingEventStore notifying(*durable, context, s.notify, curve.server());
  StoreService service(context, notifying, {.endpoints = {s.listen}, .security = curve.server()});
  say.say("store", (s.db.empty() ? std::string("in memory") : describe_store_spec(s.db)) + ", " +
                       std::to_string(durable->last_position()) + " events in it; serving on " +
                       service.endpoints().front() + ", announcing appends on " +
                       notifying.endpoint());

  const Deadline done(std::chrono::seconds(s.run_for_s));
  Deadline next_report(1s);
  std::uint64_t reported_appends = 0;
  const auto report = [&] {
    const StoreServiceStats& stats = service.stats();
    if (stats.appends == reported_appends) return;
    reported_appends = stats.appends;
    say.say("store", std::to_string(stats.appends) + " appends in " + std::to_string(stats.groups) +
                         " commits, " + std::to_string(stats.reads) + " reads; last position " +
                         std::to_string(durable->last_position()));
  };
  while (!done.expired() && !eda::cli::stop_requested()) {
    (void)service.serve_once(20ms);
    notifying.serve(0ms);  // answers new readers' subscription handshakes
    if (next_report.expired()) {
      report();
      next_report = Deadline(1s);
    }
  }
  report();
  const std::string events = std::to_string(durable->last_position()) + " events";
  say.say("store", "stopped: " + (s.db.empty() ? events + " were in memory; nothing kept"
                                               : "the store keeps " + events +
                                                     ", every acknowledged append, in " +
                                                     describe_store_spec(s.db)));
  return 0;
}

int run_writer_role(const RoleSettings& s, Narrator& say) {
  zmq::context_t context;
  const auto curve = eda::cli::curve_setup(context, s.curve_keys);
  RemoteEventStore store(context, client_of(s.store, 2000ms, 3, curve.client()));
  std::uint64_t first = s.first_order;
  try {
    if (first == 0) first = store.last_position() + 1;
  } catch (const RpcTimeout&) {
    if (eda::cli::stop_requested()) {
      say.say("writer", "stopped before " + s.store + " answered; nothing written");
      return 0;
    }
    throw std::runtime_error(unreachable(s.store));
  }
  OrderRepository orders(store, {.source = "writer-" + std::to_string(first)});
  say.say("writer", "changing orders " + std::to_string(first) + " to " +
                        std::to_string(first + s.count - 1) + " through " + s.store);
  const auto commands = story(first, s.count);
  std::size_t done = 0;
  for (const auto& [order, command] : commands) {
    if (eda::cli::stop_requested()) break;
    try {
      run(say, orders, order, command, "writer");
      ++done;
    } catch (const RpcTimeout&) {
      if (eda::cli::stop_requested())
        break;  // the wait for the store's answer was cut short by the stop
      throw std::runtime_error(unreachable(s.store));
    }
  }
  if (eda::cli::stop_requested()) {
    say.say("writer", "stopped: " + std::to_string(done) + " of " +
                          std::to_string(commands.size()) + " commands answered by " + s.store +
                          " (the store keeps the events of those it accepted)");
    return 0;
  }
  say.say("writer", "done: " + std::to_string(s.count) + " orders written");
  return 0;
}

int run_reader_role(const RoleSettings& s, Narrator& say) {
  zmq::context_t context;
  const auto curve = eda::cli::curve_setup(context, s.curve_keys);
  RemoteEventStore store(context, client_of(s.store, 500ms, 1, curve.client()));
  CatchUpSubscription follow(store, context,
                             {.notifications = s.notify, .security = curve.client()});
  say.say("reader", "following " + s.store + " from position 1" +
                        (s.notify.empty() ? std::string(", polling") : ", woken by " + s.notify));
  const Deadline done(std::chrono::seconds(s.run_for_s));
  // Wakeups work once the store's publisher has confirmed the subscription; until then (the
  // store may not be up yet) the fallback poll still finds every event, only later.
  bool subscribed = s.notify.empty();
  bool store_down = false;
  std::uint64_t seen = 0;
  std::uint64_t last_position = 0;
  while (!done.expired() && !eda::cli::stop_requested() &&
         (s.until_position == 0 || last_position < s.until_position)) {
    try {
      if (!subscribed && follow.await_notifications(0ms)) {
        subscribed = true;
        say.detail("reader", "subscribed to " + s.notify);
      }
      const auto event = follow.next(200ms);
      if (store_down) {
        const std::uint64_t from = event ? event->position : follow.next_position();
        say.say("reader",
                "the store answers again; going on from position " + std::to_string(from));
      }
      store_down = false;
      if (!event) continue;
      say.say("reader", describe(*event));
      ++seen;
      last_position = event->position;
    } catch (const RpcTimeout&) {
      // The subscription keeps its place: the next read starts where this one would have.
      if (!store_down) say.say("reader", unreachable(s.store) + "; waiting for it");
      store_down = true;
    }
  }
  say.say("reader", "stopped: " + std::to_string(seen) + " events followed, up to position " +
                        std::to_string(last_position) + "; nothing kept (a reader holds no state)");
  return 0;
}

}  // namespace eda::sourcing::demo
