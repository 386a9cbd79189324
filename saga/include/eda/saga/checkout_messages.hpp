/// @file checkout_messages.hpp
/// @brief The checkout saga's messages: the commands the Order saga sends to the three
///        participants, and the replies the participants announce through their outboxes.
///
/// Commands are imperative (`ReserveStock`), replies past tense (`StockReserved`). Both travel
/// in the kit's envelope: a command's event id is its **command id** (participants deduplicate
/// by it), and a reply's causation id is the id of the command it answers (the orchestrator
/// matches replies to the command it is waiting for by it, so a late reply to an earlier
/// attempt is recognised as stale). Inventory's StockReserved and StockRejected are in
/// stock_events.hpp.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <msgpack.hpp>

#include "eda/errors.hpp"
#include "eda/saga/stock_events.hpp"

namespace eda::saga {

/// @brief Topic prefix of the commands to Inventory.
inline constexpr std::string_view inventory_commands = "shop.command.inventory.";
/// @brief Topic prefix of the commands to Payment.
inline constexpr std::string_view payment_commands = "shop.command.payment.";
/// @brief Topic prefix of the commands to Shipping.
inline constexpr std::string_view shipping_commands = "shop.command.shipping.";
/// @brief Topic prefix of every Payment event.
inline constexpr std::string_view payment_topic = "shop.payment.";
/// @brief Topic prefix of every Shipping event.
inline constexpr std::string_view shipping_topic = "shop.shipping.";

// ---- Commands --------------------------------------------------------------------------------

/// @brief Command to Inventory: set `quantity` of `sku` aside for the order.
struct ReserveStock {
  /// @brief The command type, also the topic.
  static constexpr std::string_view event_type = "shop.command.inventory.reserve-stock";
  /// @brief The payload's shape version.
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t order_id = 0;  ///< The order.
  std::string sku{};           ///< What it buys.
  std::uint64_t quantity = 0;  ///< How many.
  MSGPACK_DEFINE(order_id, sku, quantity)
};

/// @brief Command to Inventory (a compensation): give back what the order holds, and refuse
///        a reservation for it that arrives later.
struct ReleaseStock {
  /// @brief The command type, also the topic.
  static constexpr std::string_view event_type = "shop.command.inventory.release-stock";
  /// @brief The payload's shape version.
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t order_id = 0;  ///< The order.
  MSGPACK_DEFINE(order_id)
};

/// @brief Command to Payment: charge `amount_cents` to `card` for the order.
struct ChargeCard {
  /// @brief The command type, also the topic.
  static constexpr std::string_view event_type = "shop.command.payment.charge-card";
  /// @brief The payload's shape version.
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t order_id = 0;      ///< The order.
  std::string card{};              ///< The card number.
  std::uint64_t amount_cents = 0;  ///< How much.
  MSGPACK_DEFINE(order_id, card, amount_cents)
};

/// @brief Command to Payment (a compensation): refund the order's charge, and refuse a charge
///        for it that arrives later.
struct RefundPayment {
  /// @brief The command type, also the topic.
  static constexpr std::string_view event_type = "shop.command.payment.refund-payment";
  /// @brief The payload's shape version.
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t order_id = 0;  ///< The order.
  MSGPACK_DEFINE(order_id)
};

/// @brief Command to Shipping: book a parcel to `address` for the order.
struct BookParcel {
  /// @brief The command type, also the topic.
  static constexpr std::string_view event_type = "shop.command.shipping.book-parcel";
  /// @brief The payload's shape version.
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t order_id = 0;  ///< The order.
  std::string address{};       ///< Where it goes.
  MSGPACK_DEFINE(order_id, address)
};

/// @brief Command to Shipping: cancel the order's booking if one was made, and refuse one that
///        arrives later (sent only when a booking timed out: its outcome is unknown).
struct CancelParcel {
  /// @brief The command type, also the topic.
  static constexpr std::string_view event_type = "shop.command.shipping.cancel-parcel";
  /// @brief The payload's shape version.
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t order_id = 0;  ///< The order.
  MSGPACK_DEFINE(order_id)
};

// ---- Replies ---------------------------------------------------------------------------------

/// @brief Inventory gave back what an order held (`quantity` 0: it held nothing).
struct StockReleased {
  /// @brief The event type, also the topic.
  static constexpr std::string_view event_type = "shop.inventory.stock-released";
  /// @brief The payload's shape version.
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t order_id = 0;  ///< The order.
  std::uint64_t quantity = 0;  ///< Units put back on the shelf.
  MSGPACK_DEFINE(order_id, quantity)
};

/// @brief Payment charged the order's card.
struct PaymentCharged {
  /// @brief The event type, also the topic.
  static constexpr std::string_view event_type = "shop.payment.charged";
  /// @brief The payload's shape version.
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t order_id = 0;      ///< The order.
  std::uint64_t amount_cents = 0;  ///< How much.
  MSGPACK_DEFINE(order_id, amount_cents)
};

/// @brief Payment did not charge the order: the card was declined (or the checkout had been
///        cancelled before the charge arrived).
struct PaymentDeclined {
  /// @brief The event type, also the topic.
  static constexpr std::string_view event_type = "shop.payment.declined";
  /// @brief The payload's shape version.
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t order_id = 0;  ///< The order.
  std::string reason{};        ///< Why.
  MSGPACK_DEFINE(order_id, reason)
};

/// @brief Payment refunded the order (`amount_cents` 0: nothing had been charged).
struct PaymentRefunded {
  /// @brief The event type, also the topic.
  static constexpr std::string_view event_type = "shop.payment.refunded";
  /// @brief The payload's shape version.
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t order_id = 0;      ///< The order.
  std::uint64_t amount_cents = 0;  ///< How much went back.
  MSGPACK_DEFINE(order_id, amount_cents)
};

/// @brief Payment could not refund the order this time (the card network refused): the
///        charge stands, and the refund may be asked for again.
struct RefundFailed {
  /// @brief The event type, also the topic.
  static constexpr std::string_view event_type = "shop.payment.refund-failed";
  /// @brief The payload's shape version.
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t order_id = 0;  ///< The order.
  std::string reason{};        ///< Why.
  MSGPACK_DEFINE(order_id, reason)
};

/// @brief Shipping booked a parcel for the order.
struct ParcelBooked {
  /// @brief The event type, also the topic.
  static constexpr std::string_view event_type = "shop.shipping.parcel-booked";
  /// @brief The payload's shape version.
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t order_id = 0;  ///< The order.
  std::string parcel_id{};     ///< The carrier's reference.
  MSGPACK_DEFINE(order_id, parcel_id)
};

/// @brief Shipping could not book a parcel for the order (or the booking had been cancelled).
struct ParcelRefused {
  /// @brief The event type, also the topic.
  static constexpr std::string_view event_type = "shop.shipping.parcel-refused";
  /// @brief The payload's shape version.
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t order_id = 0;  ///< The order.
  std::string reason{};        ///< Why.
  MSGPACK_DEFINE(order_id, reason)
};

/// @brief Shipping cancelled the order's booking (or noted that none may be made).
struct ParcelCancelled {
  /// @brief The event type, also the topic.
  static constexpr std::string_view event_type = "shop.shipping.parcel-cancelled";
  /// @brief The payload's shape version.
  static constexpr std::uint32_t schema_version = 1;
  std::uint64_t order_id = 0;  ///< The order.
  bool was_booked = false;     ///< Whether a booking existed and was cancelled.
  MSGPACK_DEFINE(order_id, was_booked)
};

/// @brief A participant was handed a command it does not know (a wrong topic, a newer
///        orchestrator): refused, nothing changed. Category: ErrorCategory::application.
class UnknownCommand : public Error {
 public:
  /// @brief `participant` does not handle commands of `type`.
  UnknownCommand(std::string_view participant, std::string_view type)
      : Error(ErrorCategory::application,
              std::string(participant) + " does not handle commands of type '" + printable(type) +
                  "'; send it to the participant that does") {}
};

}  // namespace eda::saga
