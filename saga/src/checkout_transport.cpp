// The checkout saga on the wire: participants and orchestrator behind the kit's PUB/SUB.
#include "eda/saga/checkout_transport.hpp"

#include <stdexcept>
#include <utility>

#include "eda/clock.hpp"
#include "eda/saga/checkout_messages.hpp"

namespace eda::saga {
namespace {

constexpr int max_per_poll = 1000;  // messages taken per poll, so relaying and ticking go on

}  // namespace

ParticipantHost::ParticipantHost(zmq::context_t& context, const std::string& db_path,
                                 Handler handler, ParticipantHostOptions options)
    : handler_(std::move(handler)),
      publisher_(context, {.source = options.name, .endpoints = options.reply_endpoints}),
      inbox_(context, {.endpoints = options.command_endpoints,
                       .topics = {options.command_topic},
                       .name = options.name,
                       .drop_duplicates = false}),
      relay_(context, db_path, publisher_, options.relay) {
  if (!handler_) throw std::invalid_argument("a participant host needs a command handler");
}

std::size_t ParticipantHost::poll(std::chrono::milliseconds wait) {
  std::size_t taken = 0;
  (void)publisher_.serve(std::chrono::milliseconds(0));  // answer the orchestrator's handshake
  for (int i = 0; i < max_per_poll; ++i) {
    auto delivery = inbox_.receive(i == 0 ? wait : std::chrono::milliseconds(0));
    if (!delivery) break;
    ++taken;
    try {
      if (handler_(delivery->event) == CommandOutcome::executed) {
        ++counters_.executed;
      } else {
        ++counters_.repeated;
      }
    } catch (const UnknownCommand& e) {
      ++counters_.refused;
      inbox_.dead_letter(delivery->event, WireFault::unprocessable, e.what());
    } catch (const MalformedMessage& e) {
      ++counters_.refused;
      inbox_.dead_letter(delivery->event, e.fault(), e.what());
    }
  }
  // Relay what the commands added (and mark what settled since the last poll).
  try {
    while (relay_.relay_batch() > 0) {
    }
  } catch (const OutboxRowError&) {
    // relay().stalled() says why; the row is tried again at the next poll.
  }
  return taken;
}

OrchestratorHost::OrchestratorHost(zmq::context_t& context, sourcing::EventStore& store,
                                   OrchestratorHostOptions options)
    : publisher_(context,
                 {.source = options.orchestrator.source, .endpoints = options.command_endpoints}),
      context_(context),
      orchestrator_(
          store, [this](const DecodedEvent& command) { publisher_.republish(command); },
          std::move(options.orchestrator)) {
  if (!options.reply_endpoints.empty()) listen(options.reply_endpoints);
}

void OrchestratorHost::listen(const std::vector<std::string>& reply_endpoints) {
  if (inbox_) throw std::logic_error("the orchestrator host listens for replies already");
  inbox_.emplace(context_, SubscriberOptions{
                               .endpoints = reply_endpoints,
                               .topics = {std::string(inventory_topic), std::string(payment_topic),
                                          std::string(shipping_topic)},
                               .name = "order-saga",
                               .drop_duplicates = false});
}

std::size_t OrchestratorHost::poll(std::chrono::milliseconds wait) {
  std::size_t taken = 0;
  (void)publisher_.serve(std::chrono::milliseconds(0));  // answer participants' handshakes
  if (inbox_) {
    for (int i = 0; i < max_per_poll; ++i) {
      auto delivery = inbox_->receive(i == 0 ? wait : std::chrono::milliseconds(0));
      if (!delivery) break;
      ++taken;
      (void)orchestrator_.handle(delivery->event);
    }
  }
  (void)orchestrator_.tick();
  return taken;
}

}  // namespace eda::saga
