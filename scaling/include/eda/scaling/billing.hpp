/// @file billing.hpp
/// @brief The shop's Billing story that the scaling module runs: three events of one order's
///        life (placed, amended, cancelled), and the payment gateway Billing calls for each.
///
/// For one order the events must be applied in the order they were published: a charge after
/// the cancellation, or an amendment charged before the order it amends, is the bug the
/// partitioned consumer group prevents. Every event of an order carries its `step` (1, 2, 3 ...
/// within the order), so whoever reads the gateway's record can check that order afterwards.
///
/// The gateway is a stand-in for a card processor: a SQLite file (so that members in several
/// processes charge one gateway) that records every charge it is asked to make, and takes a
/// configurable time per call (about 1 ms in the demo: I/O-bound, a timed wait, so the cores
/// are not the limit). Like a real processor's idempotency keys, a charge carries the event id:
/// a second charge with the same key is answered "already charged" and not recorded again.
/// A caller that leaves the key out is charged every time, and the record shows the double
/// charge (double_charges()): that is how the tests prove the checks can fail.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <msgpack.hpp>

#include "eda/codec.hpp"
#include "eda/sqlite/database.hpp"

namespace eda::scaling {

/// @brief An order was placed: charge its amount.
struct OrderPlaced {
  static constexpr std::string_view event_type = "shop.order.placed";  ///< Its type and topic.
  static constexpr std::uint32_t schema_version = 1;                   ///< Its payload's shape.
  std::string order_id;           ///< The order (the partition key).
  std::uint32_t step = 0;         ///< Its place in the order's life: 1, 2, 3 ...
  std::int64_t amount_cents = 0;  ///< The amount to charge.
  MSGPACK_DEFINE(order_id, step, amount_cents)
};

/// @brief An order's amount changed: charge (or refund) the difference. A negative new amount
///        is refused by the gateway every time: the module's poison event.
struct OrderAmended {
  static constexpr std::string_view event_type = "shop.order.amended";  ///< Its type and topic.
  static constexpr std::uint32_t schema_version = 1;                    ///< Its payload's shape.
  std::string order_id;                                                 ///< The order.
  std::uint32_t step = 0;         ///< Its place in the order's life.
  std::int64_t amount_cents = 0;  ///< The order's new amount.
  MSGPACK_DEFINE(order_id, step, amount_cents)
};

/// @brief An order was cancelled: refund it.
struct OrderCancelled {
  static constexpr std::string_view event_type = "shop.order.cancelled";  ///< Its type and topic.
  static constexpr std::uint32_t schema_version = 1;                      ///< Its payload's shape.
  std::string order_id;                                                   ///< The order.
  std::uint32_t step = 0;  ///< Its place in the order's life.
  MSGPACK_DEFINE(order_id, step)
};

/// @brief What Billing asks the gateway to do for one event.
struct ChargeRequest {
  std::string idempotency_key;    ///< The event id; empty: no key (charged every time).
  std::string order_id;           ///< The order.
  std::uint32_t step = 0;         ///< The event's step in the order's life.
  std::string kind;               ///< `charge`, `amend` or `refund`.
  std::int64_t amount_cents = 0;  ///< The amount (0 for a refund of the whole order).
  std::string charged_by;         ///< Which member asked (for the narration).
  std::int64_t published_ns = 0;  ///< When the event was published (its envelope's timestamp).
  MSGPACK_DEFINE(idempotency_key, order_id, step, kind, amount_cents, charged_by, published_ns)
};

/// @brief One charge as the gateway recorded it, with its two times: end-to-end latency is
///        `charged_ns - published_ns` (both wall clock, one machine).
struct ChargeRecord {
  std::string order_id;           ///< The order.
  std::uint32_t step = 0;         ///< The event's step in the order's life.
  std::string charged_by;         ///< Which member (worker, server) asked.
  std::int64_t published_ns = 0;  ///< When the event was published.
  std::int64_t charged_ns = 0;    ///< When the gateway recorded the charge.
};

/// @brief The gateway refused a charge (a negative amount): it will refuse it every time.
class ChargeDeclined : public Error {
 public:
  /// @brief A refusal saying why.
  explicit ChargeDeclined(const std::string& message)
      : Error(ErrorCategory::application, "charge declined: " + message) {}
};

/// @brief Throws ChargeDeclined when the gateway would refuse `request` (a negative amount):
///        it refuses it every time, however often it is asked.
void check_chargeable(const ChargeRequest& request);

/// @brief What Billing calls: a payment gateway that charges a request once per idempotency
///        key. Two stand-ins: BillingGateway (the record's file, opened by each caller) and
///        RemoteGateway (a GatewayService holding the record, over ZeroMQ).
class PaymentGateway {
 public:
  virtual ~PaymentGateway() = default;
  /// @brief Charges `request`: true when recorded now, false when its idempotency key was
  ///        already charged. Throws ChargeDeclined for a negative amount; other eda::Error
  ///        kinds when the gateway cannot be reached or cannot record (worth a retry).
  virtual bool charge(const ChargeRequest& request) = 0;
};

/// @brief The stand-in payment gateway (see the file's description).
///
/// @par Thread safety
/// One object per thread; several objects and processes may share the file (SQLite serialises
/// their writes, and the idempotency check runs in the same transaction as the charge).
class BillingGateway : public PaymentGateway {
 public:
  /// @brief Opens (creating if needed) the gateway's record in `path`; each call takes
  ///        `call_time` (a timed wait before it is recorded). Throws eda::StorageError.
  explicit BillingGateway(const std::string& path,
                          std::chrono::microseconds call_time = std::chrono::microseconds(0));

  /// @brief Charges `request`: true when recorded now, false when its idempotency key was
  ///        already charged. Throws ChargeDeclined for a negative amount.
  bool charge(const ChargeRequest& request) override;
  /// @brief Records `requests` in one transaction, with no wait (the GatewayService's group
  ///        commit): for each, true when recorded, false when its key was already charged
  ///        (earlier, or by an earlier request of the same call). Throws ChargeDeclined, before
  ///        recording anything, when one of them asks for a negative amount.
  std::vector<bool> record(const std::vector<ChargeRequest>& requests);

  /// @brief Charges recorded.
  [[nodiscard]] std::uint64_t charges() const;
  /// @brief Charges beyond the first of one event, an event being one step of one order (the
  ///        bug idempotency prevents). Counted by order and step rather than by key, so that
  ///        charges made without a key count too.
  [[nodiscard]] std::uint64_t double_charges() const;
  /// @brief Charges recorded with a step lower than an earlier charge of the same order: each
  ///        one is an order applied out of order.
  [[nodiscard]] std::uint64_t order_violations() const;
  /// @brief Charges recorded for members named `name` (ids `name-1`, `name-2` ...).
  [[nodiscard]] std::uint64_t charges_by(std::string_view name) const;
  /// @brief Orders with at least one charge.
  [[nodiscard]] std::uint64_t orders() const;
  /// @brief The charges recorded at or after `since_ns` (wall clock), in the order recorded.
  [[nodiscard]] std::vector<ChargeRecord> records(std::int64_t since_ns = 0) const;

 private:
  sqlite::Database db_;
  std::chrono::microseconds call_time_;
  sqlite::Statement find_key_;
  sqlite::Statement insert_;
};

/// @brief What Billing did with one event.
enum class BillingOutcome {
  charged,          ///< The gateway recorded it.
  already_charged,  ///< Its event id had been charged before (a re-delivery).
};

/// @brief Billing's handler: decodes `envelope` (one of the three events) and charges the
///        gateway with its event id as idempotency key (none when `idempotent` is false).
///        Throws MalformedMessage for bytes that are not one of the three events, and
///        ChargeDeclined when the gateway refuses.
BillingOutcome bill(PaymentGateway& gateway, std::string_view envelope, std::string_view member,
                    bool idempotent = true);

/// @brief The order id (partition key) and step of a Billing event's envelope; throws
///        MalformedMessage as bill().
struct OrderStep {
  std::string order_id;    ///< The order.
  std::uint32_t step = 0;  ///< The step.
};

/// @brief Reads the order id and step of a Billing event's envelope.
OrderStep order_step_of(const DecodedEvent& event);

}  // namespace eda::scaling
