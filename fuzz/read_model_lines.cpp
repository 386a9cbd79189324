// Target `read_model_lines`: the order lines the CQRS projections keep as a MessagePack blob in
// their rows (customer_orders.lines, sales_orders.lines), read back from the database file —
// which is not trusted either. The input is written into both rows of a placed order with
// SQLite directly; then the order's next events (an item added, the order paid) are applied
// through ReadModels::apply, so the projections decode the blob and compute from it exactly as
// they do in production. The blob is decoded as the same type the projections use,
// std::map<std::string, OrderLine> (their detail::decode_lines is private to cqrs/src).
//
// Properties: a blob that is not lines fails the batch with MalformedMessage and nothing
// applied (the checkpoints stay); so do lines whose total does not fit in 64 bits (the
// projection cannot keep it); lines that decode round-trip through their encoding; after a
// successful batch, the order's summary shows the quantities and total of the lines plus the
// item (computed here with overflow checks), and the read models dump.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <unistd.h>

#include "eda/cqrs/read_models.hpp"
#include "eda/sourcing/order_repository.hpp"
#include "eda/sourcing/store_support.hpp"
#include "eda/sqlite/database.hpp"
#include "fuzz_support.hpp"
#include "shop_history.hpp"

namespace {

using namespace eda::sourcing;
using eda::sqlite::Database;
using eda::sqlite::Durability;
using eda::sqlite::Statement;
using Lines = std::map<std::string, OrderLine>;

std::filesystem::path database_path() {
  static const std::filesystem::path path =
      std::filesystem::temp_directory_path() /
      ("eda-fuzz-lines-" + std::to_string(::getpid()) + ".db");
  return path;
}

void remove_database() {
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::error_code ignored;
    std::filesystem::remove(database_path().string() + suffix, ignored);
  }
}

struct Fixture {
  Fixture()
      : read_models([] {
          remove_database();
          std::atexit(remove_database);
          return eda::cqrs::ReadModelOptions{.path = database_path().string()};
        }()),
        tamper(database_path().string(), Durability::normal, "read models (tampering)") {}
  eda::cqrs::ReadModels read_models;
  Database tamper;
  std::uint64_t next_order = 1;
};

RecordedEvent recorded(std::uint64_t order, std::uint64_t version, std::uint64_t position,
                       const OrderEvent& event) {
  const EventData data = to_event_data(event, "fuzz", {}, eda::fuzz::history_time_ns);
  return detail::recorded(order_stream(order), version, position, data.envelope);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static auto* fixture = new Fixture();
  Fixture& f = *fixture;
  // (Never a null pointer: SQLite would store NULL, which marks a closed order's row.)
  const std::string_view blob =
      size == 0 ? std::string_view("", 0) : eda::fuzz::as_view(data, size);

  std::optional<Lines> lines;
  try {
    lines = eda::decode_value<Lines>(blob, "lines");
    const std::string once = eda::encode_value(*lines);
    EDA_FUZZ_CHECK(eda::encode_value(eda::decode_value<Lines>(once, "lines")) == once,
                   "lines do not round-trip");
  } catch (const eda::MalformedMessage&) {
  }
  if (blob.empty()) lines = Lines{};  // an empty column means no lines

  const std::uint64_t order = f.next_order++;
  std::uint64_t position = f.read_models.position();
  const std::string customer = "customer-" + std::to_string(order);
  const RecordedEvent placed = recorded(order, 1, ++position, OrderPlaced{customer});
  (void)f.read_models.apply(std::span(&placed, 1));

  Statement(f.tamper.handle(), "UPDATE customer_orders SET lines = ? WHERE order_id = ?")
      .bind(Statement::as_blob(blob), order)
      .run();
  Statement(f.tamper.handle(), "UPDATE sales_orders SET lines = ? WHERE order_id = ?")
      .bind(Statement::as_blob(blob), order)
      .run();

  const ItemAdded item{"widget", 2, 1250};

  // What the summary must say: the stored lines plus the item, summed without overflow.
  std::uint64_t count = 0;
  std::int64_t total = 0;
  bool fits = true;
  if (lines) {
    Lines expected = *lines;
    expected[item.sku].quantity += item.quantity;
    expected[item.sku].unit_price_cents = item.unit_price_cents;
    for (const auto& [sku, line] : expected) {
      std::int64_t cost = 0;
      count += line.quantity;
      fits = fits &&
             !__builtin_mul_overflow(static_cast<std::int64_t>(line.quantity),
                                     line.unit_price_cents, &cost) &&
             !__builtin_add_overflow(total, cost, &total);
    }
  }

  std::vector<RecordedEvent> next;
  next.push_back(recorded(order, 2, ++position, item));
  try {
    (void)f.read_models.apply(next);
  } catch (const eda::MalformedMessage&) {
    EDA_FUZZ_CHECK(!lines || !fits, "lines that decode were refused");
    EDA_FUZZ_CHECK(f.read_models.position() == position - 1,
                   "a failed batch moved the checkpoints");
    return 0;
  } catch (const std::runtime_error&) {  // e.g. CorruptEvent: lines whose total cannot be kept
    EDA_FUZZ_CHECK(lines && !fits, "a batch failed for lines that are fine");
    EDA_FUZZ_CHECK(f.read_models.position() == position - 1,
                   "a failed batch moved the checkpoints");
    return 0;
  }
  EDA_FUZZ_CHECK(lines.has_value(), "lines that do not decode were accepted");
  EDA_FUZZ_CHECK(fits, "lines whose total does not fit in 64 bits were accepted (total " +
                           std::to_string(total) + " wrapped)");

  const OrderPaid paid{total};
  next.assign(1, recorded(order, 3, ++position, paid));
  (void)f.read_models.apply(next);
  const auto summaries = f.read_models.customer_orders(customer);
  EDA_FUZZ_CHECK(summaries.size() == 1, "the order has no summary");
  for (const auto& summary : summaries) {
    EDA_FUZZ_CHECK(summary.item_count == count, "item count " + std::to_string(summary.item_count) +
                                                    ", lines say " + std::to_string(count));
    EDA_FUZZ_CHECK(summary.total_cents == total, "total " + std::to_string(summary.total_cents) +
                                                     ", lines say " + std::to_string(total));
  }
  if (order % 1000 == 0) (void)f.read_models.dump();
  return 0;
}
