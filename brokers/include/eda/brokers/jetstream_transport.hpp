/// @file jetstream_transport.hpp
/// @brief The durable event transport over NATS JetStream (libnats): one file-backed stream for
///        the events, a durable pull consumer per service, and a dead-letter stream.
///
/// | transport need | JetStream 2.9 (libnats 3.4) |
/// |---|---|
/// | publish, acknowledged once stored | `js_PublishAsync`, then `js_PublishAsyncComplete`; an ack handler counts acks and errors |
/// | de-duplication | the event id as `MsgId` (the `Nats-Msg-Id` header): within the stream's duplicate window (2 min) a second publish is acknowledged as a duplicate and not stored |
/// | durable subscription | a durable pull consumer per service (`js_AddConsumer`, `AckExplicit`, deliver all) |
/// | fetch, explicit ack | `natsSubscription_Fetch` of up to `max_in_flight`; with 1, `natsMsg_AckSync` (the server confirms the ack), with a batch `natsMsg_Ack` (not waited for) |
/// | redelivery | `natsMsg_Nak` at once; `AckWait` for a consumer that died holding it |
/// | dead letters | `MaxDeliver` bounds deliveries; JetStream 2.9 has no dead-letter queue of its own (it publishes an advisory and keeps the message), so the last rejected delivery is copied to a dead-letter stream (subject `<name>.dead.<service>`) and terminated (`natsMsg_Term`) |
///
/// @par Durability
/// The stream uses file storage. A publish is acknowledged once the server has written it to
/// its store files, not once it has fsynced them: JetStream syncs on a timer (its documentation:
/// every 2 minutes by default, the `sync_interval` setting). nats-server 2.9.10, Debian 12's,
/// refuses that setting (`unknown field "sync_interval"`), so it cannot be made to fsync per
/// message, and strace counts no fsync at all while the contract tests publish 200 events. An
/// acknowledged event therefore survives the server process being killed (the test of
/// crash_and_restart()), not the machine losing power.

#pragma once

#include <memory>
#include <string>

#include "eda/brokers/transport.hpp"

namespace eda::brokers {

namespace detail {
struct JetStreamConnection;  ///< A connection (the transport and each subscription have one).
}  // namespace detail

/// @brief What a JetStreamTransport's broker said about its publishes so far.
struct JetStreamPublishCounts {
  std::uint64_t acknowledged = 0;  ///< Publishes the server acknowledged (stored or duplicate).
  std::uint64_t duplicates = 0;    ///< Of those, duplicates it dropped (same MsgId in the window).
  std::uint64_t failed = 0;        ///< Publishes it refused or that timed out.
};

/// @brief The durable event transport over JetStream (see the file's notes).
class JetStreamTransport : public EventTransport {
 public:
  /// @brief Connects to `url` and creates the stream `options.name` (file storage, subjects
  ///        `<name>.events`) and its dead-letter stream `<name>-dead` if missing. Throws
  ///        BrokerError when the server cannot be reached or refuses.
  JetStreamTransport(const std::string& url, TransportOptions options = {});
  ~JetStreamTransport() override;
  JetStreamTransport(const JetStreamTransport&) = delete;             ///< Owns a connection.
  JetStreamTransport& operator=(const JetStreamTransport&) = delete;  ///< Owns a connection.

  /// @brief `jetstream`.
  [[nodiscard]] std::string_view kind() const override { return "jetstream"; }
  /// @brief Creates the durable consumers `<service>` and `<service>-dead` (idempotent).
  void add_service(const std::string& service) override;
  /// @brief js_PublishAsync to `<name>.events`, with the event id as MsgId.
  void publish(std::string_view event_id, std::string_view envelope) override;
  /// @brief js_PublishAsyncComplete; throws BrokerError for a refused or unanswered publish.
  void wait_for_acks() override;
  /// @brief A pull subscription bound to the service's durable consumer.
  std::unique_ptr<Subscription> subscribe(const std::string& service) override;
  /// @brief Fetches and acknowledges up to `max` messages of `<service>-dead`.
  std::vector<std::string> take_dead_letters(const std::string& service, std::size_t max,
                                             std::chrono::milliseconds wait) override;
  /// @brief True: the stream drops a second publish with the same MsgId.
  [[nodiscard]] bool deduplicates_publishes() const override { return true; }

  /// @brief What the server answered to the publishes so far.
  [[nodiscard]] JetStreamPublishCounts publish_counts() const;

  using EventTransport::publish;

 private:
  std::shared_ptr<detail::JetStreamConnection> connection_;  // shared with the subscriptions
};

}  // namespace eda::brokers
