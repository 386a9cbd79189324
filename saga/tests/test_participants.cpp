// The checkout's participants: Inventory, Payment and Shipping handle each command once per
// command id (a duplicate gets its first reply again), decide once per order, answer through
// their outboxes with the command as the reply's cause, fence off a command overtaken by its
// compensation, and refuse unknown or malformed commands without changing anything.
#include <catch2/catch.hpp>

#include "checkout_test_support.hpp"
#include "eda/saga/inventory.hpp"
#include "eda/saga/payment.hpp"
#include "eda/saga/shipping.hpp"
#include "eda_test_support.hpp"

using namespace eda::saga;
using eda::saga::test::command;
using eda::saga::test::replies;

TEST_CASE("Inventory reserves on a command, replies caused by it, and answers a duplicate again",
          "[saga][participants]") {
  eda::test::TempDatabase file;
  Inventory inventory(file.path());
  inventory.stock_up("SKU-1", 5);
  const auto reserve = command(ReserveStock{.order_id = 7, .sku = "SKU-1", .quantity = 2});
  CHECK(inventory.handle(reserve) == CommandOutcome::executed);
  CHECK(inventory.handle(reserve) == CommandOutcome::repeated);
  CHECK(inventory.ledger().available("SKU-1") == 3);  // reserved once
  const auto sent = replies(inventory.outbox());
  REQUIRE(sent.size() == 2);
  for (const auto& reply : sent) {
    REQUIRE(reply.is<StockReserved>());
    CHECK(reply.payload_as<StockReserved>().quantity == 2);
    CHECK(reply.meta().causation_id == reserve.event_id());
    CHECK(reply.meta().correlation_id == reserve.meta().correlation_id);
  }
  CHECK(sent[0].event_id() != sent[1].event_id());
  CHECK(inventory.commands().counters().repeated == 1);

  // A second command for the same order (another id) gets the first decision.
  CHECK(inventory.handle(command(ReserveStock{.order_id = 7, .sku = "SKU-1", .quantity = 2})) ==
        CommandOutcome::executed);
  CHECK(inventory.ledger().available("SKU-1") == 3);
  CHECK(inventory.ledger().held() == 2);
}

TEST_CASE(
    "Inventory releases an order's stock once, and a release overtaking its reservation "
    "fences it off",
    "[saga][participants]") {
  eda::test::TempDatabase file;
  Inventory inventory(file.path());
  inventory.stock_up("SKU-1", 5);
  (void)inventory.handle(command(ReserveStock{.order_id = 1, .sku = "SKU-1", .quantity = 4}));
  (void)inventory.handle(command(ReleaseStock{.order_id = 1}));
  (void)inventory.handle(command(ReleaseStock{.order_id = 1}));  // a retry: nothing more back
  CHECK(inventory.ledger().available("SKU-1") == 5);
  CHECK(inventory.ledger().held() == 0);
  CHECK_FALSE(inventory.ledger().holds(1));

  // Order 2's release arrives before its reservation: the late reservation reserves nothing.
  (void)inventory.handle(command(ReleaseStock{.order_id = 2}));
  (void)inventory.handle(command(ReserveStock{.order_id = 2, .sku = "SKU-1", .quantity = 1}));
  CHECK(inventory.ledger().available("SKU-1") == 5);
  const auto sent = replies(inventory.outbox());
  REQUIRE(sent.size() == 5);
  CHECK(sent[1].payload_as<StockReleased>().quantity == 4);
  CHECK(sent[2].payload_as<StockReleased>().quantity == 4);
  CHECK(sent[3].payload_as<StockReleased>().quantity == 0);
  CHECK(sent[4].is<StockRejected>());
}

TEST_CASE("Payment charges, declines the declining card, and refunds once",
          "[saga][participants]") {
  eda::test::TempDatabase file;
  Payment payment(file.path());
  (void)payment.handle(command(ChargeCard{.order_id = 1, .card = "4242", .amount_cents = 1500}));
  (void)payment.handle(
      command(ChargeCard{.order_id = 2, .card = std::string(declined_card), .amount_cents = 900}));
  CHECK(payment.captured_cents() == 1500);
  CHECK(payment.find(2)->status == PaymentStatus::declined);
  (void)payment.handle(command(RefundPayment{.order_id = 1}));
  (void)payment.handle(command(RefundPayment{.order_id = 1}));
  CHECK(payment.captured_cents() == 0);
  CHECK(payment.find(1)->status == PaymentStatus::refunded);
  const auto sent = replies(payment.outbox());
  REQUIRE(sent.size() == 4);
  CHECK(sent[0].payload_as<PaymentCharged>().amount_cents == 1500);
  CHECK_THAT(sent[1].payload_as<PaymentDeclined>().reason, Catch::Contains("declined"));
  CHECK(sent[2].payload_as<PaymentRefunded>().amount_cents == 1500);
  CHECK(sent[3].payload_as<PaymentRefunded>().amount_cents == 1500);  // the same answer
}

TEST_CASE("a refund the card network refuses changes nothing and can be asked for again",
          "[saga][participants]") {
  eda::test::TempDatabase file;
  int refusals_left = 2;
  Payment payment(file.path(), {.refund_network = [&](std::uint64_t) -> std::optional<std::string> {
                    if (refusals_left-- > 0) return "card network unavailable";
                    return std::nullopt;
                  }});
  (void)payment.handle(command(ChargeCard{.order_id = 1, .card = "4242", .amount_cents = 700}));
  const auto first_try = command(RefundPayment{.order_id = 1});
  (void)payment.handle(first_try);
  CHECK(payment.handle(first_try) == CommandOutcome::repeated);  // the same failure, not retried
  CHECK(payment.captured_cents() == 700);
  (void)payment.handle(command(RefundPayment{.order_id = 1}));  // second attempt: refused
  (void)payment.handle(command(RefundPayment{.order_id = 1}));  // third: goes through
  CHECK(payment.captured_cents() == 0);
  const auto sent = replies(payment.outbox());
  REQUIRE(sent.size() == 5);
  CHECK(sent[1].is<RefundFailed>());
  CHECK(sent[2].is<RefundFailed>());
  CHECK(sent[3].is<RefundFailed>());
  CHECK(sent[4].payload_as<PaymentRefunded>().amount_cents == 700);
  CHECK(refusals_left == -1);  // the network was asked three times, the duplicate not at all
}

TEST_CASE("a refund overtaking its charge voids the order, and the late charge is declined",
          "[saga][participants]") {
  eda::test::TempDatabase file;
  Payment payment(file.path());
  (void)payment.handle(command(RefundPayment{.order_id = 3}));
  (void)payment.handle(command(ChargeCard{.order_id = 3, .card = "4242", .amount_cents = 100}));
  CHECK(payment.captured_cents() == 0);
  CHECK(payment.find(3)->status == PaymentStatus::voided);
  const auto sent = replies(payment.outbox());
  REQUIRE(sent.size() == 2);
  CHECK(sent[0].payload_as<PaymentRefunded>().amount_cents == 0);
  CHECK(sent[1].is<PaymentDeclined>());
}

TEST_CASE("Shipping books, the carrier refuses, a cancel undoes a booking or fences it off",
          "[saga][participants]") {
  eda::test::TempDatabase file;
  Shipping shipping(file.path());
  (void)shipping.handle(command(BookParcel{.order_id = 1, .address = "1 High St"}));
  (void)shipping.handle(command(BookParcel{.order_id = 2, .address = ""}));
  CHECK(shipping.booked_count() == 1);
  CHECK(shipping.find(2)->status == ParcelStatus::refused);
  (void)shipping.handle(command(CancelParcel{.order_id = 1}));
  CHECK(shipping.booked_count() == 0);
  (void)shipping.handle(command(CancelParcel{.order_id = 3}));
  (void)shipping.handle(command(BookParcel{.order_id = 3, .address = "2 Low St"}));
  CHECK(shipping.booked_count() == 0);
  const auto sent = replies(shipping.outbox());
  REQUIRE(sent.size() == 5);
  CHECK(sent[0].payload_as<ParcelBooked>().parcel_id == "PCL-1");
  CHECK_THAT(sent[1].payload_as<ParcelRefused>().reason, Catch::Contains("address"));
  CHECK(sent[2].payload_as<ParcelCancelled>().was_booked);
  CHECK_FALSE(sent[3].payload_as<ParcelCancelled>().was_booked);
  CHECK(sent[4].is<ParcelRefused>());
}

TEST_CASE("participants refuse unknown and malformed commands and change nothing",
          "[saga][participants]") {
  eda::test::TempDatabase inventory_file;
  eda::test::TempDatabase payment_file;
  eda::test::TempDatabase shipping_file;
  Inventory inventory(inventory_file.path());
  Payment payment(payment_file.path());
  Shipping shipping(shipping_file.path());
  const auto charge = command(ChargeCard{.order_id = 1, .card = "4242", .amount_cents = 1});
  CHECK_THROWS_AS(inventory.handle(charge), UnknownCommand);
  CHECK_THROWS_AS(shipping.handle(charge), UnknownCommand);
  CHECK_THROWS_AS(payment.handle(command(BookParcel{.order_id = 1, .address = "x"})),
                  UnknownCommand);
  // A ChargeCard envelope whose payload is a BookParcel's: it does not decode as a charge.
  eda::EventMetadata meta = eda::make_metadata<ChargeCard>("order-saga");
  msgpack::sbuffer buffer;
  eda::encode_event(meta, BookParcel{.order_id = 1, .address = "x"}, buffer);
  const auto malformed = eda::DecodedEvent::decode(std::string_view(buffer.data(), buffer.size()));
  CHECK_THROWS_AS(payment.handle(malformed), eda::MalformedMessage);
  CHECK(inventory.outbox().last_position() == 0);
  CHECK(payment.outbox().last_position() == 0);
  CHECK(shipping.outbox().last_position() == 0);
  CHECK_FALSE(payment.commands().handled(charge.event_id()));
  CHECK_FALSE(payment.commands().handled(malformed.event_id()));
}
