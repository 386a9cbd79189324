#include "roles.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>

#include "eda/cli.hpp"
#include "eda/clock.hpp"
#include "eda/cqrs/command_service.hpp"
#include "eda/cqrs/projector.hpp"
#include "eda/cqrs/query_service.hpp"
#include "eda/sourcing/open_store.hpp"
#include "eda/sourcing/store_service.hpp"
#include "eda/sourcing/subscription.hpp"
#include "story.hpp"

namespace eda::cqrs::demo {

using namespace std::chrono_literals;
using namespace sourcing;

namespace {

bool is_endpoint(const std::string& spec) {
  return spec.starts_with("tcp://") || spec.starts_with("ipc://") || spec.starts_with("inproc://");
}

/// The event store a spec names: a store service (`sourcing-demo --role store`) when it is an
/// endpoint — the way to run the roles on several machines — else whatever open_event_store()
/// opens: a SQLite file (FILE or sqlite:FILE) or a PostgreSQL database (postgresql://...).
std::unique_ptr<EventStore> open_store(zmq::context_t& context, const std::string& spec,
                                       const eda::CurveSetup& curve) {
  if (spec.empty()) {
    throw std::invalid_argument(
        std::string("--store is required: a store service endpoint (tcp://...) or ") +
        accepted_store_specs());
  }
  if (is_endpoint(spec)) {
    return std::make_unique<RemoteEventStore>(
        context, RpcClientOptions{.endpoint = spec, .timeout = 2s, .security = curve.client()});
  }
  return open_event_store(spec);
}

/// The store a spec names, as narration prints it (never with a password).
std::string describe_store(const std::string& spec) {
  return is_endpoint(spec) ? "service " + spec : describe_store_spec(spec);
}

void require(const std::string& value, const char* flag) {
  if (value.empty()) throw std::invalid_argument(std::string(flag) + " is required for this role");
}

/// Runs `serve_once(tick)` until stopped or out of time, calling `report` once a second.
template <class Serve, class Report>
void serve_until_stopped(const RoleSettings& s, Serve serve, Report report) {
  const Deadline done(std::chrono::seconds(s.run_for_s));
  Deadline next_report(1s);
  while (!eda::cli::stop_requested() && !done.expired()) {
    serve();
    if (next_report.expired()) {
      report();
      next_report = Deadline(1s);
    }
  }
  report();
}

}  // namespace

int run_command_role(const RoleSettings& s, Narrator& say) {
  require(s.commands, "--commands");
  zmq::context_t context;
  const auto curve = eda::cli::curve_setup(context, s.curve_keys);
  std::unique_ptr<EventStore> store = open_store(context, s.store, curve);
  // A local store announces its appends itself; a remote store service announces its own.
  std::optional<NotifyingEventStore> notifying;
  if (!is_endpoint(s.store) && !s.appends.empty())
    notifying.emplace(*store, context, s.appends, curve.server());
  CommandService service(context, notifying ? static_cast<EventStore&>(*notifying) : *store,
                         {.endpoints = {s.commands}, .security = curve.server()});
  say.say("command-side",
          "serving commands on " + service.endpoints().front() + " over the store " +
              describe_store(s.store) +
              (notifying ? ", announcing appends on " + notifying->endpoint() : ""));
  std::uint64_t reported = 0;
  serve_until_stopped(
      s,
      [&] {
        (void)service.serve_once(50ms);
        if (notifying) notifying->serve(0ms);  // projectors joining complete their handshake
      },
      [&] {
        const RpcServerStats& stats = service.stats();
        if (stats.served + stats.failed == reported) return;
        reported = stats.served + stats.failed;
        say.say("command-side", std::to_string(stats.served) + " commands accepted, " +
                                    std::to_string(stats.failed) + " refused or failed");
      });
  if (is_endpoint(s.store)) {
    say.say("command-side", "stopped: " + std::to_string(service.stats().served) +
                                " commands accepted; their events are in the store service " +
                                s.store);
  } else {
    say.say("command-side", "stopped: the store keeps " + std::to_string(store->last_position()) +
                                " events in " + describe_store(s.store));
  }
  return 0;
}

int run_projector_role(const RoleSettings& s, Narrator& say) {
  require(s.read, "--read");
  zmq::context_t context;
  const auto curve = eda::cli::curve_setup(context, s.curve_keys);
  std::unique_ptr<EventStore> store = open_store(context, s.store, curve);
  ReadModels read({.path = s.read});
  if (!s.rebuild.empty()) {
    say.say("projector", "rebuilding " + s.rebuild + " from the beginning of the store");
    Deadline next_line(1s);
    const std::uint64_t events =
        rebuild(read, *store, s.rebuild, [&](std::uint64_t at, std::uint64_t last) {
          if (next_line.expired()) {
            say.say("projector", "  rebuilt up to position " + std::to_string(at) + " of " +
                                     std::to_string(last));
            next_line = Deadline(1s);
          }
        });
    say.say("projector", s.rebuild + " rebuilt from " + std::to_string(events) + " events");
  }
  Projector projector(*store, read, context,
                      {.store_notifications = s.appends,
                       .announce = s.progress.empty() ? std::vector<std::string>{}
                                                      : std::vector<std::string>{s.progress},
                       .security = curve.both()});
  say.say(
      "projector",
      "following the store " + describe_store(s.store) + " from position " +
          std::to_string(read.position() + 1) + " into " + s.read +
          (s.progress.empty() ? "" : ", announcing progress on " + *projector.announce_endpoint()));
  std::uint64_t reported = 0;
  bool store_down = false;
  serve_until_stopped(
      s,
      [&] {
        try {
          (void)projector.step(100ms);
          if (store_down) say.say("projector", "the store answers again; going on");
          store_down = false;
        } catch (const RpcTimeout&) {  // a remote store is down: wait for it, lose nothing
          if (!store_down)
            say.say("projector",
                    "the store " + describe_store(s.store) + " does not answer; waiting for it");
          store_down = true;
        }
      },
      [&] {
        if (projector.stats().events == reported) return;
        reported = projector.stats().events;
        say.say("projector", std::to_string(projector.stats().events) + " events applied in " +
                                 std::to_string(projector.stats().batches) +
                                 " batches; read models at position " +
                                 std::to_string(read.position()));
      });
  say.say("projector", "stopped: the read models in " + s.read + " are at position " +
                           std::to_string(read.position()) +
                           ", their checkpoints with them: a new run resumes there");
  return 0;
}

int run_query_role(const RoleSettings& s, Narrator& say) {
  require(s.read, "--read");
  require(s.queries, "--queries");
  zmq::context_t context;
  const auto curve = eda::cli::curve_setup(context, s.curve_keys);
  ReadModels read({.path = s.read});
  QueryService service(
      context, read, {.endpoints = {s.queries}, .projector = s.progress, .security = curve.both()});
  say.say("query-side",
          "answering queries on " + service.endpoints().front() + " from " + s.read +
              (s.progress.empty() ? "" : ", woken by the projector at " + s.progress));
  std::string reported;
  serve_until_stopped(
      s, [&] { (void)service.serve_once(50ms); },
      [&] {
        const QueryServiceStats& stats = service.stats();
        const std::string report =
            std::to_string(stats.answered) + " answered (" + std::to_string(stats.waited) +
            " after waiting for their token), " + std::to_string(stats.timeouts) + " timed out, " +
            std::to_string(service.waiting()) + " waiting now";
        if (report == reported) return;
        reported = report;
        say.say("query-side",
                report + "; read models at position " + std::to_string(read.position()));
      });
  say.say("query-side", "stopped: " + std::to_string(service.stats().answered) +
                            " queries answered; nothing kept (" + s.read + " is the projector's)");
  return 0;
}

int run_client_role(const RoleSettings& s, Narrator& say) {
  require(s.commands, "--commands");
  require(s.queries, "--queries");
  zmq::context_t context;
  const auto curve = eda::cli::curve_setup(context, s.curve_keys);
  CommandClient commands(context,
                         {.endpoint = s.commands, .timeout = 5s, .security = curve.client()});
  QueryClient queries(context, {.endpoint = s.queries, .timeout = 5s, .security = curve.client()});
  const auto commands_to_send = story(s.first_order, s.count);
  std::size_t answered = 0;
  const auto stopped = [&] {
    say.say("client", "stopped: " + std::to_string(answered) + " of " +
                          std::to_string(commands_to_send.size()) +
                          " commands answered; the store keeps the events of those accepted");
    return 0;
  };
  std::uint64_t token = 0;
  try {
    for (const auto& [order, command] : commands_to_send) {
      if (eda::cli::stop_requested()) return stopped();
      try {
        const CommandAccepted accepted = commands.execute(order, command);
        token = accepted.position;
        say.say("client", "order " + std::to_string(order) + ": " + describe(command) +
                              " -> position " + std::to_string(accepted.position));
      } catch (const CommandRefused& e) {
        say.say("client", "order " + std::to_string(order) + ": " + describe(command) + " -> " +
                              e.status() + ": " + e.what());
      }
      ++answered;
    }
    for (const std::string& customer : customers()) {
      if (eda::cli::stop_requested()) return stopped();
      const auto orders = queries.customer_orders(customer, {.min_position = token, .wait = 10s});
      say.say("client",
              customer + "'s orders, as of position " + std::to_string(orders.position) + ":");
      for (const OrderSummary& order : orders.rows) say.say("client", "  " + describe(order));
    }
  } catch (const RpcTimeout&) {
    if (!eda::cli::stop_requested())
      throw;  // else the kit reports a call whose wait the stop cut short as unanswered
    return stopped();
  }
  return 0;
}

}  // namespace eda::cqrs::demo
