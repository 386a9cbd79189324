// The checkout saga's state: a fold over the events of its stream.
#include "eda/saga/checkout_saga.hpp"

#include <array>

namespace eda::saga {
namespace {

Step step_from(std::uint8_t value) {
  if (value >= step_count) {
    throw MalformedMessage(WireFault::payload_mismatch, "a checkout saga event names step " +
                                                            std::to_string(value) + ", there are " +
                                                            std::to_string(step_count));
  }
  return static_cast<Step>(value);
}

}  // namespace

std::string_view name_of(Step step) noexcept {
  static constexpr std::array<std::string_view, step_count> names{"reserve-stock", "charge-card",
                                                                  "book-parcel"};
  return names.at(static_cast<std::size_t>(step));
}

std::string_view to_string(SagaStatus status) noexcept {
  static constexpr std::array<std::string_view, 5> names{"running", "compensating", "completed",
                                                         "rolled-back", "parked"};
  return names.at(static_cast<std::size_t>(status));
}

std::string_view to_string(OrderStatus status) noexcept {
  static constexpr std::array<std::string_view, 4> names{"PENDING", "APPROVED", "REJECTED",
                                                         "NEEDS_ATTENTION"};
  return names.at(static_cast<std::size_t>(status));
}

std::string checkout_stream(std::uint64_t order_id) {
  return "checkout-" + std::to_string(order_id);
}

void CheckoutSaga::apply(const DecodedEvent& event) {
  ++version;
  if (event.is<CheckoutStarted>()) {
    order = event.payload_as<CheckoutStarted>().order;
    correlation_id = event.meta().correlation_id;
    status = SagaStatus::running;
    path.emplace_back("started");
  } else if (event.is<CommandIssued>()) {
    auto issued = event.payload_as<CommandIssued>();
    const Step step = step_from(issued.step);
    awaiting = AwaitedCommand{step,
                              issued.compensation,
                              issued.attempt,
                              std::move(issued.command_id),
                              issued.deadline_ns,
                              std::move(issued.envelope)};
    retry_at_ns.reset();
    path.push_back(issued.compensation ? "undo " + std::string(name_of(step)) + " (attempt " +
                                             std::to_string(issued.attempt) + ")"
                                       : std::string(name_of(step)));
  } else if (event.is<StepSucceeded>()) {
    const Step step = step_from(event.payload_as<StepSucceeded>().step);
    held.at(static_cast<std::size_t>(step)) = true;
    awaiting.reset();
    path.push_back(std::string(name_of(step)) + " done");
  } else if (event.is<StepFailed>()) {
    const auto failed = event.payload_as<StepFailed>();
    const Step step = step_from(failed.step);
    if (failed.timed_out) {
      held.at(static_cast<std::size_t>(step)) = true;  // it may have happened: undo it too
    }
    awaiting.reset();
    status = SagaStatus::compensating;
    reason = std::string(name_of(step)) + ": " + failed.reason;
    path.push_back(std::string(name_of(step)) + (failed.timed_out ? " timed out" : " failed") +
                   " (" + failed.reason + ")");
  } else if (event.is<StepCompensated>()) {
    const Step step = step_from(event.payload_as<StepCompensated>().step);
    held.at(static_cast<std::size_t>(step)) = false;
    awaiting.reset();
    attempts = 0;
    path.push_back(std::string(name_of(step)) + " undone");
  } else if (event.is<CompensationFailed>()) {
    const auto failed = event.payload_as<CompensationFailed>();
    awaiting.reset();
    attempts = failed.attempt;
    retry_at_ns = failed.retry_at_ns;
    path.push_back("undo " + std::string(name_of(step_from(failed.step))) + " failed (" +
                   failed.reason + ")");
  } else if (event.is<CheckoutParked>()) {
    const auto parked = event.payload_as<CheckoutParked>();
    awaiting.reset();
    retry_at_ns.reset();
    status = SagaStatus::parked;
    reason = parked.reason + "; " + parked.action;
    path.emplace_back("parked");
  } else if (event.is<CheckoutCompleted>()) {
    awaiting.reset();
    status = SagaStatus::completed;
    path.emplace_back("completed");
  } else if (event.is<CheckoutRolledBack>()) {
    awaiting.reset();
    status = SagaStatus::rolled_back;
    path.emplace_back("rolled back");
  }
}

OrderStatus CheckoutSaga::order_status() const noexcept {
  switch (status) {
    case SagaStatus::completed:
      return OrderStatus::approved;
    case SagaStatus::rolled_back:
      return OrderStatus::rejected;
    case SagaStatus::parked:
      return OrderStatus::needs_attention;
    default:
      return OrderStatus::pending;
  }
}

std::optional<Step> CheckoutSaga::next_compensation() const noexcept {
  for (std::size_t i = step_count; i-- > 0;) {
    if (held.at(i)) return static_cast<Step>(i);
  }
  return std::nullopt;
}

std::optional<Step> CheckoutSaga::next_step() const noexcept {
  for (std::size_t i = 0; i < step_count; ++i) {
    if (!held.at(i)) return static_cast<Step>(i);
  }
  return std::nullopt;
}

std::string CheckoutSaga::describe() const {
  std::string line;
  for (const std::string& entry : path) {
    if (!line.empty()) line += " -> ";
    line += entry;
  }
  return line;
}

}  // namespace eda::saga
