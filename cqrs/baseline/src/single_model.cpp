#include "eda/cqrs/single_model.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <stdexcept>
#include <string_view>
#include <variant>

#include "eda/overloaded.hpp"

namespace eda::cqrs::baseline {

using sourcing::OrderCommand;
using sourcing::OrderEvent;
using sourcing::OrderState;
using sourcing::OrderStatus;
using sqlite::Statement;

namespace {

constexpr const char* schema =
    "CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL,"
    " status INTEGER NOT NULL, placed_at_ns INTEGER NOT NULL, paid_at_ns INTEGER,"
    " paid_cents INTEGER NOT NULL DEFAULT 0, carrier TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE IF NOT EXISTS order_lines (order_id INTEGER NOT NULL, sku TEXT NOT NULL,"
    " quantity INTEGER NOT NULL, unit_price_cents INTEGER NOT NULL,"
    " PRIMARY KEY (order_id, sku)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS orders_by_customer ON orders (customer);"
    "CREATE INDEX IF NOT EXISTS orders_by_status_and_payment ON orders (status, paid_at_ns);";

/// The number a status is stored as.
std::int64_t stored(OrderStatus status) { return static_cast<std::int64_t>(status); }

/// Nanoseconds since the Unix epoch at the start of `day`; days beyond the reach of 64-bit
/// nanoseconds (before 1677, after 2262) are clamped to it.
std::int64_t start_ns(std::chrono::sys_days day) {
  constexpr std::int64_t ns_per_day = 86'400LL * 1'000'000'000LL;
  constexpr std::int64_t reach = std::numeric_limits<std::int64_t>::max() / ns_per_day;
  const std::int64_t days = day.time_since_epoch().count();
  if (days > reach) return std::numeric_limits<std::int64_t>::max();
  if (days < -reach) return std::numeric_limits<std::int64_t>::min();
  return days * ns_per_day;
}

}  // namespace

struct SingleModelShop::Connection {
  explicit Connection(const SingleModelOptions& options)
      : database(options.path, options.durability, "single-model shop database") {
    sqlite3* db = database.handle();
    try {
      database.exec(schema);
      select_order = std::make_unique<Statement>(
          db, "SELECT customer, status, paid_cents, carrier FROM orders WHERE id = ?");
      select_lines = std::make_unique<Statement>(
          db, "SELECT sku, quantity, unit_price_cents FROM order_lines WHERE order_id = ?");
      insert_order = std::make_unique<Statement>(
          db, "INSERT INTO orders (id, customer, status, placed_at_ns) VALUES (?, ?, ?, ?)");
      // Adding a sku the order already has adds to its quantity; the newest price wins.
      add_to_line = std::make_unique<Statement>(
          db,
          "INSERT INTO order_lines (order_id, sku, quantity, unit_price_cents)"
          " VALUES (?, ?, ?, ?) ON CONFLICT (order_id, sku) DO UPDATE SET"
          " quantity = quantity + excluded.quantity,"
          " unit_price_cents = excluded.unit_price_cents");
      delete_line =
          std::make_unique<Statement>(db, "DELETE FROM order_lines WHERE order_id = ? AND sku = ?");
      mark_paid = std::make_unique<Statement>(
          db, "UPDATE orders SET status = ?, paid_cents = ?, paid_at_ns = ? WHERE id = ?");
      mark_shipped =
          std::make_unique<Statement>(db, "UPDATE orders SET status = ?, carrier = ? WHERE id = ?");
      mark_cancelled = std::make_unique<Statement>(db, "UPDATE orders SET status = ? WHERE id = ?");
      customer_orders = std::make_unique<Statement>(
          db,
          "SELECT o.id, o.customer, o.status, coalesce(sum(l.quantity), 0),"
          " coalesce(sum(l.quantity * l.unit_price_cents), 0)"
          " FROM orders AS o LEFT JOIN order_lines AS l ON l.order_id = o.id"
          " WHERE o.customer = ? GROUP BY o.id ORDER BY o.id");
      // The days are asked for as a range of payment times, so that the (status, paid_at_ns)
      // index finds the payments instead of a scan computing every order's day.
      sales_by_day = std::make_unique<Statement>(
          // The day of a time: whole seconds rounded down (SQL's / rounds toward zero, which
          // would put the last second before 1970 on 1970-01-01).
          db,
          "SELECT date((o.paid_at_ns - (o.paid_at_ns % 1000000000 + 1000000000) % 1000000000)"
          " / 1000000000, 'unixepoch') AS day, l.sku,"
          " sum(l.quantity), sum(l.quantity * l.unit_price_cents)"
          " FROM orders AS o JOIN order_lines AS l ON l.order_id = o.id"
          " WHERE o.status IN (?, ?) AND o.paid_at_ns >= ? AND o.paid_at_ns < ?"
          " GROUP BY day, l.sku ORDER BY day, l.sku");
      awaiting_shipment = std::make_unique<Statement>(
          db,
          "SELECT id, customer, paid_cents, paid_at_ns FROM orders WHERE status = ?"
          " ORDER BY paid_at_ns, id LIMIT ?");
    } catch (const std::exception& e) {
      throw std::runtime_error("database " + options.path +
                               " is not a single-model shop database: " + e.what());
    }
  }
  // The database first: members are destroyed in reverse order, so every statement is
  // finalized before the connection closes.
  sqlite::Database database;
  std::unique_ptr<Statement> select_order, select_lines, insert_order, add_to_line, delete_line,
      mark_paid, mark_shipped, mark_cancelled, customer_orders, sales_by_day, awaiting_shipment;
};

SingleModelShop::SingleModelShop(SingleModelOptions options)
    : db_(std::make_unique<Connection>(options)) {}

SingleModelShop::~SingleModelShop() = default;

OrderState SingleModelShop::load_locked(std::uint64_t order_id) const {
  OrderState state;
  Statement& order = *db_->select_order;
  if (order.bind(order_id).step()) {
    state.customer = std::string(order.text(0));
    state.status = static_cast<OrderStatus>(order.integer(1));
    state.paid_cents = order.integer(2);
    state.carrier = std::string(order.text(3));
  }
  order.done();
  Statement& lines = *db_->select_lines;
  lines.bind(order_id);
  while (lines.step()) {
    state.lines.emplace(
        std::string(lines.text(0)),
        sourcing::OrderLine{static_cast<std::uint32_t>(lines.integer(1)), lines.integer(2)});
  }
  return state;
}

OrderState SingleModelShop::load(std::uint64_t order_id) const {
  std::lock_guard lock(mutex_);
  return load_locked(order_id);
}

void SingleModelShop::apply_locked(std::uint64_t order_id, const OrderEvent& event,
                                   std::int64_t timestamp_ns) {
  Connection& c = *db_;
  std::visit(eda::Overloaded{
                 [&](const sourcing::OrderPlaced& e) {
                   c.insert_order
                       ->bind(order_id, std::string_view(e.customer), stored(OrderStatus::open),
                              timestamp_ns)
                       .run();
                 },
                 [&](const sourcing::ItemAdded& e) {
                   c.add_to_line
                       ->bind(order_id, std::string_view(e.sku),
                              static_cast<std::int64_t>(e.quantity), e.unit_price_cents)
                       .run();
                 },
                 [&](const sourcing::ItemRemoved& e) {
                   c.delete_line->bind(order_id, std::string_view(e.sku)).run();
                 },
                 [&](const sourcing::OrderPaid& e) {
                   c.mark_paid
                       ->bind(stored(OrderStatus::paid), e.amount_cents, timestamp_ns, order_id)
                       .run();
                 },
                 [&](const sourcing::OrderShipped& e) {
                   c.mark_shipped
                       ->bind(stored(OrderStatus::shipped), std::string_view(e.carrier), order_id)
                       .run();
                 },
                 [&](const sourcing::OrderCancelled&) {
                   c.mark_cancelled->bind(stored(OrderStatus::cancelled), order_id).run();
                 },
             },
             event);
}

OrderState SingleModelShop::execute(std::uint64_t order_id, const OrderCommand& command,
                                    std::int64_t timestamp_ns) {
  std::lock_guard lock(mutex_);
  sqlite::Transaction transaction(db_->database);  // rolled back if anything throws
  OrderState state = load_locked(order_id);
  for (const OrderEvent& event : sourcing::decide(command, state)) {  // the aggregate's rules
    apply_locked(order_id, event, timestamp_ns);  // ... but the rows are changed in place
    state = sourcing::evolve(std::move(state), event);
  }
  transaction.commit();
  return state;
}

std::vector<OrderSummary> SingleModelShop::customer_orders(const std::string& customer) const {
  std::lock_guard lock(mutex_);
  std::vector<OrderSummary> orders;
  Statement& query = *db_->customer_orders;
  query.bind(std::string_view(customer));
  while (query.step()) {
    orders.push_back({.order_id = static_cast<std::uint64_t>(query.integer(0)),
                      .customer = std::string(query.text(1)),
                      .status = std::string(to_string(static_cast<OrderStatus>(query.integer(2)))),
                      .item_count = static_cast<std::uint64_t>(query.integer(3)),
                      .total_cents = query.integer(4)});
  }
  return orders;
}

std::vector<ProductDaySales> SingleModelShop::sales_by_day(const std::string& first_day,
                                                           const std::string& last_day) const {
  const std::chrono::sys_days first = parse_day(first_day, "first_day");
  const std::chrono::sys_days last = parse_day(last_day, "last_day");
  std::lock_guard lock(mutex_);
  std::vector<ProductDaySales> sales;
  Statement& query = *db_->sales_by_day;
  // Paid and shipped orders count; a cancelled one does not, even if it was paid.
  query.bind(stored(OrderStatus::paid), stored(OrderStatus::shipped), start_ns(first),
             start_ns(last + std::chrono::days{1}));
  while (query.step()) {
    sales.push_back({.day = std::string(query.text(0)),
                     .sku = std::string(query.text(1)),
                     .quantity = static_cast<std::uint64_t>(query.integer(2)),
                     .revenue_cents = query.integer(3)});
  }
  return sales;
}

std::vector<AwaitingShipment> SingleModelShop::awaiting_shipment(std::size_t limit) const {
  std::vector<AwaitingShipment> orders;
  if (limit == 0) return orders;
  std::lock_guard lock(mutex_);
  Statement& query = *db_->awaiting_shipment;
  const auto most = static_cast<std::int64_t>(
      std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max()));
  query.bind(stored(OrderStatus::paid), most);
  while (query.step()) {
    orders.push_back({.order_id = static_cast<std::uint64_t>(query.integer(0)),
                      .customer = std::string(query.text(1)),
                      .total_cents = query.integer(2),
                      .paid_at_ns = query.integer(3)});
  }
  return orders;
}

}  // namespace eda::cqrs::baseline
