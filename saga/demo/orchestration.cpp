// The orchestrated checkout, all in one process and narrated: the Order saga orchestrator and
// the three participants, each behind its own sockets and with its own database, one thread
// polling them in turn. What the reader sees is each saga's own stream (the orchestrator's
// state is event-sourced), printed as it grows.
#include <iostream>
#include <map>
#include <memory>
#include <optional>

#include "demo.hpp"
#include "eda/clock.hpp"
#include "eda/saga/checkout_audit.hpp"
#include "eda/saga/checkout_messages.hpp"
#include "eda/saga/checkout_transport.hpp"
#include "eda/sourcing/sqlite_store.hpp"
#include "eda/trace/demo_trace.hpp"

namespace eda::saga::demo {
namespace {

using namespace std::chrono_literals;

/// Money in words: `20.00`.
std::string money(std::uint64_t cents) {
  const std::string rest = std::to_string(cents % 100);
  return std::to_string(cents / 100) + "." + (rest.size() == 1 ? "0" + rest : rest);
}

/// The four services wired together over the kit's transport.
class WiredCheckout {
 public:
  WiredCheckout(const Settings& s, Narrator& say, zmq::context_t& context, const WorkFolder& dir)
      : settings_(s),
        say_(say),
        context_(context),
        dir_(dir),
        inventory_(dir.file("inventory.db"), {.durability = sqlite::Durability::normal}),
        payment_(dir.file("payment.db"), {.durability = sqlite::Durability::normal}),
        shipping_(dir.file("shipping.db"), {.durability = sqlite::Durability::normal}) {
    // The command publisher is bound again by the orchestrator that replaces a crashed one, and
    // the participants reconnect to it: inproc cannot reconnect, so it is ipc then.
    const Transport commands = s.common.transport == Transport::inproc ? Transport::ipc
                                                                       : s.common.transport;
    open_orchestrator(ephemeral_endpoint(commands, "saga-commands"));
    command_endpoint_ = orchestrator_->command_endpoints().front();
    inventory_host_.emplace(context_, inventory_.path(),
                            [this](const DecodedEvent& c) { return inventory_.handle(c); },
                            wiring("inventory", inventory_commands));
    payment_host_.emplace(context_, payment_.path(),
                          [this](const DecodedEvent& c) { return payment_.handle(c); },
                          wiring("payment", payment_commands));
    shipping_host_.emplace(context_, shipping_.path(),
                           [this](const DecodedEvent& c) { return shipping_.handle(c); },
                           wiring("shipping", shipping_commands));
    const std::uint64_t on_shelf = inventory_.ledger().available("SKU-1");
    if (on_shelf < 10) inventory_.stock_up("SKU-1", 10 - on_shelf);
  }

  /// Subscribes the orchestrator to the replies and waits until every subscription on both
  /// sides is confirmed; false when that took longer than 15 s.
  bool connect() {
    orchestrator_->listen(reply_endpoints());
    return pump([this] { return connected(); }, 15s);
  }

  /// Every publisher of the run: the orchestrator's commands, then the three reply publishers.
  [[nodiscard]] std::vector<std::string> publishers() const {
    std::vector<std::string> all{command_endpoint_};
    for (const std::string& e : reply_endpoints()) all.push_back(e);
    return all;
  }

  /// Lets every service that is up take what waits for it, once.
  void poll_once() {
    (void)orchestrator_->poll(1ms);
    (void)inventory_host_->poll(0ms);
    if (!payment_stalled) (void)payment_host_->poll(0ms);
    if (!shipping_stalled) (void)shipping_host_->poll(0ms);
    narrate();
  }

  /// Polls until `done` (at most `limit`); false if it did not come.
  bool pump(const std::function<bool()>& done, std::chrono::milliseconds limit) {
    return poll_until([this] { poll_once(); }, done, limit);
  }

  /// Starts a checkout and follows its saga in the narration.
  void start(const CheckoutRequest& request) {
    say_.say("customer", "checks out order " + std::to_string(request.order_id) + ": " +
                             std::to_string(request.quantity) + " x " + request.sku + ", " +
                             money(request.amount_cents) + ", card " + request.card);
    orchestrator().start(request);
    told_[request.order_id] = 0;
    narrate();
  }

  /// Runs until the saga of `order_id` has ended (at most 30 s).
  bool finish(std::uint64_t order_id) {
    return pump([&] { return ended(order_id); }, 30s);
  }

  /// Whether the saga of `order_id` has ended.
  [[nodiscard]] bool ended(std::uint64_t order_id) {
    const auto saga = orchestrator_->orchestrator().find(order_id);
    return saga && saga->terminal();
  }

  /// The orchestrator dies: its sockets, its memory and whatever was in flight to it are gone;
  /// only its event store (orders.db) is left. A new one is built from the store and resumes.
  bool crash_and_restart_orchestrator() {
    orchestrator_.reset();
    store_.reset();
    say_.say("order-saga", "CRASHED: sockets, memory and messages in flight are gone; "
                           "orders.db is all that is left");
    open_orchestrator(command_endpoint_);
    const OrchestratorCounters& found = orchestrator().counters();
    say_.say("order-saga", "a new orchestrator read orders.db: " + std::to_string(found.resumed) +
                               " saga(s) still running");
    if (!connect()) return false;
    const std::size_t resumed = orchestrator().resume();
    say_.say("order-saga", "resumed " + std::to_string(resumed) +
                               " saga(s): the command each waits on is sent again, same id");
    return true;
  }

  /// The orchestrator.
  CheckoutOrchestrator& orchestrator() { return orchestrator_->orchestrator(); }
  /// The participants.
  Inventory& inventory() { return inventory_; }
  Payment& payment() { return payment_; }
  Shipping& shipping() { return shipping_; }
  ParticipantHost& payment_host() { return *payment_host_; }

  /// A tracer taps the command publisher too: one more subscriber to wait for after a restart.
  void tapped() { taps_ = 1; }

  bool payment_stalled = false;   ///< Payment takes no message while set.
  bool shipping_stalled = false;  ///< Shipping takes no message while set.

 private:
  void open_orchestrator(const std::string& command_endpoint) {
    store_ = std::make_unique<sourcing::SqliteEventStore>(sourcing::SqliteStoreOptions{
        .path = dir_.file("orders.db"), .durability = sqlite::Durability::normal});
    orchestrator_.emplace(
        context_, *store_,
        OrchestratorHostOptions{
            .command_endpoints = {command_endpoint},
            .orchestrator = {.step_timeout = std::chrono::milliseconds(settings_.step_timeout_ms),
                             .first_retry = 200ms,
                             .max_retry = 1000ms}});
  }

  ParticipantHostOptions wiring(const std::string& name, std::string_view topic) const {
    return {.name = name,
            .command_topic = std::string(topic),
            .command_endpoints = {command_endpoint_},
            .reply_endpoints = {ephemeral_endpoint(settings_.common.transport, name + "-replies")}};
  }

  [[nodiscard]] std::vector<std::string> reply_endpoints() const {
    return {inventory_host_->reply_endpoints().front(), payment_host_->reply_endpoints().front(),
            shipping_host_->reply_endpoints().front()};
  }

  [[nodiscard]] bool connected() const {
    // (The tap counts among the publisher's subscribers: all three participants must be there.)
    return orchestrator_->ready() && orchestrator_->participants_subscribed() == 3 + taps_ &&
           inventory_host_->ready() && payment_host_->ready() && shipping_host_->ready();
  }

  /// Prints what each followed saga's stream gained since the last look.
  void narrate() {
    for (auto& [order_id, told] : told_) {
      const auto saga = orchestrator_->orchestrator().find(order_id);
      if (!saga) continue;
      for (; told < saga->path.size(); ++told) {
        say_.say("order-saga", "order " + std::to_string(order_id) + ": " + saga->path[told]);
      }
    }
  }

  const Settings& settings_;
  Narrator& say_;
  zmq::context_t& context_;
  const WorkFolder& dir_;
  Inventory inventory_;
  Payment payment_;
  Shipping shipping_;
  std::unique_ptr<sourcing::SqliteEventStore> store_;
  std::optional<OrchestratorHost> orchestrator_;
  std::string command_endpoint_;
  std::optional<ParticipantHost> inventory_host_;
  std::optional<ParticipantHost> payment_host_;
  std::optional<ParticipantHost> shipping_host_;
  std::map<std::uint64_t, std::size_t> told_;  // order -> path entries narrated
  std::size_t taps_ = 0;                       // tracers subscribed to the commands
};

/// What the books say about one order, in words.
std::string books_of(WiredCheckout& shop, std::uint64_t order_id) {
  const auto status = shop.orchestrator().order_status(order_id);
  const auto charge = shop.payment().find(order_id);
  const auto parcel = shop.shipping().find(order_id);
  return "order " + std::to_string(order_id) + " is " +
         std::string(status ? to_string(*status) : "unknown") + "; stock held for it: " +
         (shop.inventory().ledger().holds(order_id) ? "yes" : "no") + "; card: " +
         (charge ? std::string(charge->status == PaymentStatus::charged ? "charged"
                               : charge->status == PaymentStatus::refunded ? "refunded"
                                                                            : "not charged")
                 : "never asked") +
         "; parcel: " +
         (parcel ? std::string(parcel->status == ParcelStatus::booked ? "booked" : "not booked")
                 : "never asked");
}

bool scene_completes(WiredCheckout& shop, Narrator& say) {
  say.heading("1. A checkout that completes: reserve stock, charge the card, book the parcel");
  shop.start(sample_checkout(1, 2));
  if (!shop.finish(1)) return false;
  say.say("books", books_of(shop, 1));
  return true;
}

bool scene_declined(WiredCheckout& shop, Narrator& say) {
  say.heading("2. A declined card: the stock already reserved is released (compensation)");
  CheckoutRequest declined = sample_checkout(2, 1);
  declined.card = std::string(declined_card);
  shop.start(declined);
  if (!shop.finish(2)) return false;
  say.say("books", books_of(shop, 2));
  return true;
}

bool scene_crash(WiredCheckout& shop, Narrator& say) {
  say.heading("3. The orchestrator crashes mid-saga; a new one resumes from its event store");
  shop.payment_stalled = true;  // so the crash comes while ChargeCard is on its way
  shop.start(sample_checkout(3, 1));
  const bool charging = shop.pump(
      [&] {
        const auto saga = shop.orchestrator().find(3);
        return saga && saga->awaiting && saga->awaiting->step == Step::charge_card;
      },
      30s);
  if (!charging) return false;
  // Payment takes the command and replies while the orchestrator still lives: the reply waits
  // unread in the orchestrator's socket and dies with it.
  shop.payment_stalled = false;
  const std::uint64_t executed = shop.payment_host().counters().executed;
  if (!shop.pump([&] { return shop.payment_host().counters().executed > executed; }, 30s)) {
    return false;
  }
  say.say("payment", "charged the card for order 3; its reply is on its way");
  if (!shop.crash_and_restart_orchestrator()) return false;
  const std::uint64_t repeated = shop.payment_host().counters().repeated;
  if (!shop.finish(3)) return false;
  say.say("payment", "got ChargeCard again with the same command id: answered from its command "
                     "log, charged " +
                         std::string(shop.payment_host().counters().repeated > repeated
                                         ? "once (not twice)"
                                         : "once"));
  say.say("books", books_of(shop, 3));
  return true;
}

bool scene_stalled(const Settings& s, WiredCheckout& shop, Narrator& say) {
  say.heading("4. Shipping stalls for " + std::to_string(s.down_ms) +
              " ms (step timeout " + std::to_string(s.step_timeout_ms) +
              " ms): the saga waits, the order stays PENDING");
  shop.shipping_stalled = true;
  say.say("shipping", "stalls: takes no message (a paused process; its socket keeps the queue)");
  shop.start(sample_checkout(4, 1));
  const auto booking = [&] {
    const auto saga = shop.orchestrator().find(4);
    return saga && saga->awaiting && saga->awaiting->step == Step::book_parcel;
  };
  if (!shop.pump(booking, 30s)) return false;
  (void)shop.pump([] { return false; }, std::chrono::milliseconds(s.down_ms));
  const auto status = shop.orchestrator().order_status(4);
  say.say("order-saga", "order 4 is " + std::string(status ? to_string(*status) : "unknown") +
                            " (the semantic lock: nothing may ship, bill or count it yet)");
  shop.shipping_stalled = false;
  say.say("shipping", "is back and takes its queue");
  if (!shop.finish(4)) return false;
  say.say("books", books_of(shop, 4));
  return true;
}

}  // namespace

int run_orchestration(const Settings& s, Narrator& say) {
  const WorkFolder dir(s.dir, "saga-demo");
  zmq::context_t context;
  WiredCheckout shop(s, say, context, dir);
  say.heading("The checkout saga, orchestrated: Order saga orchestrator, Inventory, Payment, "
              "Shipping");
  say.say("demo", "databases in " + dir.path().string() +
                      (dir.temporary() ? " (removed at the end)" : ""));
  std::optional<trace::DemoTrace> trace;
  if (!connect_and_trace(s, say, context, shop, trace,
                         "the orchestrator's commands and the participants' replies")) {
    return 1;
  }
  if (trace) shop.tapped();
  const bool told = scene_completes(shop, say) && scene_declined(shop, say) &&
                    scene_crash(shop, say) && scene_stalled(s, shop, say);
  if (cli::stop_requested()) {
    say.say("demo", "stopped; the sagas not ended are in orders.db, a new run resumes them");
    return 0;
  }
  say.heading("Summary");
  const std::vector<std::string> violations =
      checkout_violations(shop.orchestrator(), shop.inventory(), shop.payment(), shop.shipping(),
                          1, 4);
  const OrchestratorCounters& c = shop.orchestrator().counters();
  std::cout << "sagas: " << (told ? "every scene ended" : "a scene did not end in time")
            << "; this orchestrator sent " << c.commands_sent << " commands, ignored "
            << c.replies_stale << " stale replies, saw " << c.timeouts << " timeouts\n"
            << "books: stock held " << shop.inventory().ledger().held() << ", captured "
            << money(shop.payment().captured_cents()) << ", parcels booked "
            << shop.shipping().booked_count() << " -> "
            << (violations.empty() ? "balanced (0 invariant violations)"
                                   : std::to_string(violations.size()) + " violations: " +
                                         violations.front())
            << '\n';
  if (trace) {
    // Each saga's commands and replies; fewer when Shipping's stall made the saga time out.
    (void)trace->report(std::cout, 0);
  }
  return told && violations.empty() ? 0 : 1;
}

}  // namespace eda::saga::demo
