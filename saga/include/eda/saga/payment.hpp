/// @file payment.hpp
/// @brief Payment, the checkout saga's participant that charges cards and refunds them, with
///        its replies in an outbox in its own SQLite database.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "eda/codec.hpp"
#include "eda/saga/checkout_messages.hpp"
#include "eda/saga/participant_database.hpp"

namespace eda::saga {

/// @brief The card the default card network declines (payment providers keep such test cards).
inline constexpr std::string_view declined_card = "4000-0000-0000-0002";

/// @brief The card network's answer to a charge: empty to approve it, or why it is declined.
using CardNetwork = std::function<std::optional<std::string>(const ChargeCard&)>;

/// @brief The card network's answer to a refund of an order: empty when it goes through, or
///        why not this time (the charge stands; the saga asks again).
using RefundNetwork = std::function<std::optional<std::string>(std::uint64_t order_id)>;

/// @brief How a Payment service is set up.
struct PaymentOptions {
  std::string source = "payment";                            ///< Source name of its events.
  sqlite::Durability durability = sqlite::Durability::full;  ///< How commits are kept.
  /// Charges: by default every card is approved except declined_card.
  CardNetwork card_network{};
  /// Refunds: by default every refund goes through.
  RefundNetwork refund_network{};
  /// Called after each command handled has committed its reply (ring the relay's doorbell).
  std::function<void()> replied{};
};

/// @brief Where an order's payment stands.
enum class PaymentStatus {
  charged,   ///< The card was charged.
  declined,  ///< The card was declined (or the charge came after the checkout was cancelled).
  refunded,  ///< Charged, then refunded.
  voided,    ///< Cancelled before any charge: a charge arriving later is declined.
};

/// @brief One order's payment, as Payment keeps it.
struct PaymentRecord {
  std::uint64_t order_id = 0;                      ///< The order.
  std::uint64_t amount_cents = 0;                  ///< The amount asked for.
  PaymentStatus status = PaymentStatus::declined;  ///< Where it stands.
  std::string reason{};                            ///< Why declined or voided.
};

/// @brief Payment: handles ChargeCard and its compensation RefundPayment once per command id,
///        and decides once per order (a second charge for an order answers the first).
///
/// Tables (created if missing): `payments(order_id, card, amount_cents, status, reason)`, the
/// outbox and the command log. A refund the card network refuses changes nothing and is
/// answered with RefundFailed; the saga asks again (with a new command id).
///
/// @par Thread safety
/// One thread at a time (it owns one SQLite connection).
class Payment {
 public:
  /// @brief Opens (creating if needed) the database at `path`. Throws eda::StorageError.
  explicit Payment(const std::string& path, PaymentOptions options = {});

  /// @brief Handles ChargeCard or RefundPayment, replying with PaymentCharged, PaymentDeclined,
  ///        PaymentRefunded or RefundFailed. Throws UnknownCommand for another command and
  ///        eda::MalformedMessage for a payload that does not decode; nothing changes then.
  CommandOutcome handle(const DecodedEvent& command);

  /// @brief The order's payment, if Payment has heard of the order.
  [[nodiscard]] std::optional<PaymentRecord> find(std::uint64_t order_id) const;

  /// @brief Money taken and kept: the sum of the charges not refunded.
  [[nodiscard]] std::uint64_t captured_cents() const;

  /// @brief The outbox.
  [[nodiscard]] const Outbox& outbox() const noexcept { return parts_.outbox; }
  /// @brief The commands handled.
  [[nodiscard]] const CommandLog& commands() const noexcept { return parts_.commands; }
  /// @brief The database file.
  [[nodiscard]] const std::string& path() const noexcept { return parts_.db.path(); }

 private:
  std::uint64_t charge(sqlite::Transaction& open, const ChargeCard& charge, const Cause& cause);
  std::uint64_t refund(sqlite::Transaction& open, std::uint64_t order_id, const Cause& cause);
  void record(std::uint64_t order_id, std::string_view card, std::uint64_t amount_cents,
              PaymentStatus status, std::string_view reason);

  PaymentOptions options_;
  ParticipantDatabase parts_;
};

}  // namespace eda::saga
