// Sending group messages over ZeroMQ, without blocking.
#include "eda/scaling/group_socket.hpp"

namespace eda::scaling {

bool send_group_message(zmq::socket_t& socket, const GroupMessage& message,
                        std::string_view routing_id) {
  const GroupFrames frames = encode_group_message(message);
  constexpr auto more = zmq::send_flags::dontwait | zmq::send_flags::sndmore;
  // A ROUTER drops a message to an unknown peer silently (or, with ZMQ_ROUTER_MANDATORY,
  // fails at once); with dontwait, the first frame is the only one that can fail: once it is
  // queued, the rest of a multipart message always is.
  if (!routing_id.empty() && !socket.send(zmq::buffer(routing_id), more)) return false;
  if (!socket.send(zmq::buffer(frames.kind),
                   routing_id.empty() ? more : zmq::send_flags::sndmore)) {
    return false;
  }
  return socket.send(zmq::buffer(frames.body), zmq::send_flags::none).has_value();
}

}  // namespace eda::scaling
