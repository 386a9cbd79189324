#include "eda/wire.hpp"

#include <cerrno>
#include <string>

namespace eda {

bool send_event(zmq::socket_t& socket, std::string_view record, zmq::send_flags flags) {
  return socket.send(zmq::const_buffer(record.data(), record.size()), flags).has_value();
}

bool send_event_frames(zmq::socket_t& socket, std::string_view topic, std::string_view envelope,
                       zmq::send_flags flags) {
  if (!socket.send(zmq::const_buffer(topic.data(), topic.size()),
                   flags | zmq::send_flags::sndmore)) {
    return false;
  }
  // Once the first frame is queued, ZeroMQ guarantees the rest of the message is accepted.
  (void)socket.send(zmq::const_buffer(envelope.data(), envelope.size()), flags);
  return true;
}

bool wait_readable(zmq::socket_t& socket, std::chrono::milliseconds wait) {
  zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
  return poll_within(std::span(&item, 1), wait) > 0 && (item.revents & ZMQ_POLLIN) != 0;
}

int poll_within(std::span<zmq::pollitem_t> items, std::chrono::milliseconds wait) {
  try {
    return zmq::poll(items.data(), items.size(), wait);
  } catch (const zmq::error_t& e) {
    if (e.num() != EINTR) throw;
    // zmq::poll() may have set some revents before the signal: the caller must not act on
    // them when told that nothing is ready.
    for (zmq::pollitem_t& item : items) item.revents = 0;
    return 0;
  }
}

std::size_t receive_frames(zmq::socket_t& socket, std::vector<zmq::message_t>& frames,
                           std::size_t max_frames, zmq::recv_flags flags) {
  frames.clear();
  zmq::message_t frame;
  try {
    if (!socket.recv(frame, flags)) {
      return 0;
    }
  } catch (const zmq::error_t& e) {
    if (e.num() == EINTR) return 0;  // a signal: as if the wait timed out, the caller decides
    throw;
  }
  return receive_rest(socket, std::move(frame), frames, max_frames);
}

std::size_t receive_rest(zmq::socket_t& socket, zmq::message_t first,
                         std::vector<zmq::message_t>& frames, std::size_t max_frames) {
  frames.clear();
  std::size_t count = 1;
  bool more = first.more();
  frames.push_back(std::move(first));
  while (more) {
    zmq::message_t next;
    // The remaining frames of a message arrive together with the first: this never blocks.
    (void)socket.recv(next, zmq::recv_flags::none);
    more = next.more();
    ++count;
    if (frames.size() < max_frames) {
      frames.push_back(std::move(next));
    }
  }
  return count;
}

std::size_t receive_frames_within(zmq::socket_t& socket, std::vector<zmq::message_t>& frames,
                                  std::size_t max_frames, std::chrono::milliseconds wait,
                                  int& current_timeout_ms) {
  const int timeout_ms = static_cast<int>(wait.count());
  if (timeout_ms != current_timeout_ms) {
    socket.set(zmq::sockopt::rcvtimeo, timeout_ms);
    current_timeout_ms = timeout_ms;
  }
  return receive_frames(socket, frames, max_frames);
}

DecodedEvent decode_event_frames(const std::vector<zmq::message_t>& frames, std::size_t frame_count,
                                 const DecodeLimits& limits) {
  if (frame_count == event_frame_count && frames.size() == event_frame_count) {
    const std::string_view record = view_of(frames[0]);
    if (!record.empty() && !DecodedEvent::is_record(record)) {
      throw MalformedMessage(WireFault::wrong_frame_count,
                             "event message of one frame holds a format 1 envelope, which "
                             "travels after a topic frame (topic, envelope)");
    }
    return DecodedEvent::decode(record, limits);
  }
  if (frame_count != legacy_event_frame_count || frames.size() != legacy_event_frame_count) {
    throw MalformedMessage(WireFault::wrong_frame_count,
                           "event message has " + std::to_string(frame_count) +
                               " frames, expected 1 (the record) or 2 (a format 1 topic and "
                               "envelope)");
  }
  const std::string_view topic = view_of(frames[0]);
  if (topic.size() > 200) {
    throw MalformedMessage(WireFault::oversized, "topic frame of " + std::to_string(topic.size()) +
                                                     " bytes is longer than 200 bytes");
  }
  const std::string_view envelope = view_of(frames[1]);
  if (!envelope.empty() && DecodedEvent::is_record(envelope)) {
    throw MalformedMessage(WireFault::wrong_frame_count,
                           "event message of two frames holds a record after its topic frame "
                           "(a record travels alone, in one frame)");
  }
  DecodedEvent event = DecodedEvent::decode(envelope, limits);
  if (topic != event.type()) {
    throw MalformedMessage(WireFault::topic_mismatch, "topic frame '" + printable(topic) +
                                                          "' does not match event type '" +
                                                          event.meta().type + "'");
  }
  return event;
}

}  // namespace eda
