/// @file checkout_orchestrator.hpp
/// @brief The Order saga orchestrator (a process manager): sends the checkout's commands,
///        reacts to the participants' replies, and keeps every saga's state event-sourced in the
///        project's event store, so that a restarted orchestrator resumes each saga where it was.
///
/// @par Record first, then act
/// Every decision is appended to the saga's stream before anything is sent: CommandIssued
/// (with the command's bytes) before the command goes out. A crash between the append and the
/// send loses nothing: the restarted orchestrator finds the saga waiting on that command and
/// sends it again (resume()), and the participant, which deduplicates by command id, executes
/// it at most once and answers again.
///
/// @par Replies: duplicates, reordering, lateness
/// A reply is applied only if it answers the command the saga waits for (its causation id is
/// that command's id) with one of the replies that command can get. A duplicate (the step has
/// moved on), a reply to an earlier command, a reply that arrives after its step timed out (its
/// step is being compensated already, and the compensation fences it off at the participant) —
/// all are counted as stale and ignored; none is applied twice.
///
/// @par Time
/// The clock is injected (OrchestratorOptions::clock), so tests move time by hand; deadlines and
/// retry times are wall-clock instants, recorded in the stream, so they survive a restart.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "eda/codec.hpp"
#include "eda/errors.hpp"
#include "eda/saga/checkout_saga.hpp"
#include "eda/sourcing/event_store.hpp"

namespace eda::saga {

/// @brief Sends one command (already encoded; its event id is the command id) to the
///        participant whose topic its type starts with.
using CommandSender = std::function<void(const DecodedEvent& command)>;

/// @brief How a CheckoutOrchestrator works.
struct OrchestratorOptions {
  std::string source = "order-saga";  ///< Source name of its commands and events.
  /// How long a step's reply may take; then the step counts as failed with an unknown outcome
  /// (a forward step is compensated, a compensation is tried again).
  std::chrono::milliseconds step_timeout{5000};
  std::chrono::milliseconds first_retry{100};  ///< Wait before a failed compensation's 2nd try.
  std::chrono::milliseconds max_retry{5000};   ///< The backoff doubles up to this.
  /// Attempts at one compensation before the saga is parked for an operator (>= 1).
  std::uint32_t max_compensation_attempts = 10;
  /// Wall-clock time now, ns since the Unix epoch (default: eda::wall_clock_ns).
  std::function<std::int64_t()> clock{};
};

/// @brief What handle() did with a message.
enum class ReplyVerdict {
  applied,      ///< It answered the awaited command: the saga moved on.
  stale,        ///< A duplicate, a reply to an earlier command, or one after a timeout: ignored.
  no_saga,      ///< No running saga for its order (ended, or never started here): ignored.
  not_a_reply,  ///< Not a reply this orchestrator knows, or a payload that does not decode.
};

/// @brief Counters of a CheckoutOrchestrator since it was constructed.
struct OrchestratorCounters {
  std::uint64_t started = 0;          ///< Sagas started.
  std::uint64_t resumed = 0;          ///< Running sagas found in the store at construction.
  std::uint64_t commands_sent = 0;    ///< Commands sent (resends included).
  std::uint64_t replies_applied = 0;  ///< Replies applied.
  std::uint64_t replies_stale = 0;    ///< Replies ignored as stale or for no running saga.
  std::uint64_t not_replies = 0;      ///< Messages that were not replies.
  std::uint64_t timeouts = 0;         ///< Waits that ran past their deadline.
  std::uint64_t retries = 0;          ///< Compensations tried again.
  std::uint64_t completed = 0;        ///< Sagas completed.
  std::uint64_t rolled_back = 0;      ///< Sagas rolled back.
  std::uint64_t parked = 0;           ///< Sagas parked.
};

/// @brief A checkout that may not start: its order is PENDING (the semantic lock) or was
///        checked out before. Category: ErrorCategory::application.
class CheckoutRefused : public Error {
 public:
  /// @brief A refusal with `message`.
  explicit CheckoutRefused(const std::string& message)
      : Error(ErrorCategory::application, message) {}
};

/// @brief The Order saga orchestrator: one CheckoutSaga per order, its state in the event store.
///
/// @par Example
/// @code
/// eda::sourcing::SqliteEventStore store({.path = "orders.db"});
/// eda::saga::CheckoutOrchestrator orders(store, [&](const eda::DecodedEvent& command) {
///   publisher.republish(command);                      // to the participants
/// });
/// orders.resume();                                     // sagas a crash interrupted go on
/// orders.start({.order_id = 42, .sku = "SKU-1", .quantity = 1, .amount_cents = 1999,
///               .card = "4242", .address = "1 High St"});
/// // for each reply received: orders.handle(reply); and now and then: orders.tick();
/// @endcode
///
/// @par Thread safety
/// One thread at a time.
class CheckoutOrchestrator {
 public:
  /// @brief Uses `store` (which must outlive this) and loads every saga that has not ended;
  ///        sends nothing until resume(), start(), handle() or tick(). Throws
  ///        std::invalid_argument for bad options, and what the store throws.
  CheckoutOrchestrator(sourcing::EventStore& store, CommandSender send,
                       OrchestratorOptions options = {});

  /// @brief Sends again the command each loaded saga waits on, with a fresh deadline (its
  ///        reply may have been lost while no orchestrator listened), and takes each saga that
  ///        a crash stopped between two decisions on to its next one. Returns how many sagas
  ///        it acted on.
  std::size_t resume();

  /// @brief Starts the checkout of `request.order_id`: records CheckoutStarted (the order is
  ///        PENDING) and sends ReserveStock. Throws CheckoutRefused when the order has a
  ///        checkout already (running: the semantic lock; or ended), and
  ///        std::invalid_argument for a request without SKU or quantity.
  void start(const CheckoutRequest& request);

  /// @brief Applies a participant's reply, if it answers the command its saga waits for.
  ///        Never throws for bad input (a payload that does not decode is `not_a_reply`).
  ReplyVerdict handle(const DecodedEvent& reply);

  /// @brief Acts on time: a wait past its deadline fails its step (or its compensation
  ///        attempt), a failed compensation whose retry time came is tried again. Returns how
  ///        many sagas it acted on.
  std::size_t tick();

  /// @brief The saga of `order_id` as its stream says now (ended ones too), if it exists.
  [[nodiscard]] std::optional<CheckoutSaga> find(std::uint64_t order_id) const;

  /// @brief The order's status: PENDING while its saga runs (std::nullopt: no checkout).
  [[nodiscard]] std::optional<OrderStatus> order_status(std::uint64_t order_id) const;

  /// @brief How many sagas have not ended (parked ones have).
  [[nodiscard]] std::size_t running_count() const noexcept { return running_.size(); }

  /// @brief The order ids of the sagas that have not ended.
  [[nodiscard]] std::vector<std::uint64_t> running() const;

  /// @brief The earliest deadline or retry time among running sagas (to sleep until), if any.
  [[nodiscard]] std::optional<std::int64_t> next_due_ns() const;

  /// @brief Counters since construction.
  [[nodiscard]] const OrchestratorCounters& counters() const noexcept { return counters_; }

  /// @brief Loads the saga of `order_id` from `store`, if its stream exists.
  [[nodiscard]] static std::optional<CheckoutSaga> load(const sourcing::EventStore& store,
                                                        std::uint64_t order_id);

 private:
  template <EventPayload P>
  sourcing::EventData saga_event(const CheckoutSaga& saga, const P& payload) const;
  void record(CheckoutSaga& saga, std::vector<sourcing::EventData> events);
  void advance(CheckoutSaga& saga);
  void issue(CheckoutSaga& saga, Step step, bool compensation);
  void send(const std::string& envelope);
  void compensation_failed(CheckoutSaga& saga, const std::string& reason);
  void forget_if_ended(std::uint64_t order_id);
  [[nodiscard]] std::int64_t now() const { return options_.clock(); }

  sourcing::EventStore& store_;
  CommandSender send_;
  OrchestratorOptions options_;
  std::map<std::uint64_t, CheckoutSaga> running_;
  OrchestratorCounters counters_{};
};

}  // namespace eda::saga
