// Target `snapshot_service`: the state-transfer Customer service's snapshot server (a ROUTER)
// receiving any frames from a raw DEALER over inproc://, as a replica's snapshot request
// arrives ([snapshot.request, SnapshotRequest]). The service holds 25 customer records and
// sends them in chunks of 10.
//
// Properties: every message is answered. A well-formed request gets zero or more
// `snapshot.chunk` messages then one `snapshot.end`, whose counts, sequence and incarnation
// match the service and whose records read back as the replica reads them; anything else
// gets one `snapshot.refused` with the reason, and the refusal is counted.
#include <cstdint>
#include <memory>
#include <string>

#include "eda/state_transfer/customer_service.hpp"
#include "eda/state_transfer/snapshot_protocol.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace eda::state_transfer;

struct Fixture {
  Fixture()
      : service(eda::fuzz::context(),
                CustomerServiceOptions{
                    .update_endpoints = {eda::fuzz::inproc_endpoint("customer-updates")},
                    .snapshot_endpoints = {eda::fuzz::inproc_endpoint("customer-snapshots")},
                    .heartbeat_interval = std::chrono::hours(1),
                    .snapshot_chunk_records = 10},
                CustomerGenerator(42).table(25)),
        peer(service.snapshot_endpoints().front()) {}
  CustomerService service;
  eda::fuzz::RawPeer peer;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static auto* fixture = new Fixture();
  Fixture& f = *fixture;
  const auto parts = eda::fuzz::split_frames(eda::fuzz::as_view(data, size));
  const std::uint64_t refused_before = f.service.stats().bad_requests;
  f.peer.send(parts);
  auto reply = f.peer.await_reply([&] { f.service.serve(std::chrono::milliseconds(5)); });
  EDA_FUZZ_CHECK(reply.has_value(),
                 "no answer to " + eda::fuzz::describe_frames({parts.begin(), parts.end()}));

  bool valid = parts.size() == 2 && parts[0] == snapshot_request;
  if (valid) {
    try {
      (void)eda::decode_value<SnapshotRequest>(parts[1], "request");
    } catch (const eda::MalformedMessage&) {
      valid = false;
    }
  }
  if (!valid) {
    EDA_FUZZ_CHECK(reply->size() == 2 && (*reply)[0] == snapshot_refused,
                   "an invalid request got " + eda::fuzz::describe_frames(*reply));
    EDA_FUZZ_CHECK(f.service.stats().bad_requests == refused_before + 1,
                   "a refusal was not counted");
    EDA_FUZZ_CHECK(!f.peer.try_receive(), "more than one answer to an invalid request");
    return 0;
  }
  std::size_t records = 0;
  while ((*reply)[0] == snapshot_chunk) {
    EDA_FUZZ_CHECK(reply->size() == 2, "a chunk is [command, body]");
    msgpack::zone zone;
    const msgpack::object chunk = eda::unpack_untrusted(zone, (*reply)[1], "chunk", false);
    EDA_FUZZ_CHECK(chunk.type == msgpack::type::ARRAY && chunk.via.array.size == 1 &&
                       chunk.via.array.ptr[0].type == msgpack::type::ARRAY,
                   "a chunk is not [records]");
    for (std::uint32_t i = 0; i < chunk.via.array.ptr[0].via.array.size; ++i) {
      const Customer customer = customer_from(chunk.via.array.ptr[0].via.array.ptr[i], "record");
      EDA_FUZZ_CHECK(
          f.service.find(customer.id) != nullptr && *f.service.find(customer.id) == customer,
          "a snapshot record is not the service's");
      ++records;
    }
    reply = f.peer.try_receive();
    EDA_FUZZ_CHECK(reply.has_value(), "a snapshot without its end");
  }
  EDA_FUZZ_CHECK(reply->size() == 2 && (*reply)[0] == snapshot_end,
                 "a snapshot ends with " + eda::fuzz::describe_frames(*reply));
  const auto end = eda::decode_value<SnapshotEnd>((*reply)[1], "snapshot end");
  EDA_FUZZ_CHECK(end.records == records && records == f.service.records().size(),
                 "the record counts disagree");
  EDA_FUZZ_CHECK(end.sequence == f.service.sequence() && end.incarnation == f.service.incarnation(),
                 "the snapshot does not say what it reflects");
  EDA_FUZZ_CHECK(!f.peer.try_receive(), "messages after the end of a snapshot");
  return 0;
}
