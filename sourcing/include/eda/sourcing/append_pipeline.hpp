/// @file append_pipeline.hpp
/// @brief Pipelined appends to a StoreService: up to N appends in flight on one connection,
///        each outcome delivered in the order the appends were sent.
///
/// A writer that waits for each append's answer before sending the next spends most of its
/// time waiting for the round trip, and the store service gets one small group per wake-up.
/// Log and event-store clients keep several appends in flight instead and match the answers
/// as they come (Kafka's producer, NATS JetStream's asynchronous publish). This is that
/// client for the project's store service.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <msgpack.hpp>
#include <zmq.hpp>

#include "eda/heartbeat.hpp"
#include "eda/socket_security.hpp"
#include "eda/sourcing/event_store.hpp"

namespace eda::sourcing {

/// @brief How an AppendPipeline is set up.
struct AppendPipelineOptions {
  std::string endpoint{};  ///< The StoreService to append to.
  /// Appends sent and not yet answered, at most (1 to 10 000). When that many are in flight,
  /// AppendPipeline::append() first waits for the oldest answer.
  std::size_t max_in_flight = 16;
  /// How long the oldest append in flight may wait for its answer. When it runs out, every
  /// append in flight is reported AppendFailure::Kind::unknown and the connection is
  /// replaced, so a late answer cannot be taken for another append's.
  std::chrono::milliseconds timeout{5000};
  std::int64_t max_reply_bytes = 16 << 20;  ///< Larger replies drop the connection.
  Heartbeat heartbeat{};                    ///< ZMTP heartbeats (see RpcClientOptions).
  Security security{};  ///< Plaintext (the default) or CURVE, as a client (CurveSetup::client()).
};

/// @brief The outcome of one pipelined append, with the ticket AppendPipeline::append()
///        returned for it.
struct PipelinedOutcome {
  std::uint64_t ticket = 0;  ///< Which append: 1 for the pipeline's first, then 2, 3, ...
  AppendOutcome outcome;     ///< Its result, or why it stored nothing (or may not have).
};

/// @brief Counters an AppendPipeline keeps.
struct AppendPipelineStats {
  std::uint64_t sent = 0;           ///< Appends sent.
  std::uint64_t answered = 0;       ///< Appends the store answered (stored, or refused).
  std::uint64_t unknown = 0;        ///< Appends reported unknown (no answer in time).
  std::uint64_t reconnects = 0;     ///< Connections replaced after a wait ran out.
  std::uint64_t stray_replies = 0;  ///< Replies that matched no append in flight (dropped).
};

/// @brief A client of a StoreService that keeps up to `max_in_flight` appends in flight and
///        hands every outcome to a callback, in the order the appends were sent.
///
/// @par What an outcome means
/// - **stored** (`outcome.ok()`): the commit that holds the append is durable (the service
///   answers only after its group's commit returned).
/// - **conflict**, **rejected**, **failed**: the store refused or failed it; nothing of it is
///   stored.
/// - **unknown**: no answer came within `timeout` (the service died, the connection broke).
///   The append may be stored or not. Appending the same events again (same ids, same stream)
///   tells which: `already_stored`, or stored now.
///
/// @par Appends to one stream in flight together
/// The service applies the appends of one connection one after the other, in the order they
/// were sent, each checked against the stream as the appends before it left it. So an append
/// that expects the version its predecessor would leave (`ExpectedVersion::exactly(v + n)`)
/// succeeds only if that predecessor did: when the first of two in-flight appends to a stream
/// conflicts, the second conflicts too (the stream is not where it expected), and nothing of
/// either is stored. An append that expects `any` does not depend on the ones before it.
///
/// @par Thread safety
/// One thread at a time (it owns its socket). The callback runs on that thread, inside
/// append(), poll() or flush().
class AppendPipeline {
 public:
  /// @brief Receives each outcome, in the order the appends were sent.
  using OutcomeHandler = std::function<void(const PipelinedOutcome&)>;

  /// @brief A pipeline to `options.endpoint` (connecting does not wait); `on_outcome` gets
  ///        every outcome. Throws std::invalid_argument for an empty endpoint, a
  ///        max_in_flight outside 1..10 000 or a handler that is empty.
  AppendPipeline(zmq::context_t& context, AppendPipelineOptions options, OutcomeHandler on_outcome);

  /// @brief Sends an append and returns its ticket; when `max_in_flight` appends are already
  ///        in flight, first waits for the oldest one's outcome (see `timeout`).
  ///
  /// Throws std::invalid_argument, before sending anything, for input every store refuses
  /// (an empty stream name or batch, an event id twice).
  std::uint64_t append(std::string_view stream, const ExpectedVersion& expected,
                       std::span<const EventData> events);

  /// @brief Delivers the outcomes whose answers have already come, without waiting; returns
  ///        how many.
  std::size_t poll();

  /// @brief Waits until every append in flight has its outcome (each waiting at most
  ///        `timeout` for its answer, then reported unknown).
  void flush();

  /// @brief Appends sent whose outcome has not been delivered yet.
  [[nodiscard]] std::size_t in_flight() const noexcept { return in_flight_.size(); }

  /// @brief Counters so far.
  [[nodiscard]] const AppendPipelineStats& stats() const noexcept { return stats_; }

 private:
  /// An append sent and not yet answered: enough to report it if no answer comes.
  struct Sent {
    std::uint64_t ticket = 0;
    std::string stream;
    ExpectedVersion expected = ExpectedVersion::any();
    std::optional<AppendOutcome> answer;  ///< Set when answered before an older append was.
  };

  void connect();
  /// Waits up to `wait` for one reply and delivers it; false when none came in time.
  bool receive_one(std::chrono::milliseconds wait);
  /// Waits for the oldest append's answer; when none comes in time, reports every append in
  /// flight unknown and replaces the connection.
  void await_oldest();
  void deliver(const Sent& sent, AppendOutcome outcome);
  AppendOutcome outcome_of(const Sent& sent, std::string_view status, std::string_view body) const;

  zmq::context_t& context_;
  AppendPipelineOptions options_;
  OutcomeHandler on_outcome_;
  zmq::socket_t socket_;
  std::deque<Sent> in_flight_;
  std::uint64_t next_ticket_ = 1;
  std::vector<zmq::message_t> frames_;
  int receive_timeout_ms_ = -1;  ///< The socket's ZMQ_RCVTIMEO (see receive_frames_within).
  msgpack::sbuffer body_;        ///< The request being encoded (its buffer is reused).
  AppendPipelineStats stats_;
};

}  // namespace eda::sourcing
