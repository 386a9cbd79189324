/// @file wire.hpp
/// @brief Wire framing of events on ZeroMQ: one frame, the event record (codec.hpp).
///
/// | frame | content | why |
/// |-------|---------|-----|
/// | 0 | the record: event type, a zero byte, the MessagePack envelope | SUB sockets filter on a frame's prefix, and the record starts with the type |
///
/// Format 1 publishers sent two frames (the type, then a format 1 envelope); decoders still
/// accept that message.
#pragma once

#include <chrono>
#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include <zmq.hpp>

#include "eda/codec.hpp"

namespace eda {

/// @brief Number of frames in an event message: one, the record.
inline constexpr std::size_t event_frame_count = 1;

/// @brief Number of frames in a format 1 event message (a topic frame, then the envelope),
///        which decoders still accept.
inline constexpr std::size_t legacy_event_frame_count = 2;

/// @brief Sends one event message: the record (codec.hpp's encode_event()) as one frame.
///
/// Returns false when the socket would block (only possible with `zmq::send_flags::dontwait`).
bool send_event(zmq::socket_t& socket, std::string_view record,
                zmq::send_flags flags = zmq::send_flags::none);

/// @brief Sends a format 1 event message: `topic` then `envelope`, as one atomic multipart
///        message. Only for tests and tools that speak to or imitate an older peer.
///
/// Returns false when the socket would block (only possible with `zmq::send_flags::dontwait`).
bool send_event_frames(zmq::socket_t& socket, std::string_view topic, std::string_view envelope,
                       zmq::send_flags flags = zmq::send_flags::none);

/// @brief Waits up to `wait` until `socket` has a message to read.
///
/// Returns false when the time passed, or when a signal (Ctrl-C, SIGTERM) interrupted the
/// wait: the caller then looks at its flags and decides, instead of an exception ending the
/// process with "Interrupted system call".
bool wait_readable(zmq::socket_t& socket, std::chrono::milliseconds wait);

/// @brief zmq::poll() over `items` for up to `wait`, where a signal ends the wait as a timeout
///        would.
///
/// Returns how many items are ready: 0 when the time passed or a signal (Ctrl-C, SIGTERM)
/// interrupted the wait, so that a serving loop looks at its stop flag instead of ending with
/// "Interrupted system call". Every loop that polls several sockets uses it.
int poll_within(std::span<zmq::pollitem_t> items, std::chrono::milliseconds wait);

/// @brief Receives all frames of one message into `frames` (cleared first).
///
/// At most `max_frames` frames are kept; any further frames are read and discarded so the
/// socket stays aligned on message boundaries. Returns the total number of frames the message
/// had (which may exceed `frames.size()`), or 0 when nothing was ready (with `dontwait`), the
/// receive timed out or a signal interrupted the wait for it.
std::size_t receive_frames(zmq::socket_t& socket, std::vector<zmq::message_t>& frames,
                           std::size_t max_frames, zmq::recv_flags flags = zmq::recv_flags::none);

/// @brief Completes a message whose first frame `first` the caller has received itself: keeps
///        it and the frames that follow in `frames` (cleared first), as receive_frames() does.
///
/// For a caller that must tell a timeout from a signal, which receive_frames() reports alike.
/// Returns the total number of frames the message had.
std::size_t receive_rest(zmq::socket_t& socket, zmq::message_t first,
                         std::vector<zmq::message_t>& frames, std::size_t max_frames);

/// @brief Like receive_frames(), waiting at most `wait` for the message.
///
/// One blocking read with a timeout: a message already queued is taken without a system call,
/// and waiting costs a single poll inside libzmq (a non-blocking read followed by a poll would
/// cost two or three). `current_timeout_ms` remembers the socket's ZMQ_RCVTIMEO so it is set
/// only when it changes; start it at -1.
std::size_t receive_frames_within(zmq::socket_t& socket, std::vector<zmq::message_t>& frames,
                                  std::size_t max_frames, std::chrono::milliseconds wait,
                                  int& current_timeout_ms);

/// @brief Decodes an event message from its frames: one frame holding a record, or a format 1
///        message (topic, envelope), whose topic must agree with the envelope's type.
///
/// `frame_count` is the count receive_frames() returned (keep at least
/// legacy_event_frame_count + 1 frames so that a message of too many frames shows). Validates
/// the frame count, sizes and the envelope. Throws MalformedMessage.
DecodedEvent decode_event_frames(const std::vector<zmq::message_t>& frames, std::size_t frame_count,
                                 const DecodeLimits& limits = {});

/// @brief A frame's bytes as a string view (valid while the frame lives).
inline std::string_view view_of(const zmq::message_t& frame) noexcept {
  return {static_cast<const char*>(frame.data()), frame.size()};
}

}  // namespace eda
