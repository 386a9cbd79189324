/// @file command_service.hpp
/// @brief The write side of CQRS as a service: commands in, decisions out. It loads the Order
///        aggregate from the event store, decides, appends expecting the version it loaded,
///        and answers with the position of what it wrote — the caller's consistency token.
///
/// Requests travel as the kit's RPC frames (method, MessagePack body; reply: status, body):
///
/// | method | request body | `ok` reply body |
/// |---|---|---|
/// | `PlaceOrder` | `[order_id, customer]` | CommandAccepted |
/// | `AddItem` | `[order_id, sku, quantity, unit_price_cents]` | CommandAccepted |
/// | `RemoveItem` | `[order_id, sku]` | CommandAccepted |
/// | `Pay` | `[order_id, amount_cents]` | CommandAccepted |
/// | `Ship` | `[order_id, carrier]` | CommandAccepted |
/// | `Cancel` | `[order_id, reason]` | CommandAccepted |
///
/// Other statuses: `rejected` (the order's rules said no; body: the reason in words),
/// `conflict` (other writers kept changing the order; body: the conflict), `bad_request`
/// (not this protocol), `error` (the store failed). A rejection is an answer, not a failure:
/// the service goes on serving.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <msgpack.hpp>
#include <zmq.hpp>

#include "eda/errors.hpp"
#include "eda/rpc.hpp"
#include "eda/sourcing/order_repository.hpp"

namespace eda::cqrs {

/// @brief What an accepted command did.
struct CommandAccepted {
  std::uint64_t order_id = 0;  ///< The order.
  std::uint64_t version = 0;   ///< The order's version now.
  /// The store position of the last event written: a query carrying it as its consistency
  /// token sees this command's effect (read-your-writes).
  std::uint64_t position = 0;
  std::vector<std::string> events;  ///< The types of the events written.
  std::uint32_t attempts = 1;       ///< More than 1 when concurrency conflicts forced retries.
  MSGPACK_DEFINE(order_id, version, position, events, attempts)
};

/// @brief The service said no: the command broke the order's rules (`rejected`) or kept
///        conflicting with other writers (`conflict`). Category: ErrorCategory::conflict for
///        `conflict`, ErrorCategory::application otherwise.
class CommandRefused : public Error {
 public:
  /// @brief A refusal with `status` and the service's `reason`.
  CommandRefused(std::string status, const std::string& reason)
      : Error(status == "conflict" ? ErrorCategory::conflict : ErrorCategory::application, reason),
        status_(std::move(status)) {}
  /// @brief `rejected` or `conflict`.
  [[nodiscard]] const std::string& status() const noexcept { return status_; }

 private:
  std::string status_;
};

/// @brief How a CommandService is set up.
struct CommandServiceOptions {
  std::vector<std::string> endpoints{};      ///< Where clients connect.
  sourcing::RepositoryOptions repository{};  ///< Source name, retries on conflict, snapshots.
  Security security{};  ///< Plaintext (the default) or CURVE (it binds: the CURVE server).
};

/// @brief Serves order commands over ZeroMQ on an OrderRepository.
///
/// @par Thread safety
/// One thread at a time (it owns its socket).
class CommandService {
 public:
  /// @brief Serves commands on `store` (which must outlive it) at `options.endpoints`.
  CommandService(zmq::context_t& context, sourcing::EventStore& store,
                 CommandServiceOptions options);

  /// @brief Where it listens (connectable form).
  [[nodiscard]] const std::vector<std::string>& endpoints() const noexcept {
    return server_.endpoints();
  }
  /// @brief Waits up to `wait` for one command and answers it; false when none came.
  bool serve_once(std::chrono::milliseconds wait) { return server_.serve_once(wait); }
  /// @brief Serves until `keep_going()` returns false (checked at least every `tick`).
  void serve_while(const std::function<bool()>& keep_going,
                   std::chrono::milliseconds tick = std::chrono::milliseconds(50)) {
    server_.serve_while(keep_going, tick);
  }
  /// @brief Counters: commands accepted (`served`), refused or failed (`failed`), malformed.
  [[nodiscard]] const RpcServerStats& stats() const noexcept { return server_.stats(); }

 private:
  template <class Command, class Body>
  void handle(std::string method);

  sourcing::OrderRepository orders_;
  RpcServer server_;
};

/// @brief Sends commands to a CommandService.
///
/// @par Example
/// @code
/// CommandClient commands(context, {.endpoint = "tcp://127.0.0.1:5801"});
/// const CommandAccepted placed = commands.execute(42, PlaceOrder{"alice"});
/// queries.customer_orders("alice", {.min_position = placed.position});  // read your write
/// @endcode
///
/// @par Thread safety
/// One thread at a time.
class CommandClient {
 public:
  /// @brief A client of the service at `options.endpoint`. Commands are not retried on a
  ///        timeout (`attempts` is forced to 1): a command that may have been executed must not
  ///        be sent again blindly.
  CommandClient(zmq::context_t& context, RpcClientOptions options);

  /// @brief Executes `command` on order `order_id`. Throws CommandRefused (`rejected`,
  ///        `conflict`), RpcTimeout, or RpcError for anything else.
  CommandAccepted execute(std::uint64_t order_id, const sourcing::OrderCommand& command);

 private:
  RpcClient client_;
};

}  // namespace eda::cqrs
