// Target `notification_api`: the event-notification Order service's API (REP) receiving any
// request frames after the REQ delimiter from a raw DEALER over inproc://: PlaceOrder, the
// consumers' fetch-back GetOrder, and the outbox Replay a consumer sends to catch up.
//
// Properties: exactly one reply [delimiter, status, body] per request, of the protocol;
// `error` only where the service documents a refusal (an order of quantity 0, an unknown
// order id). A placed order is fetched back equal; a Replay answer holds at most the page
// asked for, of envelopes that decode as OrderPlaced events with rising sequence numbers
// after the one asked for.
#include <cstdint>
#include <memory>
#include <set>
#include <string>

#include "eda/notification/order_service.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace eda::notification;

struct Fixture {
  Fixture()
      : service(eda::fuzz::context(),
                OrderServiceOptions{.events_endpoint = eda::fuzz::inproc_endpoint("order-events"),
                                    .api_endpoint = eda::fuzz::inproc_endpoint("order-api"),
                                    .outbox_capacity = 1000}),
        peer(service.api_endpoint()) {
    for (std::uint64_t n = 1; n <= 5; ++n) (void)service.place(sample_order(n));
  }
  OrderService service;
  eda::fuzz::RawPeer peer;
  int inputs = 0;
};

std::unique_ptr<Fixture> fixture;

template <class T>
std::optional<T> decode(std::string_view bytes) {
  try {
    return eda::decode_value<T>(bytes, "fuzz");
  } catch (const eda::MalformedMessage&) {
    return std::nullopt;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (!fixture || ++fixture->inputs > 20'000) fixture = std::make_unique<Fixture>();
  Fixture& f = *fixture;
  auto parts = eda::fuzz::split_frames(eda::fuzz::as_view(data, size));
  parts.insert(parts.begin(), std::string_view());
  f.peer.send(parts);
  const auto reply =
      f.peer.await_reply([&] { (void)f.service.serve_once(std::chrono::milliseconds(5)); });
  EDA_FUZZ_CHECK(reply.has_value(), "no reply to a request");
  EDA_FUZZ_CHECK(reply->size() == 3 && (*reply)[0].empty(),
                 "a reply is [delimiter, status, body], got " + eda::fuzz::describe_frames(*reply));
  const std::string& status = (*reply)[1];
  const std::string& body = (*reply)[2];
  static const std::set<std::string> statuses{"ok", "error", "bad_request", "unknown_method"};
  EDA_FUZZ_CHECK(statuses.count(status) == 1, "status " + status + ": " + body);
  if (parts.size() != 3) {
    EDA_FUZZ_CHECK(status == "bad_request",
                   "a request of " + std::to_string(parts.size() - 1) + " frames got " + status);
    return 0;
  }
  const std::string_view method = parts[1];
  const std::string_view request = parts[2];
  if (method == "PlaceOrder") {
    const auto order = decode<OrderRequest>(request);
    EDA_FUZZ_CHECK(order.has_value() == (status != "bad_request"),
                   "PlaceOrder: " + status + ": " + body);
    if (!order) return 0;
    EDA_FUZZ_CHECK((status == "ok") == (order->quantity > 0),
                   "PlaceOrder of quantity " + std::to_string(order->quantity) + ": " + status);
    if (status == "ok") {
      const auto id = eda::decode_value<std::uint64_t>(body, "order id");
      const Order* stored = f.service.find(id);
      EDA_FUZZ_CHECK(stored != nullptr && stored->details == *order,
                     "a placed order is not stored as sent");
    }
  } else if (method == "GetOrder") {
    const auto id = decode<std::uint64_t>(request);
    EDA_FUZZ_CHECK(id.has_value() == (status != "bad_request"),
                   "GetOrder: " + status + ": " + body);
    if (!id) return 0;
    const Order* stored = f.service.find(*id);
    EDA_FUZZ_CHECK((status == "ok") == (stored != nullptr),
                   "GetOrder " + std::to_string(*id) + ": " + status);
    if (stored != nullptr)
      EDA_FUZZ_CHECK(eda::decode_value<Order>(body, "order") == *stored,
                     "fetched back a different order");
  } else if (method == "Replay") {
    const auto ask = decode<ReplayRequest>(request);
    EDA_FUZZ_CHECK((status == "ok") == ask.has_value(), "Replay: " + status + ": " + body);
    if (!ask) return 0;
    const auto answer = eda::decode_value<ReplayReply>(body, "replay reply");
    EDA_FUZZ_CHECK(answer.events.size() <= ask->max_events, "more events than the page");
    std::uint64_t last = ask->after_sequence;
    for (const auto& bytes : answer.events) {
      const auto event = eda::DecodedEvent::decode(std::string_view(bytes.data(), bytes.size()));
      (void)event.payload_as<OrderPlaced>();
      EDA_FUZZ_CHECK(event.meta().sequence > last && event.meta().sequence <= answer.last_sequence,
                     "replayed sequence " + std::to_string(event.meta().sequence) + " after " +
                         std::to_string(last));
      last = event.meta().sequence;
    }
  } else {
    EDA_FUZZ_CHECK(status == "unknown_method", "unknown method got " + status);
  }
  return 0;
}
