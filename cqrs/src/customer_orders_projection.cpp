// The order summary per customer: one row per order, kept with the order's item count and
// total, so "all orders of alice" is one range of one covering index. Its tables, its
// statements and its query (CustomerOrdersQuery) are all here.

#include <optional>

#include "eda/cqrs/projections.hpp"
#include "eda/overloaded.hpp"
#include "projection_support.hpp"

namespace eda::cqrs {
namespace {

using sqlite::Database;
using sqlite::Statement;

/// One order's summary, and the lines it is computed from while the order is open.
struct SummaryRow {
  std::string customer{};
  std::string status{};
  std::uint64_t version = 0;
  detail::Lines lines{};  // working data: emptied once the order can no longer change

  [[nodiscard]] std::uint64_t item_count() const {
    std::uint64_t count = 0;
    for (const auto& [sku, line] : lines) count += line.quantity;
    return count;
  }
  [[nodiscard]] std::int64_t total_cents() const { return sourcing::total_of(lines); }
  std::uint64_t closed_item_count = 0;  // kept when the lines go
  std::int64_t closed_total_cents = 0;
  bool closed = false;
};

class CustomerOrdersProjection final : public Projection {
 public:
  [[nodiscard]] std::string_view name() const noexcept override {
    return customer_orders_projection;
  }

  void open(const Database& db) override {
    // The index covers the query: "alice's orders" never visits the table itself.
    db.exec(
        "CREATE TABLE IF NOT EXISTS customer_orders (order_id INTEGER PRIMARY KEY,"
        " customer TEXT NOT NULL, status TEXT NOT NULL, item_count INTEGER NOT NULL,"
        " total_cents INTEGER NOT NULL, version INTEGER NOT NULL, lines BLOB);"
        "CREATE INDEX IF NOT EXISTS customer_orders_by_customer"
        " ON customer_orders (customer, order_id, status, item_count, total_cents);");
    statements_.emplace(db);
  }

  void drop(const Database& db) override {
    statements_.reset();
    batch_.clear();
    db.exec("DROP TABLE IF EXISTS customer_orders;");
  }

  void apply(const ProjectedEvent& e) override {
    const auto load = [this](std::uint64_t order_id) { return statements_->load(order_id); };
    if (const auto* placed = std::get_if<sourcing::OrderPlaced>(&e.event)) {
      if (!batch_.find(e.order_id, load) && e.version == 1) {  // a second OrderPlaced is ignored
        batch_.create(e.order_id,
                      SummaryRow{.customer = placed->customer, .status = "open", .version = 1});
      }
      return;
    }
    SummaryRow* row = batch_.claim(e, load);
    if (row == nullptr) return;  // applied before: a redelivery changes nothing
    std::visit(
        eda::Overloaded{
            [&](const sourcing::OrderPlaced&) {},
            [&](const sourcing::ItemAdded& item) { detail::add_line(row->lines, item); },
            [&](const sourcing::ItemRemoved& item) { row->lines.erase(item.sku); },
            [&](const sourcing::OrderPaid&) { close(*row, sourcing::OrderStatus::paid); },
            [&](const sourcing::OrderShipped&) { close(*row, sourcing::OrderStatus::shipped); },
            [&](const sourcing::OrderCancelled&) { close(*row, sourcing::OrderStatus::cancelled); },
        },
        e.event);
  }

  void write() override {
    batch_.write_changed([this](std::uint64_t order_id, const SummaryRow& row) {
      statements_->save(order_id, row);
    });
  }

  void discard() noexcept override { batch_.clear(); }

 private:
  // Once paid (or cancelled) an order's lines cannot change: the summary keeps its count and
  // total, and the working lines go.
  static void close(SummaryRow& row, sourcing::OrderStatus status) {
    if (!row.closed) {
      row.closed_item_count = row.item_count();
      row.closed_total_cents = row.total_cents();
      row.closed = true;
      row.lines.clear();
    }
    row.status = std::string(sourcing::to_string(status));
  }

  struct Statements {
    explicit Statements(const Database& db)
        : select(db.handle(),
                 "SELECT customer, status, item_count, total_cents, version, lines"
                 " FROM customer_orders WHERE order_id = ?"),
          upsert(
              db.handle(),
              "INSERT INTO customer_orders (order_id, customer, status, item_count, total_cents,"
              " version, lines) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (order_id) DO UPDATE SET"
              " status = excluded.status, item_count = excluded.item_count,"
              " total_cents = excluded.total_cents, version = excluded.version,"
              " lines = excluded.lines") {}

    std::optional<SummaryRow> load(std::uint64_t order_id) {
      std::optional<SummaryRow> row;
      if (select.bind(order_id).step()) {
        row = SummaryRow{.customer = std::string(select.text(0)),
                         .status = std::string(select.text(1)),
                         .version = static_cast<std::uint64_t>(select.integer(4))};
        row->closed = select.is_null(5);
        if (row->closed) {
          row->closed_item_count = static_cast<std::uint64_t>(select.integer(2));
          row->closed_total_cents = select.integer(3);
        } else {
          row->lines = detail::decode_lines(select.blob(5));
        }
      }
      select.done();
      return row;
    }

    void save(std::uint64_t order_id, const SummaryRow& row) {
      const std::string lines = row.closed ? std::string() : detail::encode_lines(row.lines);
      const std::uint64_t items = row.closed ? row.closed_item_count : row.item_count();
      const std::int64_t total = row.closed ? row.closed_total_cents : row.total_cents();
      upsert
          .bind(order_id, row.customer, row.status, items, total, row.version,
                row.closed ? std::nullopt : std::optional(Statement::as_blob(lines)))
          .run();
    }

    Statement select, upsert;
  };
  std::optional<Statements> statements_;
  detail::BatchRows<SummaryRow> batch_;
};

}  // namespace

std::unique_ptr<Projection> make_customer_orders_projection() {
  return std::make_unique<CustomerOrdersProjection>();
}

std::vector<OrderSummary> CustomerOrdersQuery::operator()(const std::string& customer) {
  if (!statement_) {
    statement_.emplace(db_.handle(),
                       "SELECT order_id, customer, status, item_count, total_cents"
                       " FROM customer_orders WHERE customer = ? ORDER BY order_id");
  }
  Statement& q = *statement_;
  std::vector<OrderSummary> rows;
  q.bind(customer);
  while (q.step()) {
    rows.push_back(OrderSummary{static_cast<std::uint64_t>(q.integer(0)), std::string(q.text(1)),
                                std::string(q.text(2)), static_cast<std::uint64_t>(q.integer(3)),
                                q.integer(4)});
  }
  q.done();
  return rows;
}

}  // namespace eda::cqrs
