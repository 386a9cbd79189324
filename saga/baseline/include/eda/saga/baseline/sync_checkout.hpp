/// @file sync_checkout.hpp
/// @brief The checkout without a saga: the Order service calls Inventory, Payment and Shipping
///        one after the other over the kit's RPC and undoes what it did in a try/catch.
///
/// It looks like the saga (the same steps, the same compensations) and works as long as the
/// Order service lives. What it lacks is a durable record of where it stands: the progress is
/// in its call stack, so a crash between two calls (stock reserved, card charged, no parcel)
/// leaves the steps done behind for good — nobody knows the order exists, nobody will release
/// or refund. The tests kill it exactly there. The saga records each decision before acting,
/// and a restarted orchestrator finishes the job.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "eda/codec.hpp"
#include "eda/rpc.hpp"
#include "eda/saga/checkout_saga.hpp"
#include "eda/saga/command_log.hpp"
#include "eda/saga/outbox.hpp"

namespace eda::saga::baseline {

/// @brief The RPC method every SyncParticipant serves: the request body is a command's
///        envelope, the reply body the envelope of the participant's reply.
inline constexpr std::string_view command_method = "command";

/// @brief One of the checkout's participants served over RPC: the same participant the saga
///        uses (Inventory, Payment, Shipping), its reply returned in the response instead of
///        relayed from its outbox.
///
/// Because the request is the command's envelope, a call the RPC client sends again after a
/// timeout (Lazy Pirate) carries the same command id, and the participant executes it once.
///
/// @par Thread safety
/// One thread at a time.
class SyncParticipant {
 public:
  /// @brief What handles a command (e.g. `[&](auto& c) { return payment.handle(c); }`).
  using Handler = std::function<CommandOutcome(const DecodedEvent&)>;

  /// @brief Serves `handler` on `endpoints`; the participant's `outbox` (which must outlive
  ///        this) holds the replies. Throws what RpcServer throws.
  SyncParticipant(zmq::context_t& context, std::vector<std::string> endpoints, Handler handler,
                  const Outbox& outbox);

  /// @brief Answers at most one call, waiting up to `wait`; false when none came.
  bool serve_once(std::chrono::milliseconds wait) { return server_.serve_once(wait); }

  /// @brief The endpoints bound.
  [[nodiscard]] const std::vector<std::string>& endpoints() const noexcept {
    return server_.endpoints();
  }

 private:
  RpcServer server_;
};

/// @brief How the synchronous Order service reaches the participants.
struct SyncCheckoutOptions {
  std::string inventory{};                  ///< Inventory's RPC endpoint.
  std::string payment{};                    ///< Payment's RPC endpoint.
  std::string shipping{};                   ///< Shipping's RPC endpoint.
  std::chrono::milliseconds timeout{2000};  ///< Per RPC attempt.
  int attempts = 3;                         ///< RPC attempts per call.
  /// Called after each forward step succeeded (tests stop the process here).
  std::function<void(Step)> after_step{};
};

/// @brief How a synchronous checkout ended.
struct SyncResult {
  bool completed = false;  ///< True: every step done; false: rejected, steps undone.
  std::string reason{};    ///< Why it was rejected.
};

/// @brief The Order service of the baseline: reserve, charge, book, each a blocking call; a
///        refusal or a failure undoes the steps done, in a catch block.
///
/// @par Thread safety
/// One thread at a time.
class SyncCheckout {
 public:
  /// @brief Connects (lazily) to the three participants.
  SyncCheckout(zmq::context_t& context, SyncCheckoutOptions options);

  /// @brief Runs the checkout. Returns how it ended when every call got an answer; when a
  ///        call fails (RpcTimeout, RpcError) it undoes what it can and rethrows — and when the
  ///        process dies, nothing is undone at all.
  SyncResult checkout(const CheckoutRequest& request);

 private:
  DecodedEvent call(RpcClient& client, const std::string& command);

  SyncCheckoutOptions options_;
  RpcClient inventory_;
  RpcClient payment_;
  RpcClient shipping_;
};

}  // namespace eda::saga::baseline
