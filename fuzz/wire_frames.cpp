// Target `wire_frames`: decode_event_frames, the multipart event message (topic, envelope), as
// a Subscriber reads it (at most event_frame_count + 1 frames kept, the true count passed).
//
// Properties: a message is accepted only with exactly two frames whose topic equals the
// envelope's event type, and then it is the event DecodedEvent::decode reads from frame 1;
// send_event_frames() framing of that event is accepted again; rejections are
// MalformedMessage.
#include <cstdint>
#include <optional>
#include <vector>

#include "eda/wire.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto parts = eda::fuzz::split_frames(eda::fuzz::as_view(data, size));
  std::vector<zmq::message_t> frames;
  for (std::size_t i = 0; i < parts.size() && i < eda::event_frame_count + 1; ++i) {
    frames.emplace_back(parts[i].data(), parts[i].size());
  }
  std::optional<eda::DecodedEvent> event;
  try {
    event.emplace(eda::decode_event_frames(frames, parts.size()));
  } catch (const eda::MalformedMessage&) {
    return 0;
  }
  EDA_FUZZ_CHECK(parts.size() == 2,
                 "accepted a message of " + std::to_string(parts.size()) + " frames");
  EDA_FUZZ_CHECK(parts[0] == event->meta().type, "accepted a topic that is not the event type");
  const eda::DecodedEvent direct = eda::DecodedEvent::decode(parts[1]);
  EDA_FUZZ_CHECK(direct.meta() == event->meta(), "frame decode and envelope decode disagree");
  EDA_FUZZ_CHECK(eda::fuzz::same_value(direct.payload(), event->payload()),
                 "frame decode and envelope decode disagree");

  // The same event as a publisher frames it (topic = type) is accepted again.
  std::vector<zmq::message_t> again;
  again.emplace_back(event->meta().type.data(), event->meta().type.size());
  again.emplace_back(event->bytes().data(), event->bytes().size());
  const eda::DecodedEvent reread = eda::decode_event_frames(again, 2);
  EDA_FUZZ_CHECK(reread.meta() == event->meta(), "a re-framed event reads differently");
  return 0;
}
