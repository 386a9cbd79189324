// Payment: charges and refunds, decided once per order, answered through the outbox.
#include "eda/saga/payment.hpp"

#include <array>
#include <stdexcept>
#include <utility>

namespace eda::saga {
namespace {

constexpr std::array<std::string_view, 4> status_names{"charged", "declined", "refunded", "voided"};

PaymentStatus status_from(std::string_view name) {
  return status_named<PaymentStatus>(status_names, name, "payments");
}

std::string_view name_of(PaymentStatus status) {
  return status_names.at(static_cast<std::size_t>(status));
}

}  // namespace

Payment::Payment(const std::string& path, PaymentOptions options)
    : options_(std::move(options)), parts_(path, options_.durability, "payment database") {
  parts_.db.exec(
      "CREATE TABLE IF NOT EXISTS payments ("
      " order_id INTEGER PRIMARY KEY, card TEXT NOT NULL, amount_cents INTEGER NOT NULL,"
      " status TEXT NOT NULL, reason TEXT NOT NULL);");
  if (!options_.card_network) {
    options_.card_network = [](const ChargeCard& charge) -> std::optional<std::string> {
      if (charge.card == declined_card) return "card declined by the issuer";
      return std::nullopt;
    };
  }
}

CommandOutcome Payment::handle(const DecodedEvent& command) {
  return handle_command<ChargeCard, RefundPayment>(
      parts_.commands, command, options_.source,
      [this](sqlite::Transaction& tx, const ChargeCard& asked, const Cause& cause) {
        return charge(tx, asked, cause);
      },
      [this](sqlite::Transaction& tx, const RefundPayment& asked, const Cause& cause) {
        return refund(tx, asked.order_id, cause);
      },
      options_.replied);
}

std::uint64_t Payment::charge(sqlite::Transaction& open, const ChargeCard& charge,
                              const Cause& cause) {
  std::optional<PaymentRecord> earlier = find(charge.order_id);
  if (!earlier) {
    const std::optional<std::string> refusal = options_.card_network(charge);
    record(charge.order_id, charge.card, charge.amount_cents,
           refusal ? PaymentStatus::declined : PaymentStatus::charged, refusal.value_or(""));
    earlier = find(charge.order_id);
  }
  if (earlier->status == PaymentStatus::charged) {
    return parts_.outbox.add(
        open, make_metadata<PaymentCharged>(options_.source, cause),
        PaymentCharged{.order_id = charge.order_id, .amount_cents = earlier->amount_cents});
  }
  return parts_.outbox.add(open, make_metadata<PaymentDeclined>(options_.source, cause),
                           PaymentDeclined{.order_id = charge.order_id, .reason = earlier->reason});
}

std::uint64_t Payment::refund(sqlite::Transaction& open, std::uint64_t order_id,
                              const Cause& cause) {
  const std::optional<PaymentRecord> earlier = find(order_id);
  std::uint64_t refunded = 0;
  if (!earlier) {
    // Refunded before it was charged: the charge is late or lost. Voiding the order now
    // makes that late charge a decline.
    record(order_id, "", 0, PaymentStatus::voided, "the checkout was cancelled before the charge");
  } else if (earlier->status == PaymentStatus::charged) {
    if (std::optional<std::string> refusal =
            options_.refund_network ? options_.refund_network(order_id) : std::nullopt) {
      return parts_.outbox.add(open, make_metadata<RefundFailed>(options_.source, cause),
                               RefundFailed{.order_id = order_id, .reason = *refusal});
    }
    sqlite::Statement update(parts_.db.handle(),
                             "UPDATE payments SET status = 'refunded' WHERE order_id = ?");
    update.bind(order_id);
    update.run();
    refunded = earlier->amount_cents;
  } else if (earlier->status == PaymentStatus::refunded) {
    refunded = earlier->amount_cents;  // refunded before: the same answer
  }
  return parts_.outbox.add(open, make_metadata<PaymentRefunded>(options_.source, cause),
                           PaymentRefunded{.order_id = order_id, .amount_cents = refunded});
}

void Payment::record(std::uint64_t order_id, std::string_view card, std::uint64_t amount_cents,
                     PaymentStatus status, std::string_view reason) {
  sqlite::Statement insert(parts_.db.handle(),
                           "INSERT INTO payments (order_id, card, amount_cents, status, reason) "
                           "VALUES (?, ?, ?, ?, ?)");
  insert.bind(order_id, card, amount_cents, name_of(status), reason);
  insert.run();
}

std::optional<PaymentRecord> Payment::find(std::uint64_t order_id) const {
  sqlite::Statement query(parts_.db.handle(),
                          "SELECT amount_cents, status, reason FROM payments WHERE order_id = ?");
  query.bind(order_id);
  std::optional<PaymentRecord> found;
  if (query.step()) {
    found = PaymentRecord{.order_id = order_id,
                          .amount_cents = static_cast<std::uint64_t>(query.integer(0)),
                          .status = status_from(query.text(1)),
                          .reason = std::string(query.text(2))};
  }
  query.done();
  return found;
}

std::uint64_t Payment::captured_cents() const {
  sqlite::Statement query(parts_.db.handle(),
                          "SELECT SUM(amount_cents) FROM payments WHERE status = 'charged'");
  return static_cast<std::uint64_t>(query.single_integer());
}

}  // namespace eda::saga
