#include "eda_test_support.hpp"

#include "eda/clock.hpp"
#include "eda/endpoint.hpp"
#include "eda/wire.hpp"

namespace eda::test {

bool handshake(Publisher& publisher, Subscriber& subscriber, std::chrono::milliseconds timeout) {
  const Deadline deadline(timeout);
  while (!subscriber.handshake_complete() && !deadline.expired()) {
    (void)publisher.serve(std::chrono::milliseconds(5));
    (void)subscriber.await_handshake(std::chrono::milliseconds(5));
  }
  return subscriber.handshake_complete();
}

RawPublisher::RawPublisher(zmq::context_t& context) : socket_(context, zmq::socket_type::xpub) {
  socket_.set(zmq::sockopt::linger, 0);
  endpoint_ = bind_endpoint(socket_, "tcp://127.0.0.1:*");
}

void RawPublisher::answer_handshakes() {
  zmq::message_t message;
  while (socket_.recv(message, zmq::recv_flags::dontwait)) {
    const std::string_view frame = view_of(message);
    if (!frame.empty() && frame[0] == 1 &&
        frame.substr(1, hello_topic_prefix.size()) == hello_topic_prefix) {
      send({std::string(frame.substr(1)), "raw-publisher"});
    }
  }
}

bool RawPublisher::handshake(Subscriber& subscriber, std::chrono::milliseconds timeout) {
  const Deadline deadline(timeout);
  while (!subscriber.handshake_complete() && !deadline.expired()) {
    answer_handshakes();
    (void)subscriber.await_handshake(std::chrono::milliseconds(5));
  }
  return subscriber.handshake_complete();
}

void RawPublisher::send(const std::vector<std::string>& frames) {
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const auto flags = i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none;
    (void)socket_.send(zmq::buffer(frames[i]), flags);
  }
}

}  // namespace eda::test
