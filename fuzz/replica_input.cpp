// Target `replica_input`: what a state-transfer replica reads from its source, decoded with the
// same public functions its private code uses (Replica::read_change and the add_chunk helper in
// replica.cpp are not reachable from outside; see fuzz/README.md):
//   [record] or [topic, envelope]     an update off PUB/SUB: decode_event_frames, then
//                                     CustomerUpdated (record checked by customer_from),
//                                     CustomerRemoved or SourceHeartbeat;
//   [snapshot.chunk, body]            a chunk: one array of records, each by customer_from;
//   [snapshot.end, body]              SnapshotEnd.
//
// Properties: bad input raises MalformedMessage only; an accepted update's record is the one
// payload_as reads and survives re-encoding; accepted chunk records re-encode as a
// SnapshotChunk that reads back equal; an accepted end re-encodes to the same bytes' value.
#include <cstdint>
#include <string>
#include <vector>

#include "eda/state_transfer/customer.hpp"
#include "eda/state_transfer/snapshot_protocol.hpp"
#include "eda/wire.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace eda::state_transfer;

/// The records of a `snapshot.chunk` body, read as the replica reads them.
std::vector<Customer> read_chunk(std::string_view body) {
  msgpack::zone zone;
  const msgpack::object chunk = eda::unpack_untrusted(zone, body, "snapshot chunk", true);
  if (chunk.type != msgpack::type::ARRAY || chunk.via.array.size != 1 ||
      chunk.via.array.ptr[0].type != msgpack::type::ARRAY) {
    throw eda::MalformedMessage(eda::WireFault::payload_mismatch,
                                "snapshot chunk is not [records]");
  }
  std::vector<Customer> records;
  const msgpack::object_array& list = chunk.via.array.ptr[0].via.array;
  for (std::uint32_t i = 0; i < list.size; ++i) {
    records.push_back(customer_from(list.ptr[i], "record in a snapshot chunk"));
  }
  return records;
}

void update(const std::vector<std::string_view>& parts) {
  std::vector<zmq::message_t> frames;
  for (std::size_t i = 0; i < parts.size() && i < eda::legacy_event_frame_count + 1; ++i) {
    frames.emplace_back(parts[i].data(), parts[i].size());
  }
  const eda::DecodedEvent event = eda::decode_event_frames(frames, parts.size());
  if (event.is<CustomerUpdated>()) {
    const auto changed = event.payload_as<CustomerUpdated>();
    const Customer record = customer_from(event.payload().via.array.ptr[1], "customer record");
    EDA_FUZZ_CHECK(record == changed.customer,
                   "customer_from and payload_as read different records");
    msgpack::sbuffer again;
    eda::encode_event(event.meta(), changed, again);
    const auto reread =
        eda::DecodedEvent::decode({again.data(), again.size()}).payload_as<CustomerUpdated>();
    EDA_FUZZ_CHECK(reread.customer == record && reread.incarnation == changed.incarnation,
                   "an update changed when re-encoded");
  } else if (event.is<CustomerRemoved>()) {
    (void)event.payload_as<CustomerRemoved>();
  } else if (event.is<SourceHeartbeat>()) {
    (void)event.payload_as<SourceHeartbeat>();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto parts = eda::fuzz::split_frames(eda::fuzz::as_view(data, size));
  try {
    if (parts.size() == 2 && parts[0] == snapshot_chunk) {
      const std::vector<Customer> records = read_chunk(parts[1]);
      EDA_FUZZ_CHECK(read_chunk(eda::encode_value(SnapshotChunk{records})) == records,
                     "chunk records changed when re-encoded");
    } else if (parts.size() == 2 && parts[0] == snapshot_end) {
      const auto end = eda::decode_value<SnapshotEnd>(parts[1], "snapshot end");
      const std::string once = eda::encode_value(end);
      EDA_FUZZ_CHECK(eda::encode_value(eda::decode_value<SnapshotEnd>(once, "end")) == once,
                     "a snapshot end changed when re-encoded");
    } else {
      update(parts);
    }
  } catch (const eda::MalformedMessage&) {
  }
  return 0;
}
