// The idempotent consumer: an event applied once however often it comes, its id and effect
// kept together, across a restart of the consumer.
#include <stdexcept>

#include <catch2/catch.hpp>

#include "eda/codec.hpp"
#include "eda_test_support.hpp"
#include "saga_test_support.hpp"

using namespace eda::saga;

namespace {

eda::DecodedEvent reserved_event(std::uint64_t order_id) {
  return eda::DecodedEvent::decode(eda::encode_event(eda::make_event(
      "inventory", StockReserved{.order_id = order_id, .sku = "SKU-1", .quantity = 1})));
}

}  // namespace

TEST_CASE("an event that arrives twice is applied once", "[saga][consumer]") {
  eda::test::TempDatabase file;
  test::ReservationLog log(file.path());
  const auto event = reserved_event(5);
  CHECK(log.take(event) == Handled::applied);
  CHECK(log.take(event) == Handled::duplicate);
  CHECK(log.take(reserved_event(6)) == Handled::applied);
  CHECK(log.applied_orders() == std::vector<std::uint64_t>{5, 6});
  CHECK(log.consumer().counters().applied == 2);
  CHECK(log.consumer().counters().duplicates == 1);
  CHECK(log.consumer().processed(event.event_id()));
}

TEST_CASE("a consumer reopened after a restart still knows what it processed", "[saga][consumer]") {
  eda::test::TempDatabase file;
  const auto event = reserved_event(5);
  { CHECK(test::ReservationLog(file.path()).take(event) == Handled::applied); }
  test::ReservationLog reopened(file.path());
  CHECK(reopened.take(event) == Handled::duplicate);
  CHECK(reopened.applied_orders() == std::vector<std::uint64_t>{5});
}

TEST_CASE("an effect that fails keeps neither the effect nor the event's id", "[saga][consumer]") {
  eda::test::TempDatabase file;
  IdempotentConsumer consumer(file.path(), "shipping");
  consumer.database().exec("CREATE TABLE parcels (order_id INTEGER)");
  const auto event = reserved_event(8);
  CHECK_THROWS_AS(consumer.handle(event,
                                  [](eda::sqlite::Database& db) {
                                    db.exec("INSERT INTO parcels VALUES (8)");
                                    throw std::runtime_error("the carrier is down");
                                  }),
                  std::runtime_error);
  CHECK_FALSE(consumer.processed(event.event_id()));
  eda::sqlite::Statement count(consumer.database().handle(), "SELECT COUNT(*) FROM parcels");
  CHECK(count.single_integer() == 0);
  // Handled again later, it is applied.
  CHECK(consumer.handle(event, [](eda::sqlite::Database& db) {
    db.exec("INSERT INTO parcels VALUES (8)");
  }) == Handled::applied);
  CHECK(count.single_integer() == 1);
}

TEST_CASE("two consumers sharing a database keep their own records", "[saga][consumer]") {
  eda::test::TempDatabase file;
  IdempotentConsumer shipping(file.path(), "shipping");
  IdempotentConsumer billing(file.path(), "billing");
  const auto event = reserved_event(3);
  const auto nothing = [](eda::sqlite::Database&) {};
  CHECK(shipping.handle(event, nothing) == Handled::applied);
  CHECK(billing.handle(event, nothing) == Handled::applied);
  CHECK(billing.handle(event, nothing) == Handled::duplicate);
  CHECK_THROWS_AS(IdempotentConsumer(file.path(), ""), std::invalid_argument);
}
