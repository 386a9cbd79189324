// Target `command_service`: the CQRS write side (CommandService, REP) receiving any request
// frames after the REQ delimiter, from a raw DEALER over inproc://, on an in-memory store.
// Seeds are real commands: PlaceOrder, AddItem, RemoveItem, Pay, Ship, Cancel.
//
// Properties: exactly one reply [delimiter, status, body] per request, with a status of the
// protocol and never `error` (nothing here can fail but the input); `ok` exactly when the body
// is the method's documented tuple and the order's rules allow it, and then the reply is a
// CommandAccepted naming the order's new version and the store's last position; the store
// only ever holds envelopes that read back as order events.
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <tuple>

#include "eda/cqrs/command_service.hpp"
#include "eda/sourcing/memory_store.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace eda::sourcing;

// The documented request bodies (command_service.hpp's table).
using IdAndText = std::tuple<std::uint64_t, std::string>;
using AddItemBody = std::tuple<std::uint64_t, std::string, std::uint32_t, std::int64_t>;
using PayBody = std::tuple<std::uint64_t, std::int64_t>;

struct Fixture {
  Fixture()
      : service(eda::fuzz::context(), store,
                eda::cqrs::CommandServiceOptions{
                    .endpoints = {eda::fuzz::inproc_endpoint("commands")}}),
        peer(service.endpoints().front()) {}
  InMemoryEventStore store;
  eda::cqrs::CommandService service;
  eda::fuzz::RawPeer peer;
  int inputs = 0;
};

std::unique_ptr<Fixture> fixture;

/// The order id of a well-formed body of `method`, or nothing.
std::optional<std::uint64_t> order_of(std::string_view method, std::string_view body) {
  try {
    if (method == "AddItem") return std::get<0>(eda::decode_value<AddItemBody>(body, "body"));
    if (method == "Pay") return std::get<0>(eda::decode_value<PayBody>(body, "body"));
    if (method == "PlaceOrder" || method == "RemoveItem" || method == "Ship" ||
        method == "Cancel") {
      return std::get<0>(eda::decode_value<IdAndText>(body, "body"));
    }
  } catch (const eda::MalformedMessage&) {
  }
  return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (!fixture || ++fixture->inputs > 20'000) fixture = std::make_unique<Fixture>();
  Fixture& f = *fixture;
  auto parts = eda::fuzz::split_frames(eda::fuzz::as_view(data, size));
  parts.insert(parts.begin(), std::string_view());
  const std::uint64_t position_before = f.store.last_position();
  f.peer.send(parts);
  const auto reply =
      f.peer.await_reply([&] { (void)f.service.serve_once(std::chrono::milliseconds(5)); });
  EDA_FUZZ_CHECK(reply.has_value(), "no reply to a command");
  EDA_FUZZ_CHECK(reply->size() == 3 && (*reply)[0].empty(),
                 "a reply is [delimiter, status, body], got " + eda::fuzz::describe_frames(*reply));
  const std::string& status = (*reply)[1];
  static const std::set<std::string> statuses{"ok", "rejected", "conflict", "bad_request",
                                              "unknown_method"};
  EDA_FUZZ_CHECK(statuses.count(status) == 1, "status " + status + ": " + (*reply)[2]);

  const std::optional<std::uint64_t> order =
      parts.size() == 3 ? order_of(parts[1], parts[2]) : std::nullopt;
  if (!order) {
    EDA_FUZZ_CHECK(status == "bad_request" || status == "unknown_method",
                   "a malformed command got " + status);
    EDA_FUZZ_CHECK(f.store.last_position() == position_before,
                   "a malformed command changed the store");
    return 0;
  }
  EDA_FUZZ_CHECK(status != "bad_request" && status != "unknown_method",
                 "a well-formed command got " + status + ": " + (*reply)[2]);
  if (status != "ok") {
    EDA_FUZZ_CHECK(f.store.last_position() == position_before,
                   "a refused command changed the store");
    return 0;
  }
  const auto accepted =
      eda::decode_value<eda::cqrs::CommandAccepted>((*reply)[2], "CommandAccepted");
  EDA_FUZZ_CHECK(accepted.order_id == *order, "accepted for another order");
  EDA_FUZZ_CHECK(accepted.position == f.store.last_position(),
                 "the token is not the store's position");
  EDA_FUZZ_CHECK(accepted.version == f.store.stream_version(order_stream(*order)),
                 "the version is not the stream's");
  EDA_FUZZ_CHECK(!accepted.events.empty(), "accepted without an event");
  for (const RecordedEvent& r : f.store.read_all(position_before + 1, 100)) {
    (void)order_event_from(r);  // CorruptEvent here: the service stored something unreadable
  }
  return 0;
}
