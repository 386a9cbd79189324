// The Billing story: the stand-in payment gateway (a SQLite record of charges with idempotency
// keys) and Billing's handler for the three order events.
#include "eda/scaling/billing.hpp"

#include <thread>

#include "eda/envelope.hpp"

namespace eda::scaling {
namespace {

constexpr const char* schema_sql = R"sql(
CREATE TABLE IF NOT EXISTS charges (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  idempotency_key TEXT,
  order_id        TEXT    NOT NULL,
  step            INTEGER NOT NULL,
  kind            TEXT    NOT NULL,
  amount_cents    INTEGER NOT NULL,
  charged_by      TEXT    NOT NULL,
  published_ns    INTEGER NOT NULL DEFAULT 0,
  charged_ns      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS charges_by_key ON charges (idempotency_key);
)sql";

/// Creates the gateway's table when missing; returns the connection, for the statements.
sqlite3* with_schema(const sqlite::Database& db) {
  db.exec(schema_sql);
  return db.handle();
}

std::uint64_t count(const sqlite::Database& db, const char* sql) {
  sqlite::Statement query(db.handle(), sql);
  return static_cast<std::uint64_t>(query.single_integer());
}

}  // namespace

BillingGateway::BillingGateway(const std::string& path, std::chrono::microseconds call_time)
    : db_(path, sqlite::Durability::normal, "billing gateway"),
      call_time_(call_time),
      find_key_(with_schema(db_), "SELECT count(*) FROM charges WHERE idempotency_key = ?"),
      insert_(db_.handle(),
              "INSERT INTO charges (idempotency_key, order_id, step, kind, amount_cents, "
              "charged_by, published_ns, charged_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?)") {}

void check_chargeable(const ChargeRequest& request) {
  if (request.amount_cents < 0) {
    throw ChargeDeclined("order " + printable(request.order_id) + " step " +
                         std::to_string(request.step) + " asks for a negative amount (" +
                         std::to_string(request.amount_cents) + " cents)");
  }
}

bool BillingGateway::charge(const ChargeRequest& request) {
  check_chargeable(request);
  // The call's time on the network: a timed wait, so a slow gateway does not use a core.
  if (call_time_.count() > 0) std::this_thread::sleep_for(call_time_);
  return record({request}).front();
}

std::vector<bool> BillingGateway::record(const std::vector<ChargeRequest>& requests) {
  for (const ChargeRequest& request : requests) check_chargeable(request);
  std::vector<bool> recorded;
  recorded.reserve(requests.size());
  sqlite::Transaction transaction(db_);
  for (const ChargeRequest& request : requests) {
    const bool keyed = !request.idempotency_key.empty();
    // In the same transaction as the insert: a key charged by another connection, or by an
    // earlier request of this call, is seen here.
    if (keyed && find_key_.bind(std::string_view(request.idempotency_key)).single_integer() > 0) {
      recorded.push_back(false);
      continue;
    }
    const std::optional<std::string_view> key =
        keyed ? std::optional<std::string_view>(request.idempotency_key) : std::nullopt;
    insert_
        .bind(key, std::string_view(request.order_id), static_cast<std::int64_t>(request.step),
              std::string_view(request.kind), request.amount_cents,
              std::string_view(request.charged_by), request.published_ns, wall_clock_ns())
        .run();
    recorded.push_back(true);
  }
  transaction.commit();
  return recorded;
}

std::uint64_t BillingGateway::charges() const { return count(db_, "SELECT count(*) FROM charges"); }

std::uint64_t BillingGateway::double_charges() const {
  // Charges of one event beyond its first: keyed by the event id when there is one, else by
  // the order and step (each event is one step of one order).
  return count(db_,
               "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM charges "
               "GROUP BY order_id, step)");
}

std::uint64_t BillingGateway::order_violations() const {
  return count(db_,
               "SELECT count(*) FROM (SELECT step, max(step) OVER (PARTITION BY order_id "
               "ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before "
               "FROM charges) WHERE step < before");
}

std::uint64_t BillingGateway::charges_by(std::string_view name) const {
  sqlite::Statement query(
      db_.handle(),
      "SELECT count(*) FROM charges WHERE substr(charged_by, 1, length(?1) + 1) "
      "= ?1 || '-'");
  return static_cast<std::uint64_t>(query.bind(name).single_integer());
}

std::uint64_t BillingGateway::orders() const {
  return count(db_, "SELECT count(DISTINCT order_id) FROM charges");
}

std::vector<ChargeRecord> BillingGateway::records(std::int64_t since_ns) const {
  sqlite::Statement query(db_.handle(),
                          "SELECT order_id, step, charged_by, published_ns, charged_ns FROM charges "
                          "WHERE charged_ns >= ? ORDER BY id");
  query.bind(since_ns);
  std::vector<ChargeRecord> found;
  while (query.step()) {
    found.push_back(ChargeRecord{std::string(query.text(0)),
                                 static_cast<std::uint32_t>(query.integer(1)),
                                 std::string(query.text(2)), query.integer(3), query.integer(4)});
  }
  return found;
}

OrderStep order_step_of(const DecodedEvent& event) {
  if (event.is<OrderPlaced>()) {
    const auto placed = event.payload_as<OrderPlaced>();
    return {placed.order_id, placed.step};
  }
  if (event.is<OrderAmended>()) {
    const auto amended = event.payload_as<OrderAmended>();
    return {amended.order_id, amended.step};
  }
  if (event.is<OrderCancelled>()) {
    const auto cancelled = event.payload_as<OrderCancelled>();
    return {cancelled.order_id, cancelled.step};
  }
  throw MalformedMessage(
      WireFault::wrong_event_type,
      "Billing handles order placed, amended and cancelled events, not " + printable(event.type()));
}

BillingOutcome bill(PaymentGateway& gateway, std::string_view envelope, std::string_view member,
                    bool idempotent) {
  const auto event = DecodedEvent::decode(envelope);
  ChargeRequest request;
  request.idempotency_key = idempotent ? event.meta().event_id : std::string();
  request.charged_by = std::string(member);
  request.published_ns = event.meta().timestamp_ns;
  if (event.is<OrderPlaced>()) {
    const auto placed = event.payload_as<OrderPlaced>();
    request.order_id = placed.order_id;
    request.step = placed.step;
    request.kind = "charge";
    request.amount_cents = placed.amount_cents;
  } else if (event.is<OrderAmended>()) {
    const auto amended = event.payload_as<OrderAmended>();
    request.order_id = amended.order_id;
    request.step = amended.step;
    request.kind = "amend";
    request.amount_cents = amended.amount_cents;
  } else {
    const OrderStep cancelled = order_step_of(event);  // throws for any other type
    request.order_id = cancelled.order_id;
    request.step = cancelled.step;
    request.kind = "refund";
  }
  return gateway.charge(request) ? BillingOutcome::charged : BillingOutcome::already_charged;
}

}  // namespace eda::scaling
