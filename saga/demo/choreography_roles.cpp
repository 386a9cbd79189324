// saga-demo --style choreography --role ...: each service of the choreographed checkout as a
// process of its own. Every service publishes its outbox at its own endpoint (the Order desk at
// --desk, the participants at --inventory, --payment and --shipping) and subscribes to the other
// three; nobody sends commands. The desk places the orders, owns their deadlines and prints how
// each ended.
#include <iostream>
#include <utility>
#include <stdexcept>
#include <string>
#include <vector>

#include "choreography_member.hpp"
#include "demo.hpp"
#include "eda/saga/choreography.hpp"
#include "participant_role.hpp"

namespace eda::saga::demo {
namespace {

using namespace std::chrono_literals;

/// The endpoints of the participants but `me`.
std::vector<std::string> participants_but(const Settings& s, std::string_view me) {
  std::vector<std::string> others;
  for (const auto& [name, endpoint] :
       {std::pair<std::string_view, std::string>{"inventory", s.inventory},
        {"payment", s.payment},
        {"shipping", s.shipping}}) {
    if (name != me) others.push_back(endpoint);
  }
  return others;
}

int run_choreographed_participant(const Settings& s, Narrator& say) {
  OpenParticipant participant(s, shipping_options_of(s));
  const Reaction reaction = s.role == "inventory" ? Reaction(inventory_reaction)
                            : s.role == "payment" ? Reaction(payment_reaction)
                                                  : Reaction(shipping_reaction);
  Reactor reactor(participant.path, *participant.commands, reaction, participant.handle);
  std::uint64_t refused = 0;
  zmq::context_t context;
  ChoreographyMember member(context, s.role, participant.path, participant.reply_endpoint,
                            [&](const DecodedEvent& event) {
                              try {
                                (void)reactor.react(event);
                              } catch (const Error& e) {
                                // A bad event changes nothing: say so, and go on.
                                ++refused;
                                say.say(s.role, std::string("refused an event: ") + e.what());
                              }
                            });
  // The other two first, the desk once they have confirmed (see ChoreographyMember::listen).
  member.listen(participants_but(s, s.role), {s.desk});
  say.say(s.role, "publishes at " + member.endpoint() + ", hears the desk and the other two; " +
                      "database " + participant.path);
  const Deadline deadline = role_deadline(s);
  std::size_t heard_by = 0;
  std::uint64_t told = 0;
  while (!deadline.expired() && !cli::stop_requested()) {
    (void)cli::unless_stopped([&] { member.poll(100ms); });
    if (member.subscribers() != heard_by) {
      heard_by = member.subscribers();
      say.say(s.role, "heard by " + std::to_string(heard_by) + " of the other three services");
    }
    const ReactorCounters& c = reactor.counters();
    if (c.handled + c.duplicate + c.parked != told) {
      told = c.handled + c.duplicate + c.parked;
      say.say(s.role, "reacted to " + std::to_string(c.handled) + " event(s); heard " +
                          std::to_string(c.duplicate) + " twice; parked " +
                          std::to_string(c.parked) + " that came before their order");
    }
  }
  say.say(s.role, "stopped");
  return 0;
}

int run_desk(const Settings& s, Narrator& say) {
  const std::string path = database_of(s, "desk");
  OrderDesk desk(path, {.order_timeout = std::chrono::milliseconds(s.order_timeout_ms)});
  zmq::context_t context;
  ChoreographyMember member(
      context, "order-desk", path, s.desk,
      [&](const DecodedEvent& event) {
        if (desk.react(event)) {
          say.say("order-desk", std::string(event.type()) + " settled an order");
        }
      },
      [&] {
        if (const std::size_t announced = desk.expire(); announced > 0) {
          say.say("order-desk", std::to_string(announced) +
                                    " order(s) past their deadline: OrderTimedOut announced, "
                                    "every service undoes its step");
        }
      });
  member.listen(participants_but(s, "desk"));
  const Deadline connecting(60s);
  while (!(member.ready() && member.subscribers() == 3)) {
    if (connecting.expired() || cli::stop_requested()) {
      say.say("order-desk", "inventory, payment and shipping did not all connect within 60 s");
      return 1;
    }
    (void)cli::unless_stopped([&] { member.poll(10ms); });
  }
  say.say("order-desk", "connected to inventory, payment and shipping; orders time out after " +
                            std::to_string(s.order_timeout_ms) + " ms");
  const std::uint64_t last = s.first_order + s.common.count - 1;
  place_role_orders(s, say, "order-desk",
                    [&](const CheckoutRequest& request) { (void)desk.place(request); });
  const auto pending = [&] {
    std::uint64_t count = 0;
    for (std::uint64_t n = s.first_order; n <= last; ++n) {
      if (desk.status(n) == OrderStatus::pending) ++count;
    }
    return count;
  };
  const Deadline deadline(s.run_for_s > 0 ? std::chrono::seconds(s.run_for_s) : 120s);
  while (pending() > 0 && !deadline.expired() && !cli::stop_requested()) {
    (void)cli::unless_stopped([&] { member.poll(10ms); });
  }
  for (std::uint64_t n = s.first_order; n <= last; ++n) {
    const auto status = desk.status(n);
    say.say("order-desk",
            "order " + std::to_string(n) + ": " +
                std::string(status ? to_string(*status) : "unknown") +
                (desk.timed_out(n) ? " (timed out; every service undid its step)" : ""));
  }
  std::cout << "order-desk: " << pending() << " order(s) still PENDING\n";
  return pending() == 0 ? 0 : 1;
}

}  // namespace

int run_choreography_role(const Settings& s, Narrator& say) {
  if (s.role == "desk") return run_desk(s, say);
  if (s.role == "inventory" || s.role == "payment" || s.role == "shipping") {
    return run_choreographed_participant(s, say);
  }
  throw std::invalid_argument(
      "with --style choreography, --role is desk, inventory, payment or "
      "shipping (there is no orchestrator)");
}

}  // namespace eda::saga::demo
