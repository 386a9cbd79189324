/// @file lossy_link.hpp
/// @brief Fault injection for demos and tests: a forwarder between a publisher and its
///        subscribers that loses the messages it is told to lose, and can slip in raw bytes.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "eda/socket_security.hpp"

namespace eda::state_transfer {

/// @brief How a LossyLink is set up.
struct LossyLinkOptions {
  std::string upstream{};                        ///< The publisher to forward from.
  std::string downstream = "tcp://127.0.0.1:*";  ///< Where subscribers connect instead.
  /// Plaintext (the default) or CURVE: the link is a CURVE server to the subscribers and a
  /// CURVE client of the publisher, so a CURVE Security here holds both halves
  /// (CurveSetup::both()).
  Security security{};
};

/// @brief What a LossyLink has done so far.
struct LossyLinkStats {
  std::uint64_t forwarded = 0;  ///< Events passed on (handshake messages not counted).
  std::uint64_t lost = 0;       ///< Messages deliberately dropped.
  std::uint64_t injected = 0;   ///< Raw messages slipped in.
};

/// @brief A stand-in for an unreliable network: it forwards everything between one publisher
///        and its subscribers (events down, subscriptions up, like a ZeroMQ XSUB/XPUB proxy),
///        except the events it was told to lose.
///
/// The patterns' code is not touched to simulate loss: subscribers connect to the link
/// instead of the publisher, and see exactly what they would see if the network had dropped
/// those messages. Control messages (the subscription handshake) are never lost.
///
/// @par Thread safety
/// Forwarding runs on the link's own thread; every member may be called from any thread.
class LossyLink {
 public:
  /// @brief Binds the downstream endpoint, connects upstream and starts forwarding.
  LossyLink(zmq::context_t& context, LossyLinkOptions options);
  ~LossyLink();
  LossyLink(const LossyLink&) = delete;             ///< Owns a thread.
  LossyLink& operator=(const LossyLink&) = delete;  ///< Owns a thread.

  /// @brief Where subscribers connect (real port).
  [[nodiscard]] const std::string& endpoint() const noexcept { return endpoint_; }

  /// @brief Loses the next `count` events that pass (added to any still pending).
  void lose_next(std::uint64_t count);

  /// @brief Sends `frames` to the subscribers as one message, as if the publisher had.
  void inject(std::vector<std::string> frames);

  /// @brief Counters so far.
  [[nodiscard]] LossyLinkStats stats() const;

 private:
  void forward(const std::stop_token& stop);

  zmq::socket_t from_publisher_;
  zmq::socket_t to_subscribers_;
  std::string endpoint_;
  std::atomic<std::uint64_t> to_lose_{0};
  mutable std::mutex mutex_;
  std::vector<std::vector<std::string>> injections_;
  LossyLinkStats stats_;
  std::jthread thread_;
};

}  // namespace eda::state_transfer
