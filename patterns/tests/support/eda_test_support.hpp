// Test helpers shared by every module's tests: publishers driven by hand.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "eda/pubsub.hpp"

namespace eda::test {

/// Drives a publisher and a subscriber living in the same thread through the handshake.
bool handshake(Publisher& publisher, Subscriber& subscriber,
               std::chrono::milliseconds timeout = std::chrono::seconds(10));

/// An XPUB socket that answers handshakes by hand and sends whatever frames a test wants:
/// the way to put malformed messages and duplicates on the wire.
class RawPublisher {
 public:
  explicit RawPublisher(zmq::context_t& context);
  [[nodiscard]] const std::string& endpoint() const { return endpoint_; }
  /// Answers handshakes until `subscriber` completed its own.
  bool handshake(Subscriber& subscriber, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// Answers whatever handshake messages are waiting (for subscribers driven elsewhere).
  void answer_handshakes();
  void send(const std::vector<std::string>& frames);

 private:
  zmq::socket_t socket_;
  std::string endpoint_;
};

}  // namespace eda::test
