#include "eda/sourcing/crud_orders.hpp"

#include "eda/sqlite/database.hpp"

namespace eda::sourcing::baseline {

using sqlite::exec;
using sqlite::Statement;

struct CrudOrders::Connection {
  explicit Connection(const CrudOptions& options)
      : database(options.path, options.durability, "order database"), db(database.handle()) {
    exec(db,
         "CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL,"
         " status INTEGER NOT NULL, paid_cents INTEGER NOT NULL, carrier TEXT NOT NULL,"
         " version INTEGER NOT NULL);"
         "CREATE TABLE IF NOT EXISTS order_lines (order_id INTEGER NOT NULL, sku TEXT NOT NULL,"
         " quantity INTEGER NOT NULL, unit_price_cents INTEGER NOT NULL,"
         " PRIMARY KEY (order_id, sku));",
         options.path);
    order = std::make_unique<Statement>(
        db, "SELECT customer, status, paid_cents, carrier FROM orders WHERE id = ?");
    lines = std::make_unique<Statement>(
        db, "SELECT sku, quantity, unit_price_cents FROM order_lines WHERE order_id = ?");
    upsert_order = std::make_unique<Statement>(
        db,
        "INSERT INTO orders (id, customer, status, paid_cents, carrier, version)"
        " VALUES (?, ?, ?, ?, ?, 1) ON CONFLICT (id) DO UPDATE SET"
        " customer = excluded.customer, status = excluded.status,"
        " paid_cents = excluded.paid_cents, carrier = excluded.carrier,"
        " version = version + 1");
    delete_lines = std::make_unique<Statement>(db, "DELETE FROM order_lines WHERE order_id = ?");
    insert_line = std::make_unique<Statement>(
        db,
        "INSERT INTO order_lines (order_id, sku, quantity, unit_price_cents)"
        " VALUES (?, ?, ?, ?)");
    begin = std::make_unique<Statement>(db, "BEGIN IMMEDIATE");
    commit = std::make_unique<Statement>(db, "COMMIT");
    rollback = std::make_unique<Statement>(db, "ROLLBACK");
  }
  // The database first: members are destroyed in reverse order, so every statement is
  // finalized before the connection closes.
  sqlite::Database database;
  sqlite3* db;
  std::unique_ptr<Statement> order, lines, upsert_order, delete_lines, insert_line, begin, commit,
      rollback;
};

CrudOrders::CrudOrders(CrudOptions options) : db_(std::make_unique<Connection>(options)) {}

CrudOrders::~CrudOrders() = default;

OrderState CrudOrders::load_locked(std::uint64_t order_id) const {
  OrderState state;
  Statement& order = *db_->order;
  if (order.bind(order_id).step()) {
    state.customer = std::string(order.text(0));
    state.status = static_cast<OrderStatus>(order.integer(1));
    state.paid_cents = order.integer(2);
    state.carrier = std::string(order.text(3));
  }
  order.done();
  Statement& lines = *db_->lines;
  lines.bind(order_id);
  while (lines.step()) {
    state.lines.emplace(std::string(lines.text(0)),
                        OrderLine{static_cast<std::uint32_t>(lines.integer(1)), lines.integer(2)});
  }
  return state;
}

OrderState CrudOrders::load(std::uint64_t order_id) const {
  std::lock_guard lock(mutex_);
  return load_locked(order_id);
}

OrderState CrudOrders::execute(std::uint64_t order_id, const OrderCommand& command) {
  std::lock_guard lock(mutex_);
  Connection& c = *db_;
  c.begin->bind().run();
  try {
    OrderState state = load_locked(order_id);
    for (const OrderEvent& event : decide(command, state)) {  // the same rules
      state = evolve(std::move(state), event);
    }
    // ... but the outcome overwrites the row: the events are thrown away.
    c.upsert_order
        ->bind(order_id, std::string_view(state.customer), static_cast<std::int64_t>(state.status),
               state.paid_cents, std::string_view(state.carrier))
        .run();
    c.delete_lines->bind(order_id).run();
    for (const auto& [sku, line] : state.lines) {
      c.insert_line
          ->bind(order_id, std::string_view(sku), static_cast<std::int64_t>(line.quantity),
                 line.unit_price_cents)
          .run();
    }
    c.commit->bind().run();
    return state;
  } catch (...) {
    c.rollback->bind().run();
    throw;
  }
}

}  // namespace eda::sourcing::baseline
