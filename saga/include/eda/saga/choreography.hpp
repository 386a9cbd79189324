/// @file choreography.hpp
/// @brief The same checkout with no orchestrator: each service reacts to the others' events.
///
/// The Order desk announces OrderPlaced; Inventory reacts by reserving (StockReserved or
/// StockRejected); Payment reacts to StockReserved by charging (PaymentCharged or
/// PaymentDeclined); Shipping reacts to PaymentCharged by booking (ParcelBooked or
/// ParcelRefused). Undoing runs backwards the same way: Payment refunds on ParcelRefused,
/// Inventory releases on PaymentDeclined or PaymentRefunded, and the Order desk approves the
/// order on ParcelBooked and rejects it on StockRejected or StockReleased.
///
/// @par Who knows the flow
/// Nobody, and everybody: each service knows only which events it reacts to (its Reaction
/// rules below). Adding a step means changing the services around it; the orchestrator has the
/// flow in one place (CheckoutOrchestrator::advance), and one stream per saga that says where it
/// stands. Here, where a checkout stands is found by following its events across the services:
/// they all carry the OrderPlaced event's id as their correlation id, and each names the event
/// it reacted to as its causation id, so the chain is a causal tree a tracer can draw.
///
/// @par Who owns the deadline
/// With no orchestrator, someone must notice that a checkout never ended. The Order desk does:
/// it is the one service that knows the order is PENDING, and it records a deadline with the
/// order. Past it (OrderDesk::expire), the desk announces OrderTimedOut, and every service
/// undoes its step on it whatever it did — Inventory releases, Payment refunds, Shipping
/// cancels. Each undo is idempotent and also *fences* the order: a step that arrives after it
/// (a late OrderPlaced, StockReserved or PaymentCharged) is refused, so a late reply is never
/// applied. The desk keeps the order PENDING until all three have confirmed (StockReleased,
/// PaymentRefunded, ParcelCancelled caused by its announcement), then rejects it; a ParcelBooked
/// that comes after the deadline no longer approves anything. While a confirmation is missing
/// (a refund the card network refused, a service still down), the desk announces the timeout
/// again at each further deadline, and the services undo again (a no-op where done).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <msgpack.hpp>

#include "eda/codec.hpp"
#include "eda/saga/checkout_saga.hpp"
#include "eda/saga/command_log.hpp"
#include "eda/saga/participant_database.hpp"
#include "eda/sqlite/database.hpp"

namespace eda::saga {

/// @brief Topic prefix of the Order desk's events.
inline constexpr std::string_view order_topic = "shop.order.";

/// @brief A customer checked out: the first event of a choreographed checkout.
struct OrderPlaced {
  /// @brief The event type, also the topic.
  static constexpr std::string_view event_type = "shop.order.placed";
  /// @brief The payload's shape version.
  static constexpr std::uint32_t schema_version = 1;
  CheckoutRequest order{};  ///< What was ordered, how it is paid and where it goes.
  MSGPACK_DEFINE(order)
};

/// @brief The Order desk gave up waiting for a checkout: every service undoes its step for the
///        order (and refuses the step if it comes later). Announced again, with the next
///        `attempt`, while a service has not confirmed its undo.
struct OrderTimedOut {
  /// @brief The event type, also the topic.
  static constexpr std::string_view event_type = "shop.order.timed-out";
  /// @brief The payload's shape version.
  static constexpr std::uint32_t schema_version = 1;
  CheckoutRequest order{};    ///< The order (a service that missed OrderPlaced learns it here).
  std::uint32_t attempt = 1;  ///< 1 for the first announcement, then 2, 3, ...
  MSGPACK_DEFINE(order, attempt)
};

/// @brief How an OrderDesk works.
struct OrderDeskOptions {
  sqlite::Durability durability = sqlite::Durability::full;  ///< How commits are kept.
  /// How long a checkout may stay PENDING before the desk cancels it (OrderTimedOut), and then
  /// how long it waits for the undos before announcing the timeout again.
  std::chrono::milliseconds order_timeout{5000};
  /// Wall-clock time now, ns since the Unix epoch (default: eda::wall_clock_ns). Deadlines are
  /// recorded as wall-clock instants, so they survive a restart of the desk.
  std::function<std::int64_t()> clock{};
};

/// @brief The Order desk of the choreography: takes orders (PENDING, with OrderPlaced in its
///        outbox, one transaction), settles them from the events that end a checkout, and owns
///        each checkout's deadline (see the file's comment).
///
/// @par Thread safety
/// One thread at a time.
class OrderDesk {
 public:
  /// @brief Opens (creating if needed) its database at `path`. Throws std::invalid_argument
  ///        for a timeout that is not positive, and eda::StorageError.
  explicit OrderDesk(const std::string& path, OrderDeskOptions options = {});

  /// @brief Records the order as PENDING and announces OrderPlaced; returns the event's id
  ///        (every event of the checkout carries it as correlation id). Throws
  ///        CheckoutRefused for an order id taken before.
  std::string place(const CheckoutRequest& request);

  /// @brief Settles a PENDING order from ParcelBooked (approved), StockRejected or StockReleased
  ///        (rejected); returns whether it changed an order. For an order past its deadline
  ///        only the undos its OrderTimedOut caused count: when all three have confirmed, the
  ///        order is rejected; a ParcelBooked no longer approves it. Other events are ignored.
  bool react(const DecodedEvent& event);

  /// @brief Announces OrderTimedOut for every PENDING order whose deadline has passed (and
  ///        sets its next deadline); returns how many it announced.
  std::size_t expire();

  /// @brief The earliest deadline of a PENDING order (to sleep until), if any.
  [[nodiscard]] std::optional<std::int64_t> next_deadline_ns() const;

  /// @brief Whether the order ran past its deadline (its checkout is being cancelled, or was).
  [[nodiscard]] bool timed_out(std::uint64_t order_id) const;

  /// @brief The order's status, if the desk took it.
  [[nodiscard]] std::optional<OrderStatus> status(std::uint64_t order_id) const;

  /// @brief How many orders are still PENDING.
  [[nodiscard]] std::uint64_t pending_count() const;

  /// @brief The outbox (OrderPlaced events).
  [[nodiscard]] const Outbox& outbox() const noexcept { return parts_.outbox; }

 private:
  bool settle(std::uint64_t order_id, OrderStatus status);
  bool confirm_undo(const DecodedEvent& event, std::uint64_t order_id);
  [[nodiscard]] std::int64_t deadline_after_now() const;

  OrderDeskOptions options_;
  ParticipantDatabase parts_;
};

/// @brief The command a service derives from an event it reacts to (std::nullopt: it does not
///        react to it). `order` is the order as the service learnt it from OrderPlaced.
using Reaction = std::function<std::optional<std::string>(const DecodedEvent& event,
                                                          const CheckoutRequest& order)>;

/// @brief What a reaction asks of a service's participant: a command, encoded, made in
///        reaction to `event` (its id is the event's id, so the command log deduplicates by
///        the event; it inherits the event's correlation id and names it as its cause).
template <EventPayload P>
std::string reaction_command(const DecodedEvent& event, const P& payload) {
  EventMetadata meta = make_metadata<P>("choreography", Cause::of(event.meta()));
  meta.event_id = std::string(event.event_id());
  return encode_event(Event<P>{meta, payload});
}

/// @brief The choreography's rules for Inventory: reserve on OrderPlaced, release on
///        PaymentDeclined, PaymentRefunded and OrderTimedOut.
std::optional<std::string> inventory_reaction(const DecodedEvent& event,
                                              const CheckoutRequest& order);
/// @brief The rules for Payment: charge on StockReserved, refund on ParcelRefused and
///        OrderTimedOut.
std::optional<std::string> payment_reaction(const DecodedEvent& event,
                                            const CheckoutRequest& order);
/// @brief The rules for Shipping: book on PaymentCharged, cancel on OrderTimedOut.
std::optional<std::string> shipping_reaction(const DecodedEvent& event,
                                             const CheckoutRequest& order);

/// @brief What a Reactor did with an event.
enum class Reacted {
  ignored,    ///< Not an event this service reacts to.
  learnt,     ///< An order it keeps for later reactions (from OrderPlaced or OrderTimedOut).
  handled,    ///< It handed the derived command to its participant.
  duplicate,  ///< It had reacted to this event before: nothing done.
  parked,     ///< About an order it has not heard of yet: kept, and reacted to once it has.
};

/// @brief What a Reactor did since it opened, events taken from its parking included.
struct ReactorCounters {
  std::uint64_t handled = 0;    ///< Events that gave the participant a command.
  std::uint64_t duplicate = 0;  ///< Events it had reacted to before.
  std::uint64_t parked = 0;     ///< Events kept until their order was known.
  std::uint64_t unparked = 0;   ///< Parked events taken up again once their order was known.
};

/// @brief One service's part in the choreography: keeps the orders it hears of (from
///        OrderPlaced or OrderTimedOut, in a `known_orders` table of its own database) and turns the events it
///        reacts to into commands for its participant.
///
/// @par Events that overtake the order
/// Each service publishes on its own socket, so events from two services may arrive in
/// either order: Shipping can hear PaymentCharged before the OrderPlaced it learns the
/// address from. Such an event is parked (a `parked_events` table, with the order) and
/// reacted to as soon as the order is known, rather than dropped.
///
/// @par Thread safety
/// One thread at a time; the same thread as its participant.
class Reactor {
 public:
  /// @brief What hands a command to the participant (e.g. `[&](auto& c) { return
  ///        payment.handle(c); }`).
  using Handler = std::function<CommandOutcome(const DecodedEvent&)>;

  /// @brief Reacts with `reaction` for the participant whose database is `path` and whose
  ///        command log is `commands` (both must outlive this).
  Reactor(const std::string& path, const CommandLog& commands, Reaction reaction, Handler handler,
          sqlite::Durability durability = sqlite::Durability::full);

  /// @brief Reacts to one event (and, when it makes an order known, to the events parked for
  ///        it). Throws what the participant throws (nothing changed for that event then).
  Reacted react(const DecodedEvent& event);

  /// @brief Counters since it opened.
  [[nodiscard]] const ReactorCounters& counters() const noexcept { return counters_; }

 private:
  [[nodiscard]] std::optional<CheckoutRequest> known(std::uint64_t order_id) const;
  Reacted react_known(const DecodedEvent& event, const CheckoutRequest& order);
  void park(const DecodedEvent& event, std::uint64_t order_id);
  void unpark(const CheckoutRequest& order);

  sqlite::Database db_;
  const CommandLog& commands_;
  Reaction reaction_;
  Handler handler_;
  ReactorCounters counters_{};
};

}  // namespace eda::saga
