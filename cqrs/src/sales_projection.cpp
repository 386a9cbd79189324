// Sales totals per product per day: the totals themselves are the table. A payment adds the
// order's lines to its day; a cancellation after payment takes them off again. Its tables,
// its statements and its query (SalesByDayQuery) are all here.

#include <map>
#include <optional>
#include <utility>

#include "eda/cqrs/projections.hpp"
#include "eda/cqrs/queries.hpp"
#include "eda/overloaded.hpp"
#include "projection_support.hpp"

namespace eda::cqrs {
namespace {

using sqlite::Database;
using sqlite::Statement;

/// What the projection remembers of one order: its lines, and the day it was sold on.
struct SaleRow {
  std::uint64_t version = 0;
  std::optional<std::string> paid_day{};  // set while the order counts as sold
  detail::Lines lines{};                  // emptied once the order can no longer change
};

/// A change to one product's totals on one day.
struct Delta {
  std::int64_t quantity = 0;
  std::int64_t revenue_cents = 0;
};

class SalesProjection final : public Projection {
 public:
  [[nodiscard]] std::string_view name() const noexcept override { return sales_projection; }

  void open(const Database& db) override {
    db.exec(
        "CREATE TABLE IF NOT EXISTS product_day_sales (day TEXT NOT NULL, sku TEXT NOT NULL,"
        " quantity INTEGER NOT NULL, revenue_cents INTEGER NOT NULL,"
        " PRIMARY KEY (day, sku)) WITHOUT ROWID;"
        "CREATE TABLE IF NOT EXISTS sales_orders (order_id INTEGER PRIMARY KEY,"
        " version INTEGER NOT NULL, paid_day TEXT, lines BLOB);");
    statements_.emplace(db);
  }

  void drop(const Database& db) override {
    statements_.reset();
    discard();
    db.exec("DROP TABLE IF EXISTS product_day_sales; DROP TABLE IF EXISTS sales_orders;");
  }

  void apply(const ProjectedEvent& e) override {
    const auto load = [this](std::uint64_t order_id) { return statements_->load(order_id); };
    if (std::holds_alternative<sourcing::OrderPlaced>(e.event)) {
      if (!batch_.find(e.order_id, load) && e.version == 1)
        batch_.create(e.order_id, SaleRow{.version = 1});
      return;
    }
    SaleRow* row = batch_.claim(e, load);
    if (row == nullptr) return;  // applied before: a redelivery changes nothing
    std::visit(eda::Overloaded{
                   [&](const sourcing::OrderPlaced&) {},
                   [&](const sourcing::ItemAdded& item) { detail::add_line(row->lines, item); },
                   [&](const sourcing::ItemRemoved& item) { row->lines.erase(item.sku); },
                   [&](const sourcing::OrderPaid&) {
                     row->paid_day = utc_day(e.timestamp_ns);
                     count(*row, +1);
                   },
                   // Shipped orders stay sold: their lines are no longer needed.
                   [&](const sourcing::OrderShipped&) { row->lines.clear(); },
                   [&](const sourcing::OrderCancelled&) {
                     if (row->paid_day) count(*row, -1);  // it had been sold: the sale is undone
                     row->paid_day.reset();
                     row->lines.clear();
                   },
               },
               e.event);
  }

  void write() override {
    Statements& s = *statements_;
    batch_.write_changed(
        [&](std::uint64_t order_id, const SaleRow& row) { s.save(order_id, row); });
    for (const auto& [key, delta] : deltas_) {
      if (delta.quantity == 0 && delta.revenue_cents == 0) continue;
      s.add.bind(key.first, key.second, delta.quantity, delta.revenue_cents).run();
      if (delta.quantity < 0) s.drop_empty.bind(key.first, key.second).run();
    }
    deltas_.clear();
  }

  void discard() noexcept override {
    batch_.clear();
    deltas_.clear();
  }

 private:
  /// Adds (`sign` +1) or takes off (-1) the order's lines on its day of payment.
  void count(const SaleRow& row, std::int64_t sign) {
    for (const auto& [sku, line] : row.lines) {
      Delta& delta = deltas_[{*row.paid_day, sku}];
      delta.quantity += sign * line.quantity;
      const std::int64_t revenue = sourcing::line_total_cents(line);
      delta.revenue_cents =
          sign > 0 ? sourcing::checked_add(delta.revenue_cents, revenue, "a day's revenue")
                   : sourcing::checked_subtract(delta.revenue_cents, revenue, "a day's revenue");
    }
  }

  struct Statements {
    explicit Statements(const Database& db)
        : select(db.handle(),
                 "SELECT version, paid_day, lines FROM sales_orders WHERE order_id = ?"),
          upsert(db.handle(),
                 "INSERT INTO sales_orders (order_id, version, paid_day, lines) VALUES (?, ?, ?, ?)"
                 " ON CONFLICT (order_id) DO UPDATE SET version = excluded.version,"
                 " paid_day = excluded.paid_day, lines = excluded.lines"),
          add(db.handle(),
              "INSERT INTO product_day_sales (day, sku, quantity, revenue_cents) VALUES (?, ?, ?, "
              "?)"
              " ON CONFLICT (day, sku) DO UPDATE SET quantity = quantity + excluded.quantity,"
              " revenue_cents = revenue_cents + excluded.revenue_cents"),
          drop_empty(db.handle(),
                     "DELETE FROM product_day_sales WHERE day = ? AND sku = ? AND quantity = 0") {}

    std::optional<SaleRow> load(std::uint64_t order_id) {
      std::optional<SaleRow> row;
      if (select.bind(order_id).step()) {
        row = SaleRow{.version = static_cast<std::uint64_t>(select.integer(0)),
                      .lines = detail::decode_lines(select.blob(2))};
        if (!select.is_null(1)) row->paid_day = std::string(select.text(1));
      }
      select.done();
      return row;
    }

    void save(std::uint64_t order_id, const SaleRow& row) {
      const std::string lines = row.lines.empty() ? std::string() : detail::encode_lines(row.lines);
      upsert
          .bind(order_id, row.version, row.paid_day,
                row.lines.empty() ? std::nullopt : std::optional(Statement::as_blob(lines)))
          .run();
    }

    Statement select, upsert, add, drop_empty;
  };
  std::optional<Statements> statements_;
  detail::BatchRows<SaleRow> batch_;
  std::map<std::pair<std::string, std::string>, Delta> deltas_;  // (day, sku): the batch's changes
};

}  // namespace

std::unique_ptr<Projection> make_sales_projection() { return std::make_unique<SalesProjection>(); }

std::vector<ProductDaySales> SalesByDayQuery::operator()(const std::string& first_day,
                                                         const std::string& last_day) {
  (void)parse_day(first_day, "first_day");
  (void)parse_day(last_day, "last_day");
  if (!statement_) {
    statement_.emplace(db_.handle(),
                       "SELECT day, sku, quantity, revenue_cents FROM product_day_sales"
                       " WHERE day BETWEEN ? AND ? ORDER BY day, sku");
  }
  Statement& q = *statement_;
  std::vector<ProductDaySales> rows;
  q.bind(first_day, last_day);
  while (q.step()) {
    rows.push_back(ProductDaySales{std::string(q.text(0)), std::string(q.text(1)),
                                   static_cast<std::uint64_t>(q.integer(2)), q.integer(3)});
  }
  q.done();
  return rows;
}

}  // namespace eda::cqrs
