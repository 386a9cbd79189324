// The choreographed checkout: the Order desk, each service's reaction rules, and the Reactor
// that turns an event into its participant's command.
#include "eda/saga/choreography.hpp"

#include <utility>

#include "eda/saga/checkout_messages.hpp"
#include "eda/saga/checkout_orchestrator.hpp"

namespace eda::saga {
namespace {

/// The order an event of the checkout is about: every checkout message carries the order id as
/// its first field (OrderPlaced as the first field of its order). Nothing for other payloads.
std::optional<std::uint64_t> order_of(const DecodedEvent& event) {
  const msgpack::object* field = &event.payload();
  for (int depth = 0; depth < 2 && field->type == msgpack::type::ARRAY; ++depth) {
    if (field->via.array.size == 0) return std::nullopt;
    field = &field->via.array.ptr[0];
  }
  if (field->type != msgpack::type::POSITIVE_INTEGER) return std::nullopt;
  return field->via.u64;
}

constexpr std::string_view pending = "PENDING";

}  // namespace

OrderDesk::OrderDesk(const std::string& path, sqlite::Durability durability)
    : parts_(path, durability, "order desk database") {
  parts_.db.exec(
      "CREATE TABLE IF NOT EXISTS orders ("
      " order_id INTEGER PRIMARY KEY, status TEXT NOT NULL);");
}

std::string OrderDesk::place(const CheckoutRequest& request) {
  if (status(request.order_id)) {
    throw CheckoutRefused("order " + std::to_string(request.order_id) + " was placed before");
  }
  sqlite::Transaction tx(parts_.db);
  sqlite::Statement insert(parts_.db.handle(),
                           "INSERT INTO orders (order_id, status) VALUES (?, ?)");
  insert.bind(request.order_id, pending);
  insert.run();
  const EventMetadata meta = make_metadata<OrderPlaced>("order-desk");
  (void)parts_.outbox.add(tx, meta, OrderPlaced{request});
  tx.commit();
  return meta.event_id;
}

bool OrderDesk::react(const DecodedEvent& event) {
  const std::optional<std::uint64_t> order = order_of(event);
  if (!order) return false;
  if (event.is<ParcelBooked>()) return settle(*order, OrderStatus::approved);
  if (event.is<StockRejected>() || event.is<StockReleased>()) {
    return settle(*order, OrderStatus::rejected);
  }
  return false;
}

bool OrderDesk::settle(std::uint64_t order_id, OrderStatus status) {
  // Only a PENDING order moves: a duplicate, or a release after a booking cancelled, changes
  // nothing that is settled.
  sqlite::Statement update(parts_.db.handle(),
                           "UPDATE orders SET status = ? WHERE order_id = ? AND status = ?");
  update.bind(to_string(status), order_id, pending);
  update.run();
  return parts_.db.changes() > 0;
}

std::optional<OrderStatus> OrderDesk::status(std::uint64_t order_id) const {
  sqlite::Statement query(parts_.db.handle(), "SELECT status FROM orders WHERE order_id = ?");
  query.bind(order_id);
  std::optional<OrderStatus> found;
  if (query.step()) {
    const std::string_view name = query.text(0);
    found = name == to_string(OrderStatus::approved)   ? OrderStatus::approved
            : name == to_string(OrderStatus::rejected) ? OrderStatus::rejected
                                                       : OrderStatus::pending;
  }
  query.done();
  return found;
}

std::uint64_t OrderDesk::pending_count() const {
  sqlite::Statement query(parts_.db.handle(), "SELECT COUNT(*) FROM orders WHERE status = ?");
  query.bind(pending);
  return static_cast<std::uint64_t>(query.single_integer());
}

std::optional<std::string> inventory_reaction(const DecodedEvent& event,
                                              const CheckoutRequest& order) {
  if (event.is<OrderPlaced>()) {
    return reaction_command(event, ReserveStock{order.order_id, order.sku, order.quantity});
  }
  if (event.is<PaymentDeclined>() || event.is<PaymentRefunded>()) {
    return reaction_command(event, ReleaseStock{order.order_id});
  }
  return std::nullopt;
}

std::optional<std::string> payment_reaction(const DecodedEvent& event,
                                            const CheckoutRequest& order) {
  if (event.is<StockReserved>()) {
    return reaction_command(event, ChargeCard{order.order_id, order.card, order.amount_cents});
  }
  if (event.is<ParcelRefused>()) return reaction_command(event, RefundPayment{order.order_id});
  return std::nullopt;
}

std::optional<std::string> shipping_reaction(const DecodedEvent& event,
                                             const CheckoutRequest& order) {
  if (event.is<PaymentCharged>()) {
    return reaction_command(event, BookParcel{order.order_id, order.address});
  }
  return std::nullopt;
}

Reactor::Reactor(const std::string& path, const CommandLog& commands, Reaction reaction,
                 Handler handler, sqlite::Durability durability)
    : db_(path, durability, "reactor's database"),
      commands_(commands),
      reaction_(std::move(reaction)),
      handler_(std::move(handler)) {
  db_.exec(
      "CREATE TABLE IF NOT EXISTS known_orders ("
      " order_id INTEGER PRIMARY KEY, request BLOB NOT NULL);");
}

Reacted Reactor::react(const DecodedEvent& event) {
  bool learnt = false;
  if (event.is<OrderPlaced>()) {
    const CheckoutRequest order = event.payload_as<OrderPlaced>().order;
    sqlite::Statement keep(db_.handle(),
                           "INSERT OR IGNORE INTO known_orders (order_id, request) VALUES (?, ?)");
    const std::string request = encode_value(order);
    keep.bind(order.order_id, sqlite::Statement::as_blob(request));
    keep.run();
    learnt = true;
  }
  const std::optional<std::uint64_t> order_id = order_of(event);
  const std::optional<CheckoutRequest> order = order_id ? known(*order_id) : std::nullopt;
  if (!order) return learnt ? Reacted::learnt : Reacted::ignored;
  const std::optional<std::string> command = reaction_(event, *order);
  if (!command) return learnt ? Reacted::learnt : Reacted::ignored;
  // The command's id is the event's: an event seen again finds its command handled.
  if (commands_.handled(event.event_id())) return Reacted::duplicate;
  (void)handler_(DecodedEvent::decode(*command));
  return Reacted::handled;
}

std::optional<CheckoutRequest> Reactor::known(std::uint64_t order_id) const {
  sqlite::Statement query(db_.handle(), "SELECT request FROM known_orders WHERE order_id = ?");
  query.bind(order_id);
  std::optional<CheckoutRequest> found;
  if (query.step()) {
    found = decode_value<CheckoutRequest>(query.blob(0), "a known order");
  }
  query.done();
  return found;
}

}  // namespace eda::saga
