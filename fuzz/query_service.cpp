// Target `query_service`: the CQRS read side (QueryService, a ROUTER) receiving any frames from
// a raw DEALER over inproc://, answering from real read models (SQLite, a temporary file) that
// hold a small shop history. Waits for a consistency token are cut to 0 ms, so a query that
// would wait is answered `timeout` at once. Seeds are real queries: CustomerOrders, SalesByDay,
// AwaitingShipment, with and without tokens.
//
// Properties: a message whose first frame is the empty REQ delimiter gets exactly one reply
// [delimiter, status, body] of the protocol (never `error`); others get none. A request of
// the documented shape is answered `ok`, `timeout` (only when its token is ahead of the read
// model) or `rejected` (only SalesByDay, for a day that is not one); `ok` bodies decode as the
// rows the method returns, reflecting a position at least the token.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <unistd.h>

#include "eda/cqrs/projections.hpp"
#include "eda/cqrs/query_service.hpp"
#include "eda/cqrs/read_models.hpp"
#include "eda/sourcing/memory_store.hpp"
#include "fuzz_support.hpp"
#include "shop_history.hpp"

namespace {

using namespace eda::cqrs;
using CustomerOrdersRequest = std::tuple<std::uint64_t, std::uint32_t, std::string>;
using SalesByDayRequest = std::tuple<std::uint64_t, std::uint32_t, std::string, std::string>;
using AwaitingShipmentRequest = std::tuple<std::uint64_t, std::uint32_t, std::uint64_t>;

std::filesystem::path database_path() {
  static const std::filesystem::path path =
      std::filesystem::temp_directory_path() /
      ("eda-fuzz-query-" + std::to_string(::getpid()) + ".db");
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
          return ReadModelOptions{.path = database_path().string()};
        }()),
        service(eda::fuzz::context(), read_models,
                QueryServiceOptions{.endpoints = {eda::fuzz::inproc_endpoint("queries")},
                                    .poll = std::chrono::milliseconds(1),
                                    .max_wait = std::chrono::milliseconds(0)}),
        peer(service.endpoints().front()) {
    eda::sourcing::InMemoryEventStore store;
    eda::fuzz::write_shop_history(store);
    (void)read_models.apply(store.read_all(1, 1000));
  }
  ReadModels read_models;
  QueryService service;
  eda::fuzz::RawPeer peer;
};

template <class Rows>
void check_answer(std::string_view body, std::uint64_t min_position) {
  const auto answer = eda::decode_value<Reflecting<Rows>>(body, "query answer");
  EDA_FUZZ_CHECK(answer.position >= min_position, "answered below the consistency token");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static auto* fixture = new Fixture();
  Fixture& f = *fixture;
  const auto parts = eda::fuzz::split_frames(eda::fuzz::as_view(data, size));
  f.peer.send(parts);
  const bool answerable = parts.front().empty();
  const auto serve = [&] {
    (void)f.service.serve_once(std::chrono::milliseconds(answerable ? 5 : 0));
  };
  if (!answerable) {
    serve();
    serve();
    const auto reply = f.peer.try_receive();
    EDA_FUZZ_CHECK(!reply, "a reply to a message without the REQ delimiter: " +
                               eda::fuzz::describe_frames(*reply));
    return 0;
  }
  const auto reply = f.peer.await_reply(serve);
  EDA_FUZZ_CHECK(reply.has_value(),
                 "no reply to " + eda::fuzz::describe_frames({parts.begin(), parts.end()}));
  EDA_FUZZ_CHECK(reply->size() == 3 && (*reply)[0].empty(),
                 "a reply is [delimiter, status, body], got " + eda::fuzz::describe_frames(*reply));
  EDA_FUZZ_CHECK(!f.peer.try_receive(), "two replies to one query");
  EDA_FUZZ_CHECK(f.service.waiting() == 0, "a query is still parked after its wait ran out");
  const std::string& status = (*reply)[1];
  const std::string& body = (*reply)[2];
  static const std::set<std::string> statuses{"ok",   "timeout",     "rejected",
                                              "busy", "bad_request", "unknown_method"};
  EDA_FUZZ_CHECK(statuses.count(status) == 1, "status " + status + ": " + body);
  if (parts.size() != 3) {
    EDA_FUZZ_CHECK(status == "bad_request",
                   "a request of " + std::to_string(parts.size()) + " frames got " + status);
    return 0;
  }
  const std::string_view method = parts[1];
  const std::string_view request = parts[2];
  const auto well_formed = [&](std::uint64_t min, std::string_view projection) {
    EDA_FUZZ_CHECK(status == "ok" || status == "timeout" || status == "rejected",
                   "a well-formed query got " + status + ": " + body);
    if (status == "timeout") {
      EDA_FUZZ_CHECK(min > f.read_models.checkpoint(projection),
                     "timeout for a token already reached");
    }
  };
  try {
    if (method == "CustomerOrders") {
      const auto [min, wait, customer] = eda::decode_value<CustomerOrdersRequest>(request, "q");
      well_formed(min, customer_orders_projection);
      EDA_FUZZ_CHECK(status != "rejected", "CustomerOrders rejected: " + body);
      if (status == "ok") check_answer<std::vector<OrderSummary>>(body, min);
    } else if (method == "SalesByDay") {
      const auto [min, wait, first, last] = eda::decode_value<SalesByDayRequest>(request, "q");
      well_formed(min, sales_projection);
      bool days = true;
      try {
        (void)parse_day(first);
        (void)parse_day(last);
      } catch (const std::invalid_argument&) {
        days = false;
      }
      EDA_FUZZ_CHECK(days == (status != "rejected"),
                     "SalesByDay: days valid " + std::to_string(days) + ", " + status);
      if (status == "ok") check_answer<std::vector<ProductDaySales>>(body, min);
    } else if (method == "AwaitingShipment") {
      const auto [min, wait, limit] = eda::decode_value<AwaitingShipmentRequest>(request, "q");
      well_formed(min, shipment_projection);
      EDA_FUZZ_CHECK(status != "rejected", "AwaitingShipment rejected: " + body);
      if (status == "ok") {
        check_answer<std::vector<AwaitingShipment>>(body, min);
        const auto rows =
            eda::decode_value<Reflecting<std::vector<AwaitingShipment>>>(body, "a").rows;
        EDA_FUZZ_CHECK(rows.size() <= limit, "more rows than the limit");
      }
    } else {
      EDA_FUZZ_CHECK(status == "unknown_method", "unknown method got " + status);
    }
  } catch (const eda::MalformedMessage&) {
    EDA_FUZZ_CHECK(status == "bad_request", "a malformed query got " + status + ": " + body);
  }
  return 0;
}
