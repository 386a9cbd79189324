// Target `wire_frames`: decode_event_frames, the event message as a Subscriber reads it (at most
// legacy_event_frame_count + 1 frames kept, the true count passed).
//
// Properties: a message is accepted only as one frame holding a record (format 2), or as two
// frames, a topic equal to the event type and a format 1 envelope; either way it is the event
// DecodedEvent::decode reads from the frame that holds it; the record a publisher would send
// for that event (encode_event, send_event) is accepted again; rejections are MalformedMessage.
#include <cstdint>
#include <optional>
#include <vector>

#include "eda/wire.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto parts = eda::fuzz::split_frames(eda::fuzz::as_view(data, size));
  std::vector<zmq::message_t> frames;
  for (std::size_t i = 0; i < parts.size() && i < eda::legacy_event_frame_count + 1; ++i) {
    frames.emplace_back(parts[i].data(), parts[i].size());
  }
  std::optional<eda::DecodedEvent> event;
  try {
    event.emplace(eda::decode_event_frames(frames, parts.size()));
  } catch (const eda::MalformedMessage&) {
    return 0;
  }
  EDA_FUZZ_CHECK(parts.size() == 1 || parts.size() == 2,
                 "accepted a message of " + std::to_string(parts.size()) + " frames");
  const bool record = parts.size() == 1;
  EDA_FUZZ_CHECK(eda::DecodedEvent::is_record(parts.back()) == record,
                 record ? "accepted a format 1 envelope without its topic frame"
                        : "accepted a record after a topic frame");
  EDA_FUZZ_CHECK(record || parts[0] == event->meta().type,
                 "accepted a topic that is not the event type");
  const eda::DecodedEvent direct = eda::DecodedEvent::decode(parts.back());
  EDA_FUZZ_CHECK(direct.meta() == event->meta(), "frame decode and envelope decode disagree");
  EDA_FUZZ_CHECK(eda::fuzz::same_value(direct.payload(), event->payload()),
                 "frame decode and envelope decode disagree");

  // The same event as a publisher sends it (one frame, the record) is accepted again.
  msgpack::sbuffer buffer;
  eda::encode_event(event->meta(), eda::fuzz::ObjectPayload{event->payload()}, buffer);
  std::vector<zmq::message_t> again;
  again.emplace_back(buffer.data(), buffer.size());
  const eda::DecodedEvent reread = eda::decode_event_frames(again, 1);
  EDA_FUZZ_CHECK(reread.meta() == event->meta(), "a re-framed event reads differently");
  return 0;
}
