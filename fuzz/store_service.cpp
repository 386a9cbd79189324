// Target `store_service`: the event store's service (sourcing StoreService, a ROUTER) receiving
// any frames from a raw DEALER over inproc://, on an in-memory store. Seeds are real requests
// of every method: Append, ReadStream, ReadAll, StreamVersion, LastPosition, SaveSnapshot,
// LoadSnapshot. (A catch-up subscription sends no request: it reads by position through these,
// and its wake-up notification is an event, fuzzed by `envelope`, `wire_frames` and `codec`.)
//
// Properties: a message whose first frame is the empty REQ delimiter gets exactly one reply
// [delimiter, status, body] with a status of the protocol, never `corrupt` or `error` (the
// store only holds what it validated); other messages get none. An `ok` reply decodes as the
// method's reply type; records read back decode as envelopes; an acknowledged append is
// readable at the positions it names, and positions only grow.
#include <cstdint>
#include <memory>
#include <set>
#include <string>

#include "eda/sourcing/memory_store.hpp"
#include "eda/sourcing/store_service.hpp"
#include "eda/sourcing/store_support.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace eda::sourcing;

struct Fixture {
  Fixture()
      : service(eda::fuzz::context(), store,
                StoreServiceOptions{.endpoints = {eda::fuzz::inproc_endpoint("store")}}),
        peer(service.endpoints().front()) {}
  InMemoryEventStore store;
  StoreService service;
  eda::fuzz::RawPeer peer;
  int inputs = 0;
};

std::unique_ptr<Fixture> fixture;

void check_ok(std::string_view method, std::string_view request, std::string_view body,
              std::uint64_t position_before) {
  Fixture& f = *fixture;
  if (method == "Append") {
    const auto reply = eda::decode_value<AppendReply>(body, "Append reply");
    const auto append = eda::decode_value<AppendBody>(request, "Append body");
    EDA_FUZZ_CHECK(reply.last_version - reply.first_version + 1 == append.events.size(),
                   "an append acknowledged a different number of events");
    EDA_FUZZ_CHECK(reply.last_position <= f.store.last_position(), "acknowledged past the end");
    const auto read = f.store.read_all(reply.first_position, append.events.size());
    EDA_FUZZ_CHECK(read.size() == append.events.size(), "acknowledged events are not readable");
    for (std::size_t i = 0; i < read.size(); ++i) {
      EDA_FUZZ_CHECK(read[i].event.meta().event_id == append.events[i].event_id &&
                         read[i].stream == append.stream,
                     "an acknowledged event is not where the reply says");
    }
    if (!reply.already_stored) {
      EDA_FUZZ_CHECK(reply.first_position == position_before + 1,
                     "a new append did not go at the end");
    }
  } else if (method == "ReadStream" || method == "ReadAll") {
    for (const WireRecord& r : eda::decode_value<std::vector<WireRecord>>(body, "read reply")) {
      (void)detail::recorded(r.stream, r.version, r.position,
                             r.envelope);  // CorruptEvent: a finding
    }
  } else if (method == "StreamVersion" || method == "LastPosition") {
    (void)eda::decode_value<std::uint64_t>(body, "version");
  } else if (method == "LoadSnapshot") {
    (void)eda::decode_value<std::tuple<bool, WireSnapshot>>(body, "snapshot reply");
  } else if (method == "SaveSnapshot") {
    (void)eda::decode_value<msgpack::type::nil_t>(body, "nil");
  } else {
    eda::fuzz::property_failed(__FILE__, __LINE__, "ok for a known method", std::string(method));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A fresh store now and then, so that memory stays bounded over a long run.
  if (!fixture || ++fixture->inputs > 20'000) fixture = std::make_unique<Fixture>();
  Fixture& f = *fixture;
  const auto parts = eda::fuzz::split_frames(eda::fuzz::as_view(data, size));
  const std::uint64_t position_before = f.store.last_position();
  const StoreServiceStats before = f.service.stats();
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
    EDA_FUZZ_CHECK(f.service.stats().bad_requests == before.bad_requests + 1,
                   "an unanswerable message was not counted");
    return 0;
  }
  const auto reply = f.peer.await_reply(serve);
  EDA_FUZZ_CHECK(reply.has_value(),
                 "no reply to " + eda::fuzz::describe_frames({parts.begin(), parts.end()}));
  EDA_FUZZ_CHECK(reply->size() == 3 && (*reply)[0].empty(),
                 "a reply is [delimiter, status, body], got " + eda::fuzz::describe_frames(*reply));
  EDA_FUZZ_CHECK(!f.peer.try_receive(), "two replies to one request");
  const std::string& status = (*reply)[1];
  static const std::set<std::string> statuses{"ok", "bad_request", "rejected", "conflict"};
  EDA_FUZZ_CHECK(statuses.count(status) == 1,
                 "status " + status + ": " + (*reply)[2] + " (request " +
                     eda::fuzz::describe_frames({parts.begin(), parts.end()}) + ")");
  EDA_FUZZ_CHECK(f.store.last_position() >= position_before, "the store's position went back");
  if (parts.size() != 3) {
    EDA_FUZZ_CHECK(status == "bad_request",
                   "a request of " + std::to_string(parts.size()) + " frames got " + status);
    return 0;
  }
  if (status == "ok") check_ok(parts[1], parts[2], (*reply)[2], position_before);
  if (status == "conflict") (void)eda::decode_value<ConflictBody>((*reply)[2], "conflict body");
  return 0;
}
