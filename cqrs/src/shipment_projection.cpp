// The orders waiting for shipment: exactly the paid, unshipped orders, indexed in payment
// order, so the warehouse's "what next?" is the first rows of one index.

#include <optional>

#include "eda/cqrs/projections.hpp"
#include "projection_support.hpp"

namespace eda::cqrs {
namespace {

using sourcing::sqlite::Database;
using sourcing::sqlite::Statement;

class ShipmentProjection final : public Projection {
 public:
  [[nodiscard]] std::string_view name() const noexcept override { return shipment_projection; }

  void open(const Database& db) override {
    db.exec(
        "CREATE TABLE IF NOT EXISTS awaiting_shipment (order_id INTEGER PRIMARY KEY,"
        " customer TEXT NOT NULL, total_cents INTEGER NOT NULL, paid_at_ns INTEGER NOT NULL);"
        "CREATE INDEX IF NOT EXISTS awaiting_shipment_by_payment"
        " ON awaiting_shipment (paid_at_ns, order_id);"
        "CREATE TABLE IF NOT EXISTS shipment_orders (order_id INTEGER PRIMARY KEY,"
        " customer TEXT NOT NULL, version INTEGER NOT NULL);");
    statements_.emplace(db);
  }

  void drop(const Database& db) override {
    statements_.reset();
    db.exec("DROP TABLE IF EXISTS awaiting_shipment; DROP TABLE IF EXISTS shipment_orders;");
  }

  void apply(const ProjectedEvent& e) override {
    Statements& s = *statements_;
    if (const auto* placed = std::get_if<sourcing::OrderPlaced>(&e.event)) {
      s.place.bind(e.order_id, placed->customer).run();
      return;
    }
    if (!s.guard.claim(e)) {
      return;  // applied before
    }
    if (const auto* paid = std::get_if<sourcing::OrderPaid>(&e.event)) {
      s.await.bind(e.order_id, paid->amount_cents, e.timestamp_ns).run();
    } else if (std::holds_alternative<sourcing::OrderShipped>(e.event) ||
               std::holds_alternative<sourcing::OrderCancelled>(e.event)) {
      s.done.bind(e.order_id).run();
    }
    // Items added or removed only advance the order's version here.
  }

 private:
  struct Statements {
    explicit Statements(const Database& db)
        : guard(db, "shipment_orders"),
          place(db.handle(),
                "INSERT INTO shipment_orders (order_id, customer, version) VALUES (?, ?, 1)"
                " ON CONFLICT (order_id) DO NOTHING"),
          await(db.handle(),
                "INSERT INTO awaiting_shipment (order_id, customer, total_cents, paid_at_ns)"
                " SELECT order_id, customer, ?2, ?3 FROM shipment_orders WHERE order_id = ?1"),
          done(db.handle(), "DELETE FROM awaiting_shipment WHERE order_id = ?") {}
    detail::VersionGuard guard;
    Statement place, await, done;
  };
  std::optional<Statements> statements_;
};

}  // namespace

std::unique_ptr<Projection> make_shipment_projection() {
  return std::make_unique<ShipmentProjection>();
}

std::vector<std::unique_ptr<Projection>> shop_projections() {
  std::vector<std::unique_ptr<Projection>> all;
  all.push_back(make_customer_orders_projection());
  all.push_back(make_sales_projection());
  all.push_back(make_shipment_projection());
  return all;
}

}  // namespace eda::cqrs
