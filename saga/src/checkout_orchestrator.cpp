// The Order saga orchestrator: record each decision in the saga's stream, then act on it.
#include "eda/saga/checkout_orchestrator.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>
#include <utility>

#include "eda/saga/checkout_messages.hpp"

namespace eda::saga {
namespace {

/// What a reply says: which step it is about, in which direction, and whether it succeeded.
struct ReplyMeaning {
  std::uint64_t order_id = 0;
  Step step = Step::reserve_stock;
  bool compensation = false;
  bool succeeded = true;
  std::string reason{};
};

/// Reads a reply; std::nullopt for a message that is no reply of the checkout. Throws
/// MalformedMessage for a reply whose payload does not decode.
std::optional<ReplyMeaning> meaning_of(const DecodedEvent& reply) {
  if (reply.is<StockReserved>()) {
    return ReplyMeaning{reply.payload_as<StockReserved>().order_id, Step::reserve_stock};
  }
  if (reply.is<StockRejected>()) {
    const auto rejected = reply.payload_as<StockRejected>();
    return ReplyMeaning{
        rejected.order_id, Step::reserve_stock, false, false,
        "only " + std::to_string(rejected.available) + " of " + rejected.sku + " available"};
  }
  if (reply.is<StockReleased>()) {
    return ReplyMeaning{reply.payload_as<StockReleased>().order_id, Step::reserve_stock, true};
  }
  if (reply.is<PaymentCharged>()) {
    return ReplyMeaning{reply.payload_as<PaymentCharged>().order_id, Step::charge_card};
  }
  if (reply.is<PaymentDeclined>()) {
    auto declined = reply.payload_as<PaymentDeclined>();
    return ReplyMeaning{declined.order_id, Step::charge_card, false, false,
                        std::move(declined.reason)};
  }
  if (reply.is<PaymentRefunded>()) {
    return ReplyMeaning{reply.payload_as<PaymentRefunded>().order_id, Step::charge_card, true};
  }
  if (reply.is<RefundFailed>()) {
    auto failed = reply.payload_as<RefundFailed>();
    return ReplyMeaning{failed.order_id, Step::charge_card, true, false, std::move(failed.reason)};
  }
  if (reply.is<ParcelBooked>()) {
    return ReplyMeaning{reply.payload_as<ParcelBooked>().order_id, Step::book_parcel};
  }
  if (reply.is<ParcelRefused>()) {
    auto refused = reply.payload_as<ParcelRefused>();
    return ReplyMeaning{refused.order_id, Step::book_parcel, false, false,
                        std::move(refused.reason)};
  }
  if (reply.is<ParcelCancelled>()) {
    return ReplyMeaning{reply.payload_as<ParcelCancelled>().order_id, Step::book_parcel, true};
  }
  return std::nullopt;
}

template <EventPayload P>
std::string encode_command(const std::string& source, const std::string& correlation_id,
                           const P& payload) {
  return encode_event(Event<P>{make_metadata<P>(source, Cause{correlation_id, {}}), payload});
}

/// The command that does (or undoes) `step` of `order`, encoded.
std::string command_for(const std::string& source, const CheckoutSaga& saga, Step step,
                        bool compensation) {
  const CheckoutRequest& order = saga.order;
  const std::string& correlation = saga.correlation_id;
  switch (step) {
    case Step::reserve_stock:
      return compensation ? encode_command(source, correlation, ReleaseStock{order.order_id})
                          : encode_command(source, correlation,
                                           ReserveStock{order.order_id, order.sku, order.quantity});
    case Step::charge_card:
      return compensation
                 ? encode_command(source, correlation, RefundPayment{order.order_id})
                 : encode_command(source, correlation,
                                  ChargeCard{order.order_id, order.card, order.amount_cents});
    case Step::book_parcel:
      return compensation
                 ? encode_command(source, correlation, CancelParcel{order.order_id})
                 : encode_command(source, correlation, BookParcel{order.order_id, order.address});
  }
  throw std::logic_error("command_for: no such step");
}

constexpr std::size_t page = 1000;  // events read from the store at a time

}  // namespace

CheckoutOrchestrator::CheckoutOrchestrator(sourcing::EventStore& store, CommandSender send,
                                           OrchestratorOptions options)
    : store_(store), send_(std::move(send)), options_(std::move(options)) {
  if (!send_) throw std::invalid_argument("a checkout orchestrator needs a command sender");
  if (options_.max_compensation_attempts == 0) {
    throw std::invalid_argument("a compensation needs at least one attempt");
  }
  if (options_.step_timeout <= std::chrono::milliseconds(0) ||
      options_.first_retry <= std::chrono::milliseconds(0) ||
      options_.max_retry < options_.first_retry) {
    throw std::invalid_argument(
        "an orchestrator's step timeout and first retry must be positive, and its longest "
        "retry no shorter than its first");
  }
  if (!options_.clock) options_.clock = wall_clock_ns;

  // Which checkouts have not ended: one pass over the store, then each of their streams.
  std::set<std::uint64_t> open;
  for (std::uint64_t from = 1;;) {
    const std::vector<sourcing::RecordedEvent> events = store_.read_all(from, page);
    for (const sourcing::RecordedEvent& recorded : events) {
      const DecodedEvent& event = recorded.event;
      if (event.is<CheckoutStarted>()) {
        open.insert(event.payload_as<CheckoutStarted>().order.order_id);
      } else if (event.is<CheckoutCompleted>()) {
        open.erase(event.payload_as<CheckoutCompleted>().order_id);
      } else if (event.is<CheckoutRolledBack>()) {
        open.erase(event.payload_as<CheckoutRolledBack>().order_id);
      } else if (event.is<CheckoutParked>()) {
        open.erase(event.payload_as<CheckoutParked>().order_id);
      }
    }
    if (events.size() < page) break;
    from = events.back().position + 1;
  }
  for (const std::uint64_t order_id : open) {
    if (std::optional<CheckoutSaga> saga = load(store_, order_id)) {
      running_.emplace(order_id, std::move(*saga));
      ++counters_.resumed;
    }
  }
}

std::optional<CheckoutSaga> CheckoutOrchestrator::load(const sourcing::EventStore& store,
                                                       std::uint64_t order_id) {
  const std::string stream = checkout_stream(order_id);
  std::optional<CheckoutSaga> saga;
  for (std::uint64_t from = 1;;) {
    const auto events = store.read_stream(stream, from, page);
    for (const sourcing::RecordedEvent& recorded : events) {
      if (!saga) saga.emplace();
      saga->apply(recorded.event);
    }
    if (events.size() < page) break;
    from = events.back().version + 1;
  }
  return saga;
}

std::size_t CheckoutOrchestrator::resume() {
  std::size_t acted = 0;
  std::vector<std::uint64_t> moved;
  for (auto& [order_id, saga] : running_) {
    if (saga.awaiting) {
      // The reply may have been published while nobody listened: ask again, and wait afresh.
      saga.awaiting->deadline_ns = now() + std::chrono::nanoseconds(options_.step_timeout).count();
      send(saga.awaiting->envelope);
      ++acted;
    } else if (!saga.retry_at_ns) {
      advance(saga);  // stopped between a recorded outcome and the decision that follows it
      moved.push_back(order_id);
      ++acted;
    }
  }
  for (const std::uint64_t order_id : moved) forget_if_ended(order_id);
  return acted;
}

void CheckoutOrchestrator::start(const CheckoutRequest& request) {
  if (request.sku.empty() || request.quantity == 0) {
    throw std::invalid_argument("a checkout needs a SKU and a quantity of at least 1 (order " +
                                std::to_string(request.order_id) + ")");
  }
  if (running_.contains(request.order_id)) {
    throw CheckoutRefused("order " + std::to_string(request.order_id) +
                          " is PENDING: its checkout saga has not ended, and nothing may act on "
                          "it until it has (the semantic lock)");
  }
  if (store_.stream_version(checkout_stream(request.order_id)) != 0) {
    throw CheckoutRefused("order " + std::to_string(request.order_id) +
                          " was checked out before; a new checkout needs a new order");
  }
  CheckoutSaga saga;
  EventMetadata meta = make_metadata<CheckoutStarted>(options_.source);
  saga.correlation_id = meta.correlation_id;
  record(saga, {sourcing::EventData::of(meta, CheckoutStarted{request})});
  ++counters_.started;
  auto [entry, inserted] = running_.emplace(request.order_id, std::move(saga));
  advance(entry->second);
  forget_if_ended(request.order_id);
}

ReplyVerdict CheckoutOrchestrator::handle(const DecodedEvent& reply) {
  std::optional<ReplyMeaning> meaning;
  try {
    meaning = meaning_of(reply);
  } catch (const MalformedMessage&) {
    meaning.reset();
  }
  if (!meaning) {
    ++counters_.not_replies;
    return ReplyVerdict::not_a_reply;
  }
  const auto found = running_.find(meaning->order_id);
  if (found == running_.end()) {
    ++counters_.replies_stale;
    return ReplyVerdict::no_saga;
  }
  CheckoutSaga& saga = found->second;
  if (!saga.awaiting || saga.awaiting->command_id != reply.meta().causation_id ||
      saga.awaiting->step != meaning->step ||
      saga.awaiting->compensation != meaning->compensation) {
    ++counters_.replies_stale;
    return ReplyVerdict::stale;
  }
  ++counters_.replies_applied;
  const auto step = static_cast<std::uint8_t>(meaning->step);
  const std::string reply_id(reply.event_id());
  if (!meaning->compensation) {
    if (meaning->succeeded) {
      record(saga, {saga_event(saga, StepSucceeded{meaning->order_id, step, reply_id})});
    } else {
      record(saga, {saga_event(saga, StepFailed{meaning->order_id, step, false, meaning->reason})});
    }
  } else if (meaning->succeeded) {
    record(saga, {saga_event(saga, StepCompensated{meaning->order_id, step, reply_id})});
  } else {
    compensation_failed(saga, meaning->reason);
  }
  advance(saga);
  forget_if_ended(meaning->order_id);
  return ReplyVerdict::applied;
}

std::size_t CheckoutOrchestrator::tick() {
  const std::int64_t time = now();
  std::vector<std::uint64_t> due;
  for (const auto& [order_id, saga] : running_) {
    if ((saga.awaiting && time >= saga.awaiting->deadline_ns) ||
        (saga.retry_at_ns && time >= *saga.retry_at_ns)) {
      due.push_back(order_id);
    }
  }
  for (const std::uint64_t order_id : due) {
    CheckoutSaga& saga = running_.at(order_id);
    if (saga.awaiting) {
      ++counters_.timeouts;
      const AwaitedCommand& awaited = *saga.awaiting;
      const std::string reason = "no reply to " + std::string(name_of(awaited.step)) + " within " +
                                 std::to_string(options_.step_timeout.count()) + " ms";
      if (awaited.compensation) {
        compensation_failed(saga, reason);
      } else {
        record(saga, {saga_event(saga, StepFailed{order_id, static_cast<std::uint8_t>(awaited.step),
                                                  true, reason})});
      }
    } else {
      ++counters_.retries;
      saga.retry_at_ns.reset();  // its time came: advance() issues the next attempt
    }
    advance(saga);
    forget_if_ended(order_id);
  }
  return due.size();
}

void CheckoutOrchestrator::compensation_failed(CheckoutSaga& saga, const std::string& reason) {
  const AwaitedCommand& awaited = *saga.awaiting;
  const auto step = static_cast<std::uint8_t>(awaited.step);
  if (awaited.attempt >= options_.max_compensation_attempts) {
    record(saga,
           {saga_event(
               saga, CheckoutParked{saga.order.order_id, step, awaited.attempt, reason,
                                    "undo " + std::string(name_of(awaited.step)) + " of order " +
                                        std::to_string(saga.order.order_id) +
                                        " by hand, then undo the steps before it; the order stays "
                                        "NEEDS_ATTENTION until then"})});
    return;
  }
  // Exponential backoff: first_retry, twice that, ... up to max_retry.
  std::chrono::milliseconds wait = options_.first_retry;
  for (std::uint32_t i = 1; i < awaited.attempt && wait < options_.max_retry; ++i) wait *= 2;
  wait = std::min(wait, options_.max_retry);
  record(saga,
         {saga_event(saga, CompensationFailed{saga.order.order_id, step, awaited.attempt, reason,
                                              now() + std::chrono::nanoseconds(wait).count()})});
}

void CheckoutOrchestrator::advance(CheckoutSaga& saga) {
  if (saga.terminal() || saga.awaiting || saga.retry_at_ns) return;
  if (saga.status == SagaStatus::running) {
    if (const std::optional<Step> next = saga.next_step()) {
      issue(saga, *next, false);
    } else {
      // Past the pivot: approving the order is the retriable step, local to the orchestrator.
      record(saga, {saga_event(saga, CheckoutCompleted{saga.order.order_id})});
    }
  } else if (const std::optional<Step> undo = saga.next_compensation()) {
    issue(saga, *undo, true);
  } else {
    record(saga, {saga_event(saga, CheckoutRolledBack{saga.order.order_id, saga.reason})});
  }
}

void CheckoutOrchestrator::issue(CheckoutSaga& saga, Step step, bool compensation) {
  std::string envelope = command_for(options_.source, saga, step, compensation);
  const DecodedEvent command = DecodedEvent::decode(envelope);
  record(
      saga,
      {saga_event(
          saga, CommandIssued{saga.order.order_id, static_cast<std::uint8_t>(step), compensation,
                              compensation ? saga.attempts + 1 : 1, std::string(command.event_id()),
                              now() + std::chrono::nanoseconds(options_.step_timeout).count(),
                              std::move(envelope)})});
  send(saga.awaiting->envelope);
}

void CheckoutOrchestrator::send(const std::string& envelope) {
  send_(DecodedEvent::decode(envelope));
  ++counters_.commands_sent;
}

template <EventPayload P>
sourcing::EventData CheckoutOrchestrator::saga_event(const CheckoutSaga& saga,
                                                     const P& payload) const {
  return sourcing::EventData::of(make_metadata<P>(options_.source, Cause{saga.correlation_id, {}}),
                                 payload);
}

void CheckoutOrchestrator::record(CheckoutSaga& saga, std::vector<sourcing::EventData> events) {
  const sourcing::ExpectedVersion expected = saga.version == 0
                                                 ? sourcing::ExpectedVersion::no_stream()
                                                 : sourcing::ExpectedVersion::exactly(saga.version);
  const std::uint64_t order_id = saga.version == 0 ? DecodedEvent::decode(events.front().envelope)
                                                         .payload_as<CheckoutStarted>()
                                                         .order.order_id
                                                   : saga.order.order_id;
  (void)store_.append(checkout_stream(order_id), expected, events);
  for (const sourcing::EventData& event : events) {
    saga.apply(DecodedEvent::decode(event.envelope));
  }
}

void CheckoutOrchestrator::forget_if_ended(std::uint64_t order_id) {
  const auto found = running_.find(order_id);
  if (found == running_.end() || !found->second.terminal()) return;
  switch (found->second.status) {
    case SagaStatus::completed:
      ++counters_.completed;
      break;
    case SagaStatus::rolled_back:
      ++counters_.rolled_back;
      break;
    default:
      ++counters_.parked;
      break;
  }
  running_.erase(found);
}

std::optional<CheckoutSaga> CheckoutOrchestrator::find(std::uint64_t order_id) const {
  return load(store_, order_id);
}

std::optional<OrderStatus> CheckoutOrchestrator::order_status(std::uint64_t order_id) const {
  if (const auto found = running_.find(order_id); found != running_.end()) {
    return found->second.order_status();
  }
  if (std::optional<CheckoutSaga> saga = find(order_id)) return saga->order_status();
  return std::nullopt;
}

std::vector<std::uint64_t> CheckoutOrchestrator::running() const {
  std::vector<std::uint64_t> ids;
  for (const auto& entry : running_) ids.push_back(entry.first);
  return ids;
}

std::optional<std::int64_t> CheckoutOrchestrator::next_due_ns() const {
  std::optional<std::int64_t> earliest;
  for (const auto& entry : running_) {
    const CheckoutSaga& saga = entry.second;
    std::optional<std::int64_t> due =
        saga.awaiting ? std::optional(saga.awaiting->deadline_ns) : saga.retry_at_ns;
    if (due && (!earliest || *due < *earliest)) earliest = due;
  }
  return earliest;
}

}  // namespace eda::saga
