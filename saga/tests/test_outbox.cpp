// The outbox: a decision and the event announcing it commit together or not at all, in
// position order, with the position as the envelope's sequence.
#include <stdexcept>

#include <catch2/catch.hpp>

#include "eda/codec.hpp"
#include "eda/saga/inventory.hpp"
#include "eda/saga/outbox.hpp"
#include "eda_test_support.hpp"

using namespace eda::saga;

TEST_CASE("a reservation and the event announcing it are written in one transaction",
          "[saga][outbox]") {
  eda::test::TempDatabase file;
  Inventory inventory(file.path());
  inventory.stock_up("SKU-1", 5);

  const Reservation decided = inventory.reserve(42, "SKU-1", 3);
  CHECK(decided.reserved);
  CHECK(decided.fresh);
  CHECK(decided.available == 2);
  CHECK(inventory.ledger().available("SKU-1") == 2);

  const std::vector<OutboxRow> rows = inventory.outbox().read(1, 10);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].position == 1);
  CHECK(rows[0].event_type == StockReserved::event_type);
  const auto event = eda::DecodedEvent::decode(rows[0].envelope);
  CHECK(event.event_id() == rows[0].event_id);
  CHECK(event.sequence() == 1);  // the position travels as the sequence number
  CHECK(event.source() == "inventory");
  const auto payload = event.payload_as<StockReserved>();
  CHECK(payload.order_id == 42);
  CHECK(payload.quantity == 3);
  CHECK(payload.remaining == 2);
  CHECK(inventory.outbox().last_position() == 1);
}

TEST_CASE("an order asking for more than is in stock is rejected, and that is announced too",
          "[saga][outbox]") {
  eda::test::TempDatabase file;
  Inventory inventory(file.path());
  inventory.stock_up("SKU-1", 2);

  const Reservation decided = inventory.reserve(7, "SKU-1", 3);
  CHECK_FALSE(decided.reserved);
  CHECK(decided.available == 2);
  CHECK(inventory.ledger().available("SKU-1") == 2);  // nothing taken

  const std::vector<OutboxRow> rows = inventory.outbox().read(1, 10);
  REQUIRE(rows.size() == 1);
  const auto payload = eda::DecodedEvent::decode(rows[0].envelope).payload_as<StockRejected>();
  CHECK(payload.order_id == 7);
  CHECK(payload.available == 2);
}

TEST_CASE("a retried order gets its first decision back and adds no second event",
          "[saga][outbox]") {
  eda::test::TempDatabase file;
  Inventory inventory(file.path());
  inventory.stock_up("SKU-1", 10);
  const Reservation first = inventory.reserve(1, "SKU-1", 4);
  const Reservation again = inventory.reserve(1, "SKU-1", 4);
  CHECK(again.fresh == false);
  CHECK(again.reserved == first.reserved);
  CHECK(again.available == first.available);
  CHECK(inventory.ledger().available("SKU-1") == 6);  // taken once
  CHECK(inventory.outbox().last_position() == 1);
}

TEST_CASE("positions follow the order of the commits, without a hole", "[saga][outbox]") {
  eda::test::TempDatabase file;
  Inventory inventory(file.path());
  inventory.stock_up("SKU-1", 4);
  for (std::uint64_t order = 1; order <= 6; ++order) {
    (void)inventory.reserve(order, "SKU-1", 1);  // orders 5 and 6 are rejected
  }
  const std::vector<OutboxRow> rows = inventory.outbox().read(1, 100);
  REQUIRE(rows.size() == 6);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    CHECK(rows[i].position == i + 1);
    const auto event = eda::DecodedEvent::decode(rows[i].envelope);
    CHECK(event.sequence() == i + 1);
    CHECK(event.is<StockReserved>() == (i < 4));
  }
  CHECK(inventory.outbox().read(5, 100).size() == 2);  // reading from a position
  CHECK(inventory.outbox().read(1, 2).size() == 2);    // and bounded
}

TEST_CASE("a transaction that does not commit keeps neither the change nor its event",
          "[saga][outbox]") {
  eda::test::TempDatabase file;
  eda::sqlite::Database db(file.path(), eda::sqlite::Durability::full, "test");
  StockLedger ledger(db);
  Outbox outbox(db);
  {
    eda::sqlite::Transaction tx(db);
    ledger.stock_up(tx, "SKU-1", 3);
    tx.commit();
  }
  try {
    eda::sqlite::Transaction tx(db);
    const Reservation decided = ledger.decide(tx, 9, "SKU-1", 2);
    (void)outbox.add(
        tx, eda::make_metadata<StockReserved>("inventory"),
        StockReserved{
            .order_id = 9, .sku = "SKU-1", .quantity = 2, .remaining = decided.available});
    throw std::runtime_error("the service fails before committing");
  } catch (const std::runtime_error&) {
  }
  CHECK(ledger.available("SKU-1") == 3);
  CHECK_FALSE(ledger.find(9).has_value());
  CHECK(outbox.last_position() == 0);
}

TEST_CASE("adding to the outbox outside a transaction is refused", "[saga][outbox]") {
  eda::test::TempDatabase file;
  eda::sqlite::Database db(file.path(), eda::sqlite::Durability::full, "test");
  Outbox outbox(db);
  std::optional<eda::sqlite::Transaction> tx(std::in_place, db);
  tx->commit();  // the transaction is over: adding now would commit the event on its own
  CHECK_THROWS_AS(outbox.add(*tx, eda::make_metadata<StockReserved>("inventory"), StockReserved{}),
                  std::logic_error);
  CHECK(outbox.last_position() == 0);

  eda::sqlite::Transaction open(db);
  eda::EventMetadata no_id = eda::make_metadata<StockReserved>("inventory");
  no_id.event_id.clear();
  CHECK_THROWS_AS(outbox.add(open, no_id, StockReserved{}), std::invalid_argument);
  CHECK_THROWS_AS(outbox.add(open, eda::make_metadata<StockRejected>("inventory"), StockReserved{}),
                  std::invalid_argument);
}
