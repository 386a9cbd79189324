// The orders waiting for shipment: exactly the paid, unshipped orders, stored in payment order
// (the table is clustered on it), so the warehouse's "what next?" is the first rows read. Its
// tables, its statements and its query (AwaitingShipmentQuery) are all here.

#include <algorithm>
#include <limits>
#include <optional>

#include "eda/cqrs/projections.hpp"
#include "projection_support.hpp"

namespace eda::cqrs {
namespace {

using sqlite::Database;
using sqlite::Statement;

/// What the projection remembers of one order, and whether it waits for shipment.
struct ShipmentRow {
  std::string customer{};
  std::uint64_t version = 0;
  bool waiting = false;         // paid, not yet shipped or cancelled
  std::int64_t paid_at_ns = 0;  // (the waiting row's key)
  std::int64_t total_cents = 0;
  bool was_waiting = false;  // as stored before this batch
  std::int64_t stored_paid_at_ns = 0;
};

class ShipmentProjection final : public Projection {
 public:
  [[nodiscard]] std::string_view name() const noexcept override { return shipment_projection; }

  void open(const Database& db) override {
    db.exec(
        "CREATE TABLE IF NOT EXISTS awaiting_shipment (paid_at_ns INTEGER NOT NULL,"
        " order_id INTEGER NOT NULL, customer TEXT NOT NULL, total_cents INTEGER NOT NULL,"
        " PRIMARY KEY (paid_at_ns, order_id)) WITHOUT ROWID;"
        "CREATE TABLE IF NOT EXISTS shipment_orders (order_id INTEGER PRIMARY KEY,"
        " customer TEXT NOT NULL, version INTEGER NOT NULL, waiting INTEGER NOT NULL,"
        " paid_at_ns INTEGER NOT NULL, total_cents INTEGER NOT NULL);");
    statements_.emplace(db);
  }

  void drop(const Database& db) override {
    statements_.reset();
    batch_.clear();
    db.exec("DROP TABLE IF EXISTS awaiting_shipment; DROP TABLE IF EXISTS shipment_orders;");
  }

  void apply(const ProjectedEvent& e) override {
    const auto load = [this](std::uint64_t order_id) { return statements_->load(order_id); };
    if (const auto* placed = std::get_if<sourcing::OrderPlaced>(&e.event)) {
      if (!batch_.find(e.order_id, load) && e.version == 1) {
        batch_.create(e.order_id, ShipmentRow{.customer = placed->customer, .version = 1});
      }
      return;
    }
    ShipmentRow* row = batch_.claim(e, load);
    if (row == nullptr) return;  // applied before: a redelivery changes nothing
    if (const auto* paid = std::get_if<sourcing::OrderPaid>(&e.event)) {
      row->waiting = true;
      row->paid_at_ns = e.timestamp_ns;
      row->total_cents = paid->amount_cents;
    } else if (std::holds_alternative<sourcing::OrderShipped>(e.event) ||
               std::holds_alternative<sourcing::OrderCancelled>(e.event)) {
      row->waiting = false;
    }
    // Items added or removed only advance the order's version here.
  }

  void write() override {
    Statements& s = *statements_;
    batch_.write_changed([&](std::uint64_t order_id, const ShipmentRow& row) {
      s.upsert
          .bind(order_id, row.customer, row.version, std::int64_t{row.waiting ? 1 : 0},
                row.paid_at_ns, row.total_cents)
          .run();
      if (row.was_waiting && !row.waiting) s.shipped.bind(row.stored_paid_at_ns, order_id).run();
      if (row.waiting && !row.was_waiting) {
        s.waiting.bind(row.paid_at_ns, order_id, row.customer, row.total_cents).run();
      }
    });
  }

  void discard() noexcept override { batch_.clear(); }

 private:
  struct Statements {
    explicit Statements(const Database& db)
        : select(db.handle(),
                 "SELECT customer, version, waiting, paid_at_ns, total_cents FROM shipment_orders"
                 " WHERE order_id = ?"),
          upsert(db.handle(),
                 "INSERT INTO shipment_orders (order_id, customer, version, waiting, paid_at_ns,"
                 " total_cents) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (order_id) DO UPDATE SET"
                 " version = excluded.version, waiting = excluded.waiting,"
                 " paid_at_ns = excluded.paid_at_ns, total_cents = excluded.total_cents"),
          waiting(db.handle(),
                  "INSERT INTO awaiting_shipment (paid_at_ns, order_id, customer, total_cents)"
                  " VALUES (?, ?, ?, ?)"),
          shipped(db.handle(),
                  "DELETE FROM awaiting_shipment WHERE paid_at_ns = ? AND order_id = ?") {}

    std::optional<ShipmentRow> load(std::uint64_t order_id) {
      std::optional<ShipmentRow> row;
      if (select.bind(order_id).step()) {
        const bool was_waiting = select.integer(2) != 0;
        row = ShipmentRow{.customer = std::string(select.text(0)),
                          .version = static_cast<std::uint64_t>(select.integer(1)),
                          .waiting = was_waiting,
                          .paid_at_ns = select.integer(3),
                          .total_cents = select.integer(4),
                          .was_waiting = was_waiting,
                          .stored_paid_at_ns = select.integer(3)};
      }
      select.done();
      return row;
    }

    Statement select, upsert, waiting, shipped;
  };
  std::optional<Statements> statements_;
  detail::BatchRows<ShipmentRow> batch_;
};

}  // namespace

std::unique_ptr<Projection> make_shipment_projection() {
  return std::make_unique<ShipmentProjection>();
}

std::vector<AwaitingShipment> AwaitingShipmentQuery::operator()(std::size_t limit) {
  if (!statement_) {
    statement_.emplace(db_.handle(),
                       "SELECT order_id, customer, total_cents, paid_at_ns"
                       " FROM awaiting_shipment ORDER BY paid_at_ns, order_id LIMIT ?");
  }
  Statement& q = *statement_;
  std::vector<AwaitingShipment> rows;
  // A limit beyond what SQLite counts to is no limit.
  q.bind(static_cast<std::int64_t>(
      std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max())));
  while (q.step()) {
    rows.push_back(AwaitingShipment{static_cast<std::uint64_t>(q.integer(0)),
                                    std::string(q.text(1)), q.integer(2), q.integer(3)});
  }
  q.done();
  return rows;
}

std::vector<std::unique_ptr<Projection>> shop_projections() {
  std::vector<std::unique_ptr<Projection>> all;
  all.push_back(make_customer_orders_projection());
  all.push_back(make_sales_projection());
  all.push_back(make_shipment_projection());
  return all;
}

}  // namespace eda::cqrs
