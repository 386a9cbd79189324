/// @file checkout_saga.hpp
/// @brief The checkout saga's steps, the events that record its progress in the event store,
///        and its state as a fold over those events.
///
/// @par The steps, classified (Garcia-Molina & Salem 1987; Richardson, microservices.io/patterns/data/saga.html)
/// A saga is a sequence of local transactions, one per service, with no lock held across
/// them; when one fails, the ones already done are undone by **compensating transactions**.
/// Richardson sorts the steps in three kinds:
/// - **compensatable** — can be undone by a compensating transaction. *Reserve stock* (undone
///   by ReleaseStock) and *charge card* (undone by RefundPayment) are compensatable: stock goes
///   back on the shelf, money goes back to the card.
/// - **pivot** — the go/no-go step: if it succeeds the saga runs to completion, if it fails the
///   saga rolls back. *Book parcel* is the pivot: it is the last step that may fail for a
///   business reason (the carrier refuses), and once the orchestrator has recorded the booking
///   it never undoes anything. It comes last of the three because a parcel booked and then
///   cancelled costs the most (a carrier's cancellation fee, a label printed for nothing);
///   stock and charges are cheap to give back. CancelParcel exists only for a booking whose
///   outcome is *unknown* (its reply timed out): the cancel makes sure no parcel stays booked
///   for an order that is rolling back, and fences off a booking that arrives later.
/// - **retriable** — follows the pivot and is retried until it succeeds. Here that is
///   *approve order*, the orchestrator's own local step (CheckoutCompleted: the order leaves
///   PENDING); it cannot fail for a business reason. Compensations are retried too: a
///   compensating transaction must eventually succeed (Garcia-Molina & Salem), so a refund
///   the card network refuses is asked for again with backoff, and after
///   OrchestratorOptions::max_compensation_attempts the saga is **parked** for an operator.
///
/// @par Isolation (the anomaly and the countermeasure)
/// A saga is ACD without I: another transaction can see a step's effect before the saga ends
/// (the stock is reserved, the card charged, for an order that may still roll back — a dirty
/// read in database terms). The countermeasure here is a **semantic lock**: the order is
/// PENDING from CheckoutStarted until the saga ends, and nothing may act on a PENDING order
/// (a second checkout of it is refused; it is not shipped, invoiced or counted as a sale).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <msgpack.hpp>

#include "eda/codec.hpp"

namespace eda::saga {

/// @brief Topic prefix (and event type prefix) of the saga's own events in the event store.
inline constexpr std::string_view checkout_topic = "shop.checkout.";

/// @brief The forward steps of a checkout, in order.
enum class Step : std::uint8_t {
  reserve_stock = 0,  ///< Inventory reserves the stock (compensatable).
  charge_card = 1,    ///< Payment charges the card (compensatable).
  book_parcel = 2,    ///< Shipping books a parcel (the pivot).
};

/// @brief How many forward steps a checkout has.
inline constexpr std::size_t step_count = 3;

/// @brief The kinds of saga step (see the file's comment).
enum class StepKind {
  compensatable,  ///< Can be undone by a compensating transaction.
  pivot,          ///< The go/no-go step: after it the saga only goes forward.
  retriable,      ///< After the pivot: retried until it succeeds.
};

/// @brief The kind of each step: reserve and charge compensatable, book the pivot.
[[nodiscard]] constexpr StepKind kind_of(Step step) noexcept {
  return step == Step::book_parcel ? StepKind::pivot : StepKind::compensatable;
}

/// @brief The step's name (`reserve-stock`, `charge-card`, `book-parcel`).
[[nodiscard]] std::string_view name_of(Step step) noexcept;

/// @brief What a checkout buys and how it pays and ships.
struct CheckoutRequest {
  std::uint64_t order_id = 0;      ///< The order (one checkout per order).
  std::string sku{};               ///< What it buys.
  std::uint64_t quantity = 0;      ///< How many (>= 1).
  std::uint64_t amount_cents = 0;  ///< The total to charge.
  std::string card{};              ///< The card to charge.
  std::string address{};           ///< Where the parcel goes.
  MSGPACK_DEFINE(order_id, sku, quantity, amount_cents, card, address)
};

// ---- The saga's events (stream `checkout-<order id>` in the event store) ----------------------

/// @brief A checkout began: the order is PENDING from now on.
struct CheckoutStarted {
  /// @brief The event type.
  static constexpr std::string_view event_type = "shop.checkout.started";
  /// @brief The payload's shape version.
  static constexpr std::uint32_t schema_version = 1;
  CheckoutRequest order{};  ///< The checkout.
  MSGPACK_DEFINE(order)
};

/// @brief The orchestrator is about to send a command and waits for its reply until
///        `deadline_ns`. Recorded before sending, so a restarted orchestrator sends it again.
struct CommandIssued {
  /// @brief The event type.
  static constexpr std::string_view event_type = "shop.checkout.command-issued";
  /// @brief The payload's shape version.
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t order_id = 0;    ///< The order.
  std::uint8_t step = 0;         ///< The Step it does or undoes.
  bool compensation = false;     ///< True: it undoes the step.
  std::uint32_t attempt = 1;     ///< 1 for the first try of a compensation, then 2, 3, ...
  std::string command_id{};      ///< The command's event id (replies name it as their cause).
  std::int64_t deadline_ns = 0;  ///< When the wait for the reply ends (wall clock).
  std::string envelope{};        ///< The command, encoded, exactly as sent.
  MSGPACK_DEFINE(order_id, step, compensation, attempt, command_id, deadline_ns, envelope)
};

/// @brief A step succeeded (the participant's reply `reply_id` said so).
struct StepSucceeded {
  /// @brief The event type.
  static constexpr std::string_view event_type = "shop.checkout.step-succeeded";
  /// @brief The payload's shape version.
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t order_id = 0;  ///< The order.
  std::uint8_t step = 0;       ///< The Step.
  std::string reply_id{};      ///< The reply's event id.
  MSGPACK_DEFINE(order_id, step, reply_id)
};

/// @brief A step failed, or its reply did not come in time (then it may have happened, and is
///        compensated with the others). The saga rolls back from here.
struct StepFailed {
  /// @brief The event type.
  static constexpr std::string_view event_type = "shop.checkout.step-failed";
  /// @brief The payload's shape version.
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t order_id = 0;  ///< The order.
  std::uint8_t step = 0;       ///< The Step.
  bool timed_out = false;      ///< No reply within the deadline (outcome unknown).
  std::string reason{};        ///< Why, in words.
  MSGPACK_DEFINE(order_id, step, timed_out, reason)
};

/// @brief A step was undone.
struct StepCompensated {
  /// @brief The event type.
  static constexpr std::string_view event_type = "shop.checkout.step-compensated";
  /// @brief The payload's shape version.
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t order_id = 0;  ///< The order.
  std::uint8_t step = 0;       ///< The Step.
  std::string reply_id{};      ///< The reply's event id.
  MSGPACK_DEFINE(order_id, step, reply_id)
};

/// @brief An attempt to undo a step failed (refused, or no reply in time); it is tried again
///        at `retry_at_ns`.
struct CompensationFailed {
  /// @brief The event type.
  static constexpr std::string_view event_type = "shop.checkout.compensation-failed";
  /// @brief The payload's shape version.
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t order_id = 0;    ///< The order.
  std::uint8_t step = 0;         ///< The Step being undone.
  std::uint32_t attempt = 0;     ///< Which attempt failed.
  std::string reason{};          ///< Why.
  std::int64_t retry_at_ns = 0;  ///< When to try again (wall clock).
  MSGPACK_DEFINE(order_id, step, attempt, reason, retry_at_ns)
};

/// @brief A compensation failed too often: the saga stops and waits for an operator. The
///        record says what is left undone and what to do.
struct CheckoutParked {
  /// @brief The event type.
  static constexpr std::string_view event_type = "shop.checkout.parked";
  /// @brief The payload's shape version.
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t order_id = 0;  ///< The order.
  std::uint8_t step = 0;       ///< The Step that could not be undone.
  std::uint32_t attempts = 0;  ///< How many times it was tried.
  std::string reason{};        ///< The last failure.
  std::string action{};        ///< What an operator must do.
  MSGPACK_DEFINE(order_id, step, attempts, reason, action)
};

/// @brief Every step succeeded and the order is approved (the retriable step after the pivot).
struct CheckoutCompleted {
  /// @brief The event type.
  static constexpr std::string_view event_type = "shop.checkout.completed";
  /// @brief The payload's shape version.
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t order_id = 0;  ///< The order.
  MSGPACK_DEFINE(order_id)
};

/// @brief Every step done was undone: the order is rejected.
struct CheckoutRolledBack {
  /// @brief The event type.
  static constexpr std::string_view event_type = "shop.checkout.rolled-back";
  /// @brief The payload's shape version.
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t order_id = 0;  ///< The order.
  std::string reason{};        ///< Why the checkout failed.
  MSGPACK_DEFINE(order_id, reason)
};

// ---- The state ---------------------------------------------------------------------------------

/// @brief Where a saga stands.
enum class SagaStatus {
  running,       ///< Going forward.
  compensating,  ///< A step failed: undoing the steps done, last first.
  completed,     ///< Ended: every step done, the order approved.
  rolled_back,   ///< Ended: every step done was undone, the order rejected.
  parked,        ///< Stopped: a compensation kept failing; an operator must finish it.
};

/// @brief The order as the rest of the shop sees it: the semantic lock.
enum class OrderStatus {
  pending,          ///< The saga has not ended: nothing may act on the order.
  approved,         ///< Completed.
  rejected,         ///< Rolled back.
  needs_attention,  ///< Parked: an operator must finish the rollback.
};

/// @brief `running`, `compensating`, `completed`, `rolled-back` or `parked`.
[[nodiscard]] std::string_view to_string(SagaStatus status) noexcept;
/// @brief `PENDING`, `APPROVED`, `REJECTED` or `NEEDS_ATTENTION`.
[[nodiscard]] std::string_view to_string(OrderStatus status) noexcept;

/// @brief The command a saga waits on a reply to.
struct AwaitedCommand {
  Step step = Step::reserve_stock;  ///< The step it does or undoes.
  bool compensation = false;        ///< True: it undoes the step.
  std::uint32_t attempt = 1;        ///< Attempt number (compensations are retried).
  std::string command_id{};         ///< Replies carry it as their causation id.
  std::int64_t deadline_ns = 0;     ///< When waiting ends.
  std::string envelope{};           ///< The command as sent.
};

/// @brief One checkout saga's state: a fold over the events of its stream.
struct CheckoutSaga {
  CheckoutRequest order{};                  ///< The checkout.
  std::string correlation_id{};             ///< Every command and reply of this saga carries it.
  std::uint64_t version = 0;                ///< The stream's version this state reflects.
  SagaStatus status = SagaStatus::running;  ///< Where it stands.
  /// Per step: whether its effect may be in place (done, or timed out with an unknown outcome)
  /// and not yet undone.
  std::array<bool, step_count> held{};
  std::optional<AwaitedCommand> awaiting{};   ///< The command whose reply it waits for.
  std::optional<std::int64_t> retry_at_ns{};  ///< When a failed compensation is tried again.
  std::uint32_t attempts = 0;                 ///< Failed attempts of the compensation under way.
  std::string reason{};                       ///< Why it rolled back or was parked.
  std::vector<std::string> path{};            ///< What happened, in words, one entry per event.

  /// @brief Applies one event of the saga's stream (events of other types are ignored).
  void apply(const DecodedEvent& event);

  /// @brief Whether the saga has ended (completed or rolled back) or is parked.
  [[nodiscard]] bool terminal() const noexcept {
    return status == SagaStatus::completed || status == SagaStatus::rolled_back ||
           status == SagaStatus::parked;
  }

  /// @brief The order's status (PENDING until the saga ends).
  [[nodiscard]] OrderStatus order_status() const noexcept;

  /// @brief The next step to undo when compensating: the last step held, if any.
  [[nodiscard]] std::optional<Step> next_compensation() const noexcept;

  /// @brief The next step to do when running: the first step not held, if any.
  [[nodiscard]] std::optional<Step> next_step() const noexcept;

  /// @brief The path, one line: `started -> reserve-stock ... -> completed`.
  [[nodiscard]] std::string describe() const;
};

/// @brief The event store stream of the checkout of `order_id`: `checkout-<order id>`.
[[nodiscard]] std::string checkout_stream(std::uint64_t order_id);

}  // namespace eda::saga
