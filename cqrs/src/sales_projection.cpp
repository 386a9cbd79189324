// Sales totals per product per day: the totals themselves are the table. A payment adds the
// order's lines to its day; a cancellation after payment takes them off again.

#include <optional>

#include "eda/cqrs/projections.hpp"
#include "eda/cqrs/queries.hpp"
#include "eda/overloaded.hpp"
#include "projection_support.hpp"

namespace eda::cqrs {
namespace {

using sourcing::sqlite::Database;
using sourcing::sqlite::Statement;

class SalesProjection final : public Projection {
 public:
  [[nodiscard]] std::string_view name() const noexcept override { return sales_projection; }

  void open(const Database& db) override {
    db.exec(
        "CREATE TABLE IF NOT EXISTS product_day_sales (day TEXT NOT NULL, sku TEXT NOT NULL,"
        " quantity INTEGER NOT NULL, revenue_cents INTEGER NOT NULL,"
        " PRIMARY KEY (day, sku)) WITHOUT ROWID;"
        "CREATE TABLE IF NOT EXISTS sales_orders (order_id INTEGER PRIMARY KEY,"
        " version INTEGER NOT NULL, paid_day TEXT);");
    statements_.emplace(db);
  }

  void drop(const Database& db) override {
    statements_.reset();
    db.exec(
        "DROP TABLE IF EXISTS product_day_sales; DROP TABLE IF EXISTS sales_orders;"
        "DROP TABLE IF EXISTS sales_order_lines;");
  }

  void apply(const ProjectedEvent& e) override {
    Statements& s = *statements_;
    if (std::holds_alternative<sourcing::OrderPlaced>(e.event)) {
      s.place.bind(e.order_id).run();
      return;
    }
    if (!s.guard.claim(e)) {
      return;  // applied before
    }
    std::visit(eda::Overloaded{
                   [&](const sourcing::OrderPlaced&) {},
                   [&](const sourcing::ItemAdded& item) { s.lines.add(e.order_id, item); },
                   [&](const sourcing::ItemRemoved& item) { s.lines.remove(e.order_id, item.sku); },
                   [&](const sourcing::OrderPaid&) {
                     const std::string day = utc_day(e.timestamp_ns);
                     s.mark_paid.bind(e.order_id, day).run();
                     s.add_sales.bind(e.order_id, day).run();
                   },
                   // Shipped orders stay sold: their lines are no longer needed.
                   [&](const sourcing::OrderShipped&) { s.lines.forget(e.order_id); },
                   [&](const sourcing::OrderCancelled&) { cancel(e.order_id); },
               },
               e.event);
  }

 private:
  void cancel(std::uint64_t order_id) {
    Statements& s = *statements_;
    std::optional<std::string> paid_day;
    if (s.paid_day.bind(order_id).step() && !s.paid_day.is_null(0)) {
      paid_day = std::string(s.paid_day.text(0));
    }
    s.paid_day.done();
    if (paid_day) {  // it had been sold: the sale is undone
      s.take_back.bind(order_id, *paid_day).run();
      s.drop_empty.bind(*paid_day).run();
    }
    s.lines.forget(order_id);
  }

  struct Statements {
    explicit Statements(const Database& db)
        : guard(db, "sales_orders"),
          lines(db, "sales_order_lines"),
          place(db.handle(),
                "INSERT INTO sales_orders (order_id, version) VALUES (?, 1)"
                " ON CONFLICT (order_id) DO NOTHING"),
          mark_paid(db.handle(), "UPDATE sales_orders SET paid_day = ?2 WHERE order_id = ?1"),
          paid_day(db.handle(), "SELECT paid_day FROM sales_orders WHERE order_id = ?"),
          add_sales(db.handle(),
                    "INSERT INTO product_day_sales (day, sku, quantity, revenue_cents)"
                    " SELECT ?2, sku, quantity, quantity * unit_price_cents"
                    " FROM sales_order_lines WHERE order_id = ?1"
                    " ON CONFLICT (day, sku) DO UPDATE SET"
                    " quantity = quantity + excluded.quantity,"
                    " revenue_cents = revenue_cents + excluded.revenue_cents"),
          take_back(db.handle(),
                    "UPDATE product_day_sales SET quantity = product_day_sales.quantity - l.quantity,"
                    " revenue_cents = product_day_sales.revenue_cents"
                    "                 - l.quantity * l.unit_price_cents"
                    " FROM sales_order_lines AS l"
                    " WHERE l.order_id = ?1 AND product_day_sales.day = ?2"
                    " AND product_day_sales.sku = l.sku"),
          drop_empty(db.handle(), "DELETE FROM product_day_sales WHERE day = ? AND quantity = 0") {}
    detail::VersionGuard guard;
    detail::LinesTable lines;
    Statement place, mark_paid, paid_day, add_sales, take_back, drop_empty;
  };
  std::optional<Statements> statements_;
};

}  // namespace

std::unique_ptr<Projection> make_sales_projection() { return std::make_unique<SalesProjection>(); }

}  // namespace eda::cqrs
