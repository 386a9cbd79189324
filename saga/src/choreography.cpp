// The choreographed checkout: the Order desk, each service's reaction rules, and the Reactor
// that turns an event into its participant's command.
#include "eda/saga/choreography.hpp"

#include <stdexcept>
#include <utility>
#include <vector>

#include "eda/clock.hpp"
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

OrderDesk::OrderDesk(const std::string& path, OrderDeskOptions options)
    : options_(std::move(options)), parts_(path, options_.durability, "order desk database") {
  if (options_.order_timeout <= std::chrono::milliseconds(0)) {
    throw std::invalid_argument("an order desk's order timeout must be positive");
  }
  if (!options_.clock) options_.clock = wall_clock_ns;
  // `deadlines`: when each checkout times out, and what to announce then. `timeouts`: every
  // OrderTimedOut announced (the undos name it as their cause). `undos`: the undos confirmed.
  // Orders placed by a desk older than these tables have no deadline, and never time out.
  parts_.db.exec(
      "CREATE TABLE IF NOT EXISTS orders ("
      " order_id INTEGER PRIMARY KEY, status TEXT NOT NULL);"
      "CREATE TABLE IF NOT EXISTS deadlines ("
      " order_id INTEGER PRIMARY KEY, correlation_id TEXT NOT NULL, request BLOB NOT NULL,"
      " deadline_ns INTEGER NOT NULL, announced INTEGER NOT NULL);"
      "CREATE TABLE IF NOT EXISTS timeouts ("
      " event_id TEXT PRIMARY KEY, order_id INTEGER NOT NULL) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS undos ("
      " order_id INTEGER NOT NULL, undo_type TEXT NOT NULL, PRIMARY KEY (order_id, undo_type))"
      " WITHOUT ROWID;");
}

std::int64_t OrderDesk::deadline_after_now() const {
  return options_.clock() + std::chrono::nanoseconds(options_.order_timeout).count();
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
  sqlite::Statement deadline(parts_.db.handle(),
                             "INSERT INTO deadlines (order_id, correlation_id, request, "
                             "deadline_ns, announced) VALUES (?, ?, ?, ?, 0)");
  const std::string encoded = encode_value(request);
  deadline.bind(request.order_id, meta.event_id, sqlite::Statement::as_blob(encoded),
                deadline_after_now());
  deadline.run();
  (void)parts_.outbox.add(tx, meta, OrderPlaced{request});
  tx.commit();
  return meta.event_id;
}

bool OrderDesk::react(const DecodedEvent& event) {
  const std::optional<std::uint64_t> order = order_of(event);
  if (!order) return false;
  // Past its deadline the order is being cancelled: only the undos count now. A late
  // ParcelBooked, or a StockRejected the fence produced, settles nothing.
  if (timed_out(*order)) return confirm_undo(event, *order);
  if (event.is<ParcelBooked>()) return settle(*order, OrderStatus::approved);
  if (event.is<StockRejected>() || event.is<StockReleased>()) {
    return settle(*order, OrderStatus::rejected);
  }
  return false;
}

bool OrderDesk::confirm_undo(const DecodedEvent& event, std::uint64_t order_id) {
  if (!event.is<StockReleased>() && !event.is<PaymentRefunded>() && !event.is<ParcelCancelled>()) {
    return false;
  }
  // An undo counts only if one of this order's OrderTimedOut caused it (a release that a
  // declined card caused, say, says nothing about Shipping).
  sqlite::Statement cause(parts_.db.handle(),
                          "SELECT COUNT(*) FROM timeouts WHERE event_id = ? AND order_id = ?");
  cause.bind(event.meta().causation_id, order_id);
  if (cause.single_integer() == 0) return false;
  sqlite::Statement confirm(parts_.db.handle(),
                            "INSERT OR IGNORE INTO undos (order_id, undo_type) VALUES (?, ?)");
  confirm.bind(order_id, event.type());
  confirm.run();
  sqlite::Statement count(parts_.db.handle(), "SELECT COUNT(*) FROM undos WHERE order_id = ?");
  count.bind(order_id);
  return count.single_integer() == 3 && settle(order_id, OrderStatus::rejected);
}

std::size_t OrderDesk::expire() {
  struct Due {
    std::uint64_t order_id;
    std::string correlation_id;
    CheckoutRequest request;
    std::uint32_t announced;
  };
  std::vector<Due> due;
  {
    sqlite::Statement query(parts_.db.handle(),
                            "SELECT d.order_id, d.correlation_id, d.request, d.announced "
                            "FROM deadlines d JOIN orders o ON o.order_id = d.order_id "
                            "WHERE o.status = ? AND d.deadline_ns <= ? ORDER BY d.order_id");
    query.bind(pending, options_.clock());
    while (query.step()) {
      due.push_back(Due{static_cast<std::uint64_t>(query.integer(0)), std::string(query.text(1)),
                        decode_value<CheckoutRequest>(query.blob(2), "an order's deadline"),
                        static_cast<std::uint32_t>(query.integer(3))});
    }
    query.done();
  }
  for (const Due& order : due) {
    sqlite::Transaction tx(parts_.db);
    // Part of the checkout's causal tree: caused by the OrderPlaced that went unanswered.
    const EventMetadata meta = make_metadata<OrderTimedOut>(
        "order-desk", Cause{order.correlation_id, order.correlation_id});
    sqlite::Statement announce(parts_.db.handle(),
                               "INSERT INTO timeouts (event_id, order_id) VALUES (?, ?)");
    announce.bind(meta.event_id, order.order_id);
    announce.run();
    sqlite::Statement next(
        parts_.db.handle(),
        "UPDATE deadlines SET deadline_ns = ?, announced = ? WHERE order_id = ?");
    next.bind(deadline_after_now(), std::uint64_t{order.announced} + 1, order.order_id);
    next.run();
    (void)parts_.outbox.add(tx, meta, OrderTimedOut{order.request, order.announced + 1});
    tx.commit();
  }
  return due.size();
}

std::optional<std::int64_t> OrderDesk::next_deadline_ns() const {
  sqlite::Statement query(parts_.db.handle(),
                          "SELECT MIN(d.deadline_ns) FROM deadlines d JOIN orders o "
                          "ON o.order_id = d.order_id WHERE o.status = ?");
  query.bind(pending);
  std::optional<std::int64_t> earliest;
  if (query.step() && !query.is_null(0)) earliest = query.integer(0);
  query.done();
  return earliest;
}

bool OrderDesk::timed_out(std::uint64_t order_id) const {
  sqlite::Statement query(parts_.db.handle(), "SELECT COUNT(*) FROM timeouts WHERE order_id = ?");
  query.bind(order_id);
  return query.single_integer() != 0;
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
  if (event.is<PaymentDeclined>() || event.is<PaymentRefunded>() || event.is<OrderTimedOut>()) {
    return reaction_command(event, ReleaseStock{order.order_id});
  }
  return std::nullopt;
}

std::optional<std::string> payment_reaction(const DecodedEvent& event,
                                            const CheckoutRequest& order) {
  if (event.is<StockReserved>()) {
    return reaction_command(event, ChargeCard{order.order_id, order.card, order.amount_cents});
  }
  if (event.is<ParcelRefused>() || event.is<OrderTimedOut>()) {
    return reaction_command(event, RefundPayment{order.order_id});
  }
  return std::nullopt;
}

std::optional<std::string> shipping_reaction(const DecodedEvent& event,
                                             const CheckoutRequest& order) {
  if (event.is<PaymentCharged>()) {
    return reaction_command(event, BookParcel{order.order_id, order.address});
  }
  if (event.is<OrderTimedOut>()) return reaction_command(event, CancelParcel{order.order_id});
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
      " order_id INTEGER PRIMARY KEY, request BLOB NOT NULL);"
      "CREATE TABLE IF NOT EXISTS parked_events ("
      " arrival INTEGER PRIMARY KEY AUTOINCREMENT, order_id INTEGER NOT NULL,"
      " event_id TEXT NOT NULL UNIQUE, envelope BLOB NOT NULL);");
}

Reacted Reactor::react(const DecodedEvent& event) {
  std::optional<CheckoutRequest> learnt;
  // OrderTimedOut carries the order too: a service that missed OrderPlaced (or hears the
  // timeout first) still undoes, and so fences off the OrderPlaced that may come after it.
  if (event.is<OrderPlaced>() || event.is<OrderTimedOut>()) {
    learnt = event.is<OrderPlaced>() ? event.payload_as<OrderPlaced>().order
                                     : event.payload_as<OrderTimedOut>().order;
    sqlite::Statement keep(db_.handle(),
                           "INSERT OR IGNORE INTO known_orders (order_id, request) VALUES (?, ?)");
    const std::string request = encode_value(*learnt);
    keep.bind(learnt->order_id, sqlite::Statement::as_blob(request));
    keep.run();
  }
  const std::optional<std::uint64_t> order_id = order_of(event);
  if (!order_id) return Reacted::ignored;
  const std::optional<CheckoutRequest> order = known(*order_id);
  if (!order) {
    park(event, *order_id);
    return Reacted::parked;
  }
  const Reacted verdict = react_known(event, *order);
  if (learnt) unpark(*learnt);
  if (verdict == Reacted::ignored && learnt) return Reacted::learnt;
  return verdict;
}

Reacted Reactor::react_known(const DecodedEvent& event, const CheckoutRequest& order) {
  const std::optional<std::string> command = reaction_(event, order);
  if (!command) return Reacted::ignored;
  // The command's id is the event's: an event seen again finds its command handled.
  if (commands_.handled(event.event_id())) {
    ++counters_.duplicate;
    return Reacted::duplicate;
  }
  (void)handler_(DecodedEvent::decode(*command));
  ++counters_.handled;
  return Reacted::handled;
}

void Reactor::park(const DecodedEvent& event, std::uint64_t order_id) {
  sqlite::Statement keep(db_.handle(),
                         "INSERT OR IGNORE INTO parked_events (order_id, event_id, envelope) "
                         "VALUES (?, ?, ?)");
  keep.bind(order_id, event.event_id(), sqlite::Statement::as_blob(event.bytes()));
  keep.run();
  ++counters_.parked;
}

void Reactor::unpark(const CheckoutRequest& order) {
  std::vector<std::pair<std::int64_t, std::string>> parked;
  {
    sqlite::Statement query(db_.handle(),
                            "SELECT arrival, envelope FROM parked_events WHERE order_id = ? "
                            "ORDER BY arrival");
    query.bind(order.order_id);
    while (query.step()) parked.emplace_back(query.integer(0), std::string(query.blob(1)));
    query.done();
  }
  for (const auto& [arrival, envelope] : parked) {
    // Reacted to first, then forgotten: a crash in between reacts again, and the command log
    // makes that a duplicate.
    (void)react_known(DecodedEvent::decode(envelope), order);
    sqlite::Statement forget(db_.handle(), "DELETE FROM parked_events WHERE arrival = ?");
    forget.bind(arrival);
    forget.run();
    ++counters_.unparked;
  }
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
