// The order summary per customer: one row per order, kept with the order's item count and
// total, so "all orders of alice" is one indexed range read.

#include <optional>

#include "eda/cqrs/projections.hpp"
#include "eda/overloaded.hpp"
#include "projection_support.hpp"

namespace eda::cqrs {
namespace {

using sourcing::sqlite::Database;
using sourcing::sqlite::Statement;

class CustomerOrdersProjection final : public Projection {
 public:
  [[nodiscard]] std::string_view name() const noexcept override { return customer_orders_projection; }

  void open(const Database& db) override {
    db.exec(
        "CREATE TABLE IF NOT EXISTS customer_orders (order_id INTEGER PRIMARY KEY,"
        " customer TEXT NOT NULL, status TEXT NOT NULL, item_count INTEGER NOT NULL,"
        " total_cents INTEGER NOT NULL, version INTEGER NOT NULL);"
        "CREATE INDEX IF NOT EXISTS customer_orders_by_customer"
        " ON customer_orders (customer, order_id);");
    statements_.emplace(db);
  }

  void drop(const Database& db) override {
    statements_.reset();
    db.exec("DROP TABLE IF EXISTS customer_orders; DROP TABLE IF EXISTS customer_order_lines;");
  }

  void apply(const ProjectedEvent& e) override {
    Statements& s = *statements_;
    if (const auto* placed = std::get_if<sourcing::OrderPlaced>(&e.event)) {
      s.place.bind(e.order_id, placed->customer).run();  // a second OrderPlaced is ignored
      return;
    }
    if (!s.guard.claim(e)) {
      return;  // applied before
    }
    std::visit(eda::Overloaded{
                   [&](const sourcing::OrderPlaced&) {},
                   [&](const sourcing::ItemAdded& item) {
                     s.lines.add(e.order_id, item);
                     s.totals.bind(e.order_id).run();
                   },
                   [&](const sourcing::ItemRemoved& item) {
                     s.lines.remove(e.order_id, item.sku);
                     s.totals.bind(e.order_id).run();
                   },
                   [&](const sourcing::OrderPaid&) { close(e.order_id, sourcing::OrderStatus::paid); },
                   [&](const sourcing::OrderShipped&) {
                     close(e.order_id, sourcing::OrderStatus::shipped);
                   },
                   [&](const sourcing::OrderCancelled&) {
                     close(e.order_id, sourcing::OrderStatus::cancelled);
                   },
               },
               e.event);
  }

 private:
  // Once paid (or cancelled) an order's lines cannot change: the summary keeps its totals
  // and the working lines go.
  void close(std::uint64_t order_id, sourcing::OrderStatus status) {
    statements_->status.bind(sourcing::to_string(status), order_id).run();
    statements_->lines.forget(order_id);
  }

  struct Statements {
    explicit Statements(const Database& db)
        : guard(db, "customer_orders"),
          lines(db, "customer_order_lines"),
          place(db.handle(),
                "INSERT INTO customer_orders (order_id, customer, status, item_count, total_cents,"
                " version) VALUES (?, ?, 'open', 0, 0, 1) ON CONFLICT (order_id) DO NOTHING"),
          totals(db.handle(),
                 "UPDATE customer_orders SET"
                 " item_count = (SELECT coalesce(sum(quantity), 0) FROM customer_order_lines"
                 "               WHERE order_id = ?1),"
                 " total_cents = (SELECT coalesce(sum(quantity * unit_price_cents), 0)"
                 "                FROM customer_order_lines WHERE order_id = ?1)"
                 " WHERE order_id = ?1"),
          status(db.handle(), "UPDATE customer_orders SET status = ? WHERE order_id = ?") {}
    detail::VersionGuard guard;
    detail::LinesTable lines;
    Statement place, totals, status;
  };
  std::optional<Statements> statements_;
};

}  // namespace

std::unique_ptr<Projection> make_customer_orders_projection() {
  return std::make_unique<CustomerOrdersProjection>();
}

}  // namespace eda::cqrs
