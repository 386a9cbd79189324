/// @file checkout_transport.hpp
/// @brief The checkout saga over the kit's transport: each participant behind a ParticipantHost
///        (commands in over a Subscriber, replies out through its outbox relay and Publisher),
///        the orchestrator behind an OrchestratorHost (commands out over a Publisher, replies in
///        over a Subscriber). Endpoints are parameters: `inproc://`, `ipc://` or `tcp://`.
///
/// @par Why duplicates are not dropped by the subscribers
/// The kit's Subscriber can drop messages whose sequence it has seen. Here neither side lets it:
/// a resumed orchestrator sends a command again on purpose (same id), and a restarted relay
/// publishes unmarked rows again; the participant's CommandLog and the orchestrator's match on
/// the awaited command are what make duplicates harmless, so they must see them.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "eda/pubsub.hpp"
#include "eda/saga/checkout_orchestrator.hpp"
#include "eda/saga/command_log.hpp"
#include "eda/saga/outbox_relay.hpp"
#include "eda/sourcing/event_store.hpp"

namespace eda::saga {

/// @brief How a ParticipantHost is wired.
struct ParticipantHostOptions {
  std::string name{};                            ///< The participant, e.g. `payment`.
  std::string command_topic{};                   ///< Its commands' prefix, e.g. payment_commands.
  std::vector<std::string> command_endpoints{};  ///< The orchestrator's command publisher.
  std::vector<std::string> reply_endpoints{};    ///< Where its reply publisher binds.
  RelayOptions relay{};                          ///< How its outbox relay works.
};

/// @brief Counters of a ParticipantHost.
struct ParticipantHostCounters {
  std::uint64_t executed = 0;  ///< Commands executed.
  std::uint64_t repeated = 0;  ///< Duplicate commands answered with their first reply.
  std::uint64_t refused = 0;   ///< Commands refused (unknown, or not decodable): dead-lettered.
};

/// @brief One participant on the wire: takes its commands from the orchestrator's publisher,
///        hands each to the participant, and relays the participant's outbox.
///
/// @par Thread safety
/// One thread at a time (it owns sockets and the relay's connection).
class ParticipantHost {
 public:
  /// @brief What handles a command (e.g. `[&](auto& c) { return payment.handle(c); }`).
  using Handler = std::function<CommandOutcome(const DecodedEvent&)>;

  /// @brief Wires the participant whose database is `db_path` (it must exist: open the
  ///        participant first). Throws what the Publisher, Subscriber and OutboxRelay throw.
  ParticipantHost(zmq::context_t& context, const std::string& db_path, Handler handler,
                  ParticipantHostOptions options);

  /// @brief Handles the commands that arrive within `wait` (and whatever is queued), then
  ///        relays the outbox; returns how many commands it took. A command the participant
  ///        refuses is dead-lettered, never thrown.
  std::size_t poll(std::chrono::milliseconds wait);

  /// @brief The reply publisher's endpoints, as bound.
  [[nodiscard]] const std::vector<std::string>& reply_endpoints() const noexcept {
    return publisher_.endpoints();
  }
  /// @brief Whether its subscription to the orchestrator's commands is confirmed.
  [[nodiscard]] bool ready() const noexcept { return inbox_.handshake_complete(); }
  /// @brief Counters so far.
  [[nodiscard]] const ParticipantHostCounters& counters() const noexcept { return counters_; }
  /// @brief The commands subscriber (its dead letters, its stats).
  [[nodiscard]] Subscriber& inbox() noexcept { return inbox_; }
  /// @brief The outbox relay.
  [[nodiscard]] OutboxRelay& relay() noexcept { return relay_; }

 private:
  Handler handler_;
  Publisher publisher_;
  Subscriber inbox_;
  OutboxRelay relay_;
  ParticipantHostCounters counters_{};
};

/// @brief How an OrchestratorHost is wired.
struct OrchestratorHostOptions {
  std::vector<std::string> command_endpoints{};  ///< Where its command publisher binds.
  /// The participants' reply publishers (or later, with listen(): a participant binding an
  /// ephemeral port is started once the command endpoints are known).
  std::vector<std::string> reply_endpoints{};
  OrchestratorOptions orchestrator{};  ///< How the orchestrator works.
};

/// @brief The orchestrator on the wire: its commands go out over a Publisher, the
///        participants' replies come in over a Subscriber.
///
/// @par Thread safety
/// One thread at a time.
class OrchestratorHost {
 public:
  /// @brief Wires an orchestrator over `store` (which must outlive this).
  OrchestratorHost(zmq::context_t& context, sourcing::EventStore& store,
                   OrchestratorHostOptions options);

  /// @brief Hands the replies that arrive within `wait` (and whatever is queued) to the
  ///        orchestrator, then lets it act on time; returns how many replies it took.
  std::size_t poll(std::chrono::milliseconds wait);

  /// @brief The command publisher's endpoints, as bound (participants connect here).
  [[nodiscard]] const std::vector<std::string>& command_endpoints() const noexcept {
    return publisher_.endpoints();
  }
  /// @brief Subscribes to the participants' replies at `reply_endpoints` (once; throws
  ///        std::logic_error when it listens already).
  void listen(const std::vector<std::string>& reply_endpoints);
  /// @brief Whether it listens and every participant has confirmed its subscription to replies.
  [[nodiscard]] bool ready() const noexcept { return inbox_ && inbox_->handshake_complete(); }
  /// @brief How many participants have completed their subscription to the commands.
  [[nodiscard]] std::size_t participants_subscribed() const noexcept {
    return publisher_.subscriber_count();
  }
  /// @brief The orchestrator.
  [[nodiscard]] CheckoutOrchestrator& orchestrator() noexcept { return orchestrator_; }
  /// @brief The command publisher.
  [[nodiscard]] Publisher& publisher() noexcept { return publisher_; }

 private:
  Publisher publisher_;
  zmq::context_t& context_;
  std::optional<Subscriber> inbox_;
  CheckoutOrchestrator orchestrator_;
};

}  // namespace eda::saga
