// The same checkouts choreographed, all in one process: no orchestrator. The Order desk and the
// three participants each publish their outbox through a relay and subscribe to the other
// three's events; each reacts by its own rules (choreography.hpp). The desk narrates every event
// it sees with the event it reacted to: the causal chain that is the only record of where a
// choreographed checkout stands.
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "demo.hpp"
#include "eda/clock.hpp"
#include "eda/pubsub.hpp"
#include "eda/saga/choreography.hpp"
#include "eda/saga/inventory.hpp"
#include "eda/saga/outbox_relay.hpp"
#include "eda/saga/payment.hpp"
#include "eda/saga/shipping.hpp"
#include "eda/trace/demo_trace.hpp"

namespace eda::saga::demo {
namespace {

using namespace std::chrono_literals;
constexpr auto durability = sqlite::Durability::normal;

/// One service of the choreography on the wire: its outbox published by a relay, the other
/// services' events taken from a subscriber and handed to `react`.
class Member {
 public:
  Member(zmq::context_t& context, const std::string& name, const std::string& db_path,
         Transport transport, std::function<void(const DecodedEvent&)> react)
      : context_(context),
        name_(name),
        react_(std::move(react)),
        publisher_(context, {.source = name, .endpoints = {ephemeral_endpoint(transport, name)}}),
        relay_(context, db_path, publisher_) {}

  /// Subscribes to the others' publishers.
  void listen(const std::vector<std::string>& others) {
    inbox_.emplace(context_,
                   SubscriberOptions{.endpoints = others, .name = name_, .drop_duplicates = false});
  }

  /// Takes what arrived, reacts, relays what the reactions wrote.
  void poll(std::chrono::milliseconds wait) {
    (void)publisher_.serve(0ms);
    for (int i = 0; i < 1000; ++i) {
      auto delivery = inbox_->receive(i == 0 ? wait : 0ms);
      if (!delivery) break;
      react_(delivery->event);
    }
    while (relay_.relay_batch() > 0) {
    }
  }

  [[nodiscard]] const std::string& endpoint() const { return publisher_.endpoints().front(); }
  [[nodiscard]] bool ready() const { return inbox_ && inbox_->handshake_complete(); }
  [[nodiscard]] std::size_t subscribers() const { return publisher_.subscriber_count(); }

 private:
  zmq::context_t& context_;
  std::string name_;
  std::function<void(const DecodedEvent&)> react_;
  Publisher publisher_;
  OutboxRelay relay_;
  std::optional<Subscriber> inbox_;
};

/// The Order desk, the three participants and their reactors, wired.
class ChoreographedShop {
 public:
  ChoreographedShop(const Settings& s, Narrator& say, zmq::context_t& context,
                    const WorkFolder& dir)
      : say_(say),
        desk_(dir.file("desk.db"), {.durability = durability}),
        inventory_(dir.file("inventory.db"), {.durability = durability}),
        payment_(dir.file("payment.db"), {.durability = durability}),
        shipping_(dir.file("shipping.db"), {.durability = durability}),
        inventory_reactor_(
            inventory_.path(), inventory_.commands(), inventory_reaction,
            [this](const DecodedEvent& c) { return inventory_.handle(c); }, durability),
        payment_reactor_(
            payment_.path(), payment_.commands(), payment_reaction,
            [this](const DecodedEvent& c) { return payment_.handle(c); }, durability),
        shipping_reactor_(
            shipping_.path(), shipping_.commands(), shipping_reaction,
            [this](const DecodedEvent& c) { return shipping_.handle(c); }, durability) {
    const Transport t = s.common.transport;
    members_.push_back(std::make_unique<Member>(context, "order-desk", dir.file("desk.db"), t,
                                                [this](const DecodedEvent& e) { seen(e); }));
    members_.push_back(std::make_unique<Member>(
        context, "inventory", inventory_.path(), t,
        [this](const DecodedEvent& e) { (void)inventory_reactor_.react(e); }));
    members_.push_back(std::make_unique<Member>(
        context, "payment", payment_.path(), t,
        [this](const DecodedEvent& e) { (void)payment_reactor_.react(e); }));
    members_.push_back(std::make_unique<Member>(
        context, "shipping", shipping_.path(), t,
        [this](const DecodedEvent& e) { (void)shipping_reactor_.react(e); }));
    for (auto& member : members_) {
      std::vector<std::string> others;
      for (const auto& other : members_) {
        if (other != member) others.push_back(other->endpoint());
      }
      member->listen(others);
    }
    const std::uint64_t on_shelf = inventory_.ledger().available("SKU-1");
    if (on_shelf < 10) inventory_.stock_up("SKU-1", 10 - on_shelf);
  }

  [[nodiscard]] std::vector<std::string> publishers() const {
    std::vector<std::string> all;
    for (const auto& member : members_) all.push_back(member->endpoint());
    return all;
  }

  void poll_once() {
    for (auto& member : members_) member->poll(member == members_.front() ? 1ms : 0ms);
  }

  bool pump(const std::function<bool()>& done, std::chrono::milliseconds limit) {
    return poll_until([this] { poll_once(); }, done, limit);
  }

  bool connect() {
    return pump(
        [this] {
          for (const auto& member : members_) {
            if (!member->ready() || member->subscribers() != members_.size() - 1) return false;
          }
          return true;
        },
        15s);
  }

  /// The customer places an order; the desk announces it, and the services take it from there.
  bool checkout(const CheckoutRequest& request) {
    say_.say("customer", "checks out order " + std::to_string(request.order_id) + ", card " +
                             request.card + ", address '" + request.address + "'");
    type_of_[desk_.place(request)] = std::string(OrderPlaced::event_type);
    say_.say("order-desk", "order " + std::to_string(request.order_id) +
                               " PENDING; OrderPlaced is in its outbox");
    const bool settled =
        pump([&] { return desk_.status(request.order_id) != OrderStatus::pending; }, 30s);
    // The desk settles on the last event; undoing may still be relayed a moment after.
    (void)pump([] { return false; }, 100ms);
    const auto status = desk_.status(request.order_id);
    say_.say("order-desk", "order " + std::to_string(request.order_id) + " is " +
                               std::string(status ? to_string(*status) : "unknown"));
    return settled;
  }

  OrderDesk& desk() { return desk_; }
  Inventory& inventory() { return inventory_; }
  Payment& payment() { return payment_; }
  Shipping& shipping() { return shipping_; }

 private:
  /// The desk sees every other service's event: it settles orders and narrates the chain.
  void seen(const DecodedEvent& event) {
    type_of_[std::string(event.event_id())] = std::string(event.type());
    const auto cause = type_of_.find(event.meta().causation_id);
    say_.say(event.meta().source, std::string(event.type()) + "   (reacting to " +
                                      (cause == type_of_.end() ? "?" : cause->second) + ")");
    (void)desk_.react(event);
  }

  Narrator& say_;
  OrderDesk desk_;
  Inventory inventory_;
  Payment payment_;
  Shipping shipping_;
  Reactor inventory_reactor_;
  Reactor payment_reactor_;
  Reactor shipping_reactor_;
  std::vector<std::unique_ptr<Member>> members_;
  std::map<std::string, std::string> type_of_;  // event id -> type, for the narration
};

}  // namespace

int run_choreography(const Settings& s, Narrator& say) {
  const WorkFolder dir(s.dir, "saga-demo-choreography");
  zmq::context_t context;
  ChoreographedShop shop(s, say, context, dir);
  say.heading("The checkout, choreographed: no orchestrator, each service reacts to events");
  std::optional<trace::DemoTrace> trace;
  if (!connect_and_trace(s, say, context, shop, trace, "the four services' publishers")) return 1;
  say.heading("1. A checkout that completes");
  bool told = shop.checkout(sample_checkout(1, 2));
  say.heading("2. A declined card: Inventory releases the stock when it hears PaymentDeclined");
  CheckoutRequest declined = sample_checkout(2, 1);
  declined.card = std::string(declined_card);
  told = told && shop.checkout(declined);
  say.heading("3. No address: the carrier refuses, Payment refunds, Inventory releases");
  CheckoutRequest nowhere = sample_checkout(3, 1);
  nowhere.address = "";
  told = told && shop.checkout(nowhere);
  if (cli::stop_requested()) {
    say.say("demo", "stopped");
    return 0;
  }
  say.heading("Summary (choreography)");
  // Only order 1 completed: 2 units held, 20.00 captured, one parcel; nothing else left over.
  const bool balanced = shop.desk().pending_count() == 0 && shop.inventory().ledger().held() == 2 &&
                        shop.payment().captured_cents() == 2000 &&
                        shop.shipping().booked_count() == 1;
  std::cout << "orders pending: " << shop.desk().pending_count() << "; stock held "
            << shop.inventory().ledger().held() << ", captured cents "
            << shop.payment().captured_cents() << ", parcels booked "
            << shop.shipping().booked_count() << " -> "
            << (balanced ? "balanced (order 1's effects only)" : "NOT balanced") << '\n'
            << "Nobody holds the flow: to see where a checkout stands, follow its correlation "
               "id across the services' events (--trace draws each checkout's causal tree).\n";
  if (trace) (void)trace->report(std::cout, 0);
  return told && balanced ? 0 : 1;
}

}  // namespace eda::saga::demo
