// The same checkouts choreographed, all in one process: no orchestrator. The Order desk and the
// three participants each publish their outbox through a relay and subscribe to the other
// three's events; each reacts by its own rules (choreography.hpp). The desk narrates every event
// it sees with the event it reacted to: the causal chain that is the only record of where a
// choreographed checkout stands.
#include <iostream>
#include <thread>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "choreography_member.hpp"
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
constexpr std::uint64_t stalled_order = 4;  // scene 4: Shipping hangs on its booking

/// The Order desk, the three participants and their reactors, wired.
class ChoreographedShop {
 public:
  ChoreographedShop(const Settings& s, Narrator& say, zmq::context_t& context,
                    const WorkFolder& dir)
      : say_(say),
        desk_(dir.file("desk.db"),
              {.durability = durability,
               .order_timeout = std::chrono::milliseconds(s.order_timeout_ms)}),
        inventory_(dir.file("inventory.db"), {.durability = durability}),
        payment_(dir.file("payment.db"), {.durability = durability}),
        shipping_(dir.file("shipping.db"),
                  {.durability = durability, .carrier = stalling_carrier(s)}),
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
    members_.push_back(std::make_unique<ChoreographyMember>(
        context, "order-desk", dir.file("desk.db"), ephemeral_endpoint(t, "order-desk"),
        [this](const DecodedEvent& e) { seen(e); }, [this] { expire(); }));
    members_.push_back(std::make_unique<ChoreographyMember>(
        context, "inventory", inventory_.path(), ephemeral_endpoint(t, "inventory"),
        [this](const DecodedEvent& e) { (void)inventory_reactor_.react(e); }));
    members_.push_back(std::make_unique<ChoreographyMember>(
        context, "payment", payment_.path(), ephemeral_endpoint(t, "payment"),
        [this](const DecodedEvent& e) { (void)payment_reactor_.react(e); }));
    members_.push_back(std::make_unique<ChoreographyMember>(
        context, "shipping", shipping_.path(), ephemeral_endpoint(t, "shipping"),
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
  /// Scene 4's carrier: it hangs on order 4's booking past the desk's deadline, then accepts.
  static Carrier stalling_carrier(const Settings& s) {
    return [stall = std::chrono::milliseconds(s.order_timeout_ms + 500)](
               const BookParcel& booking) -> std::optional<std::string> {
      if (booking.order_id == stalled_order) std::this_thread::sleep_for(stall);
      if (booking.address.empty()) return "no address to ship to";
      return std::nullopt;
    };
  }

  /// The desk's deadlines: an order still PENDING past its deadline is timed out.
  void expire() {
    const std::uint64_t before = announced_;
    const std::uint64_t position = desk_.outbox().last_position();
    announced_ += desk_.expire();
    if (announced_ > before) {
      // Its own events too, so the undos they cause can be narrated with their cause.
      for (const OutboxRow& row : desk_.outbox().read(position + 1, 1000)) {
        const DecodedEvent event = DecodedEvent::decode(row.envelope);
        type_of_[std::string(event.event_id())] = std::string(event.type());
      }
      say_.say("order-desk",
               "an order passed its deadline: OrderTimedOut announced; every "
               "service undoes its step, and refuses it if it comes later");
    }
  }

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
  std::vector<std::unique_ptr<ChoreographyMember>> members_;
  std::uint64_t announced_ = 0;                 // OrderTimedOut events announced
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
  say.heading(
      "4. Shipping hangs past the order's deadline: the Order desk times the order out, "
      "every service undoes, the late booking is cancelled");
  told = told && shop.checkout(sample_checkout(stalled_order, 1));
  const std::optional<ParcelRecord> late = shop.shipping().find(stalled_order);
  const bool timed_out = shop.desk().timed_out(stalled_order) &&
                         shop.desk().status(stalled_order) == OrderStatus::rejected && late &&
                         late->status != ParcelStatus::booked;
  say.say("books",
          "order 4: " + std::string(timed_out ? "timed out and REJECTED" : "NOT timed out") +
              "; its parcel " +
              (late && late->parcel_id.empty() ? "was never booked"
                                               : "was booked late, then cancelled"));
  if (cli::stop_requested()) {
    say.say("demo", "stopped");
    return 0;
  }
  say.heading("Summary (choreography)");
  // Only order 1 completed: 2 units held, 20.00 captured, one parcel; nothing else left over.
  const bool balanced =
      timed_out && shop.desk().pending_count() == 0 && shop.inventory().ledger().held() == 2 &&
      shop.payment().captured_cents() == 2000 && shop.shipping().booked_count() == 1;
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
