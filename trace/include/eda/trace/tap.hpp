/// @file tap.hpp
/// @brief The wire tap: observes any kit Publisher without changing it, in this process or
///        across processes and machines, and keeps what it sees as a Capture.
///
/// A tap is a kit Subscriber to every topic (or to chosen type prefixes). It completes the
/// kit's subscription handshake like any consumer, so from the moment await_handshake()
/// returns true it loses nothing the publishers send (unless a high-water mark overflows: the
/// analysis then reports the gap). It differs from a consumer in two ways: it keeps duplicates
/// (a tracer must see them) and it keeps malformed messages in the capture (raw frames) instead
/// of only dead-lettering them.
///
/// A publisher counts the tap among its subscribers: a demo that waits for `n` consumers with
/// `Publisher::wait_for_subscribers` waits for `n + 1` when it runs a tap.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "eda/pubsub.hpp"
#include "eda/security.hpp"
#include "eda/trace/capture.hpp"

namespace eda::trace {

/// @brief How a tap is set up.
struct TapOptions {
  std::vector<std::string> endpoints{};   ///< Publishers to observe; at least one.
  std::vector<std::string> topics{};      ///< Event-type prefixes; empty = every event.
  std::size_t max_messages = 1'000'000;   ///< Messages kept in memory; later ones are counted only.
  int receive_high_water_mark = 100'000;  ///< Messages queued in the tap before new ones drop.
  /// Plaintext (the default) or CURVE: the tap connects, so it is a CURVE client
  /// (CurveSetup::client()).
  Security security{};
};

/// @brief A wire tap driven by its caller: each poll() reads what has arrived.
///
/// @par Example
/// @code
/// eda::trace::Tap tap(context, {.endpoints = publisher.endpoints()});
/// // One thread: the publisher answers, the tap reads the answers, in turns (bounded).
/// for (int turn = 0; turn < 500 && !tap.handshake_complete(); ++turn) {
///   publisher.serve(10ms);
///   tap.await_handshake(10ms);
/// }
/// ... publish ...
/// while (tap.poll(100ms) > 0) {}
/// auto analysis = eda::trace::analyse(tap.capture());
/// @endcode
///
/// @par Thread safety
/// One thread at a time, like the socket it owns (BackgroundTap runs one on its own thread).
class Tap {
 public:
  /// @brief Connects to every endpoint; throws std::invalid_argument for bad options.
  Tap(zmq::context_t& context, TapOptions options);

  /// @brief Disconnects.
  ~Tap();

  Tap(const Tap&) = delete;             ///< Not copyable (the socket is one).
  Tap& operator=(const Tap&) = delete;  ///< Not copyable.

  /// @brief Waits until every publisher confirmed the tap's subscription; false on timeout.
  ///        Messages arriving meanwhile are kept, not lost.
  bool await_handshake(std::chrono::milliseconds timeout);

  /// @brief Whether every publisher has confirmed the tap's subscription.
  [[nodiscard]] bool handshake_complete() const noexcept;

  /// @brief Receives what arrives within `wait` (returns as soon as one event came) and appends
  ///        it to the capture; returns the number of messages appended (malformed ones too).
  std::size_t poll(std::chrono::milliseconds wait);

  /// @brief What the tap has seen so far.
  [[nodiscard]] const Capture& capture() const noexcept { return capture_; }

  /// @brief Moves the capture out (the tap goes on with an empty one, same info).
  Capture take_capture();

  /// @brief Messages seen but not kept because `max_messages` was reached.
  [[nodiscard]] std::uint64_t overflowed() const noexcept { return overflowed_; }

 private:
  class MalformedKeeper;
  void keep(CapturedMessage message);

  TapOptions options_;
  Capture capture_;
  std::uint64_t overflowed_ = 0;
  std::unique_ptr<MalformedKeeper> keeper_;
  std::unique_ptr<Subscriber> subscriber_;
};

/// @brief A Tap on its own thread: start it, run the scenario, stop() it and analyse.
///
/// Every wait is bounded; the thread stops with stop() or the destructor.
///
/// @par Example (a demo's `--trace`)
/// @code
/// eda::trace::BackgroundTap tap(context, {.endpoints = publisher.endpoints()});
/// publisher.wait_for_subscribers(consumers + 1, 5s);
/// ... run the demo ...
/// tap.await_messages(expected_events, 2s);
/// eda::trace::print_report(std::cout, eda::trace::analyse(tap.stop()));
/// @endcode
class BackgroundTap {
 public:
  /// @brief Connects (see Tap) and starts the thread.
  BackgroundTap(zmq::context_t& context, TapOptions options);

  /// @brief Stops the thread (see stop()).
  ~BackgroundTap();

  BackgroundTap(const BackgroundTap&) = delete;             ///< Not copyable.
  BackgroundTap& operator=(const BackgroundTap&) = delete;  ///< Not copyable.

  /// @brief Waits until every publisher confirmed the tap's subscription; false on timeout.
  bool await_handshake(std::chrono::milliseconds timeout);

  /// @brief Waits until at least `count` messages were captured; false on timeout.
  bool await_messages(std::size_t count, std::chrono::milliseconds timeout);

  /// @brief Messages captured so far.
  [[nodiscard]] std::size_t captured() const;

  /// @brief Takes what is already queued (for at most `drain`), stops the thread and returns
  ///        the capture. Later calls return an empty capture.
  Capture stop(std::chrono::milliseconds drain = std::chrono::milliseconds(200));

 private:
  void run();

  Tap tap_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::size_t captured_ = 0;
  bool handshake_ = false;
  std::chrono::milliseconds drain_{200};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace eda::trace
