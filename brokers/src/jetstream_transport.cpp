// The durable event transport over NATS JetStream.
#include "eda/brokers/jetstream_transport.hpp"

#include <nats/nats.h>

#include <algorithm>
#include <deque>
#include <map>
#include <mutex>

#include "eda/clock.hpp"
#include "nats_session.hpp"

namespace eda::brokers {

namespace {

/// Throws BrokerError naming `what` when a libnats call did not succeed.
void check(natsStatus status, const std::string& what, jsErrCode code = jsErrCode{}) {
  if (status == NATS_OK) return;
  std::string message = "JetStream: " + what + " failed: " + natsStatus_GetText(status);
  if (code != 0) message += " (JetStream error " + std::to_string(static_cast<int>(code)) + ")";
  if (const char* detail = nats_GetLastError(nullptr); detail != nullptr && *detail != '\0') {
    message += ": ";
    message += detail;
  }
  throw BrokerError(message);
}

template <auto destroy>
struct Destroy {
  template <class T>
  void operator()(T* object) const {
    destroy(object);
  }
};
using NatsMessage = std::unique_ptr<natsMsg, Destroy<natsMsg_Destroy>>;
using NatsSubscription = std::unique_ptr<natsSubscription, Destroy<natsSubscription_Destroy>>;
using MetaData = std::unique_ptr<jsMsgMetaData, Destroy<jsMsgMetaData_Destroy>>;

/// Takes every message out of a fetched list (the list's array is freed).
std::vector<NatsMessage> take_all(natsMsgList& list) {
  std::vector<NatsMessage> messages;
  for (int i = 0; i < list.Count; ++i) {
    messages.emplace_back(list.Msgs[i]);
    list.Msgs[i] = nullptr;
  }
  natsMsgList_Destroy(&list);
  return messages;
}

}  // namespace

namespace detail {

/// A connection, its JetStream context and the publish counters. The transport has one; each
/// subscription opens its own (as RabbitMQ's do), so that its pulls and acks do not queue behind
/// the producer's publishes on one socket, and it can flush its acks when it goes down.
struct JetStreamConnection {
  std::string url;
  TransportOptions options;
  std::string events_subject;
  std::string dead_stream;
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  mutable std::mutex mutex;  // guards counts and first_error (the ack handler's thread writes)
  JetStreamPublishCounts counts;
  std::string first_error;

  ~JetStreamConnection() {
    if (js != nullptr) jsCtx_Destroy(js);
    if (nc != nullptr) natsConnection_Destroy(nc);
  }

  /// Connects to `url` and opens JetStream, acknowledgements of asynchronous publishes counted
  /// by on_ack(). Throws BrokerError.
  void connect() {
    natsOptions* raw_options = nullptr;
    check(natsOptions_Create(&raw_options), "creating connection options");
    const std::unique_ptr<natsOptions, Destroy<natsOptions_Destroy>> nats_options(raw_options);
    check(natsOptions_SetURL(raw_options, url.c_str()), "setting the URL");
    check(natsConnection_Connect(&nc, raw_options), "connecting to " + url);

    jsOptions js_options;
    jsOptions_Init(&js_options);
    js_options.Wait = options.ack_timeout.count();
    js_options.PublishAsync.AckHandler = &JetStreamConnection::on_ack;
    js_options.PublishAsync.AckHandlerClosure = this;
    check(natsConnection_JetStream(&js, nc, &js_options), "opening JetStream");
  }

  /// Another connection to the same server, for the same scenario.
  [[nodiscard]] std::unique_ptr<JetStreamConnection> sibling() const {
    auto other = std::make_unique<JetStreamConnection>();
    other->url = url;
    other->options = options;
    other->events_subject = events_subject;
    other->dead_stream = dead_stream;
    other->connect();
    return other;
  }

  /// Called by libnats on its own thread for every asynchronous publish answered (or timed out).
  static void on_ack(jsCtx*, natsMsg* message, jsPubAck* ack, jsPubAckErr* error, void* closure) {
    auto* self = static_cast<JetStreamConnection*>(closure);
    {
      const std::lock_guard lock(self->mutex);
      if (error != nullptr) {
        ++self->counts.failed;
        if (self->first_error.empty()) {
          self->first_error = std::string(natsStatus_GetText(error->Err)) +
                              (error->ErrText != nullptr ? std::string(": ") + error->ErrText : "");
        }
      } else {
        ++self->counts.acknowledged;
        if (ack != nullptr && ack->Duplicate) ++self->counts.duplicates;
      }
    }
    natsMsg_Destroy(message);  // the handler owns the message (libnats' documentation)
  }

  /// Copies `data` to the service's dead-letter subject, synchronously acknowledged; `id` makes a
  /// repeated copy (after a crash between copy and terminate) a duplicate.
  void dead_letter(const std::string& service, const char* data, int length,
                   const std::string& id) {
    jsPubOptions publish_options;
    jsPubOptions_Init(&publish_options);
    publish_options.MsgId = id.c_str();
    jsPubAck* ack = nullptr;
    jsErrCode code{};
    const std::string subject = options.name + ".dead." + service;
    check(js_Publish(&ack, js, subject.c_str(), data, length, &publish_options, &code),
          "copying a dead letter to " + subject, code);
    jsPubAck_Destroy(ack);
  }
};

}  // namespace detail

namespace {

using detail::JetStreamConnection;

/// A pull subscription bound to a durable consumer, fetching up to `max_in_flight` messages per
/// pull. With 1 (the careful consumer) a service going down holds nothing it has not seen, and
/// every ack is confirmed by the server (`natsMsg_AckSync`, a round trip) before the next fetch;
/// with a batch, acks are sent without waiting (`natsMsg_Ack`: the server acts on them before
/// the next pull request, which follows them on the same connection), and a lost one means a
/// redelivery after AckWait.
class JetStreamSubscription : public Subscription {
 public:
  JetStreamSubscription(const JetStreamConnection& transport, std::string service)
      : connection_(transport.sibling()), service_(std::move(service)) {
    jsSubOptions sub_options;
    jsSubOptions_Init(&sub_options);
    sub_options.Stream = connection_->options.name.c_str();
    sub_options.Consumer = service_.c_str();
    natsSubscription* raw = nullptr;
    jsErrCode code{};
    check(js_PullSubscribe(&raw, connection_->js, connection_->events_subject.c_str(),
                           service_.c_str(), nullptr, &sub_options, &code),
          "binding to the durable consumer '" + service_ + "'", code);
    subscription_.reset(raw);
  }

  /// Hands back what was fetched and never handed out (a service going down cleanly): a Nak
  /// has the server deliver it again at once instead of after AckWait. Never throws.
  ~JetStreamSubscription() override {
    for (const auto& message : fetched_) (void)natsMsg_Nak(message.get(), nullptr);
    // The acks and Naks sent without waiting reach the server before the connection closes.
    (void)natsConnection_FlushTimeout(connection_->nc, 1'000);
  }
  JetStreamSubscription(const JetStreamSubscription&) = delete;
  JetStreamSubscription& operator=(const JetStreamSubscription&) = delete;

  std::optional<Delivery> next(std::chrono::milliseconds wait) override {
    const Deadline deadline(wait);
    for (;;) {
      while (!fetched_.empty()) {
        NatsMessage message = std::move(fetched_.front());
        fetched_.pop_front();
        if (auto delivery = take(std::move(message))) return delivery;
      }
      // A batch of what the stream holds now, without waiting. libnats 3.4.1 writes past its
      // array when a waiting pull's late messages (more than half a batch) are still queued
      // as the next batch is fetched, so only a pull that leaves nothing behind asks for many:
      // `no_wait` ends with the server's "no more" status, whatever it delivered.
      if (batch() > 1) {
        jsFetchRequest request;
        jsFetchRequest_Init(&request);
        request.Batch = static_cast<int>(batch());
        request.NoWait = true;
        // Long enough for the whole answer: a pull cut short leaves its late messages queued,
        // which is what overflows libnats (above). nats-server 2.9 mostly answers a no_wait pull
        // at once, but was seen holding one on an empty stream until this expiry: a consumer
        // may then take up to ack_timeout to stop (bench-brokers' smoke run, 150 s).
        request.Expires = std::chrono::nanoseconds(connection_->options.ack_timeout).count();
        pull(&request);
        if (!fetched_.empty()) continue;
      }
      // Nothing there: wait for one event (a batch of one leaves at most one behind).
      const auto timeout = std::max<std::int64_t>(deadline.remaining().count(), 1);
      natsMsgList list{};
      jsErrCode code{};
      const natsStatus status = natsSubscription_Fetch(&list, subscription_.get(), 1, timeout, &code);
      if (status == NATS_TIMEOUT) return std::nullopt;
      check(status, "fetching for '" + service_ + "'", code);
      for (auto& message : take_all(list)) fetched_.push_back(std::move(message));
      if (fetched_.empty() && deadline.expired()) return std::nullopt;
    }
  }

  void ack(const Delivery& delivery) override {
    NatsMessage message = release(delivery);
    if (batch() == 1) {
      jsErrCode code{};
      check(natsMsg_AckSync(message.get(), nullptr, &code), "acknowledging", code);
    } else {
      check(natsMsg_Ack(message.get(), nullptr), "acknowledging");
    }
  }

  void reject(const Delivery& delivery) override {
    NatsMessage message = release(delivery);
    if (delivery.attempt >= connection_->options.max_deliveries) {
      // The last delivery MaxDeliver allows: copy it to the dead letters, then tell the server
      // never to deliver it again.
      connection_->dead_letter(service_, natsMsg_GetData(message.get()),
                               natsMsg_GetDataLength(message.get()),
                               service_ + "-" + std::to_string(delivery.handle));
      check(natsMsg_Term(message.get(), nullptr), "terminating a dead letter");
    } else {
      check(natsMsg_Nak(message.get(), nullptr), "rejecting");
    }
  }

  [[nodiscard]] std::uint64_t malformed() const override { return malformed_; }

 private:
  /// A delivery for `message`, or nothing when its bytes do not decode (then dead-lettered).
  std::optional<Delivery> take(NatsMessage message) {
    jsMsgMetaData* raw_meta = nullptr;
    check(natsMsg_GetMetaData(&raw_meta, message.get()), "reading a message's metadata");
    const MetaData meta(raw_meta);
    const std::uint64_t sequence = meta->Sequence.Stream;
    const std::string_view bytes(natsMsg_GetData(message.get()),
                                 static_cast<std::size_t>(natsMsg_GetDataLength(message.get())));
    try {
      Delivery delivery{DecodedEvent::decode(bytes), static_cast<std::uint32_t>(meta->NumDelivered),
                        sequence};
      held_.emplace(sequence, std::move(message));
      return delivery;
    } catch (const MalformedMessage&) {
      ++malformed_;
      connection_->dead_letter(service_, bytes.data(), static_cast<int>(bytes.size()),
                               service_ + "-" + std::to_string(sequence));
      check(natsMsg_Term(message.get(), nullptr), "terminating a malformed message");
      return std::nullopt;
    }
  }

  [[nodiscard]] std::uint32_t batch() const { return connection_->options.max_in_flight; }

  /// Sends `request` and queues what it brings; "no messages" (404) and a timeout bring none.
  void pull(jsFetchRequest* request) {
    natsMsgList list{};
    const natsStatus status = natsSubscription_FetchRequest(&list, subscription_.get(), request);
    if (status == NATS_NOT_FOUND || status == NATS_TIMEOUT) return;
    check(status, "fetching a batch for '" + service_ + "'");
    for (auto& message : take_all(list)) fetched_.push_back(std::move(message));
  }

  NatsMessage release(const Delivery& delivery) {
    const auto found = held_.find(delivery.handle);
    if (found == held_.end()) {
      throw std::logic_error("JetStream: delivery " + std::to_string(delivery.handle) +
                             " is not held by this subscription (acknowledged twice?)");
    }
    NatsMessage message = std::move(found->second);
    held_.erase(found);
    return message;
  }

  std::unique_ptr<JetStreamConnection> connection_;  // its own (see JetStreamConnection)
  std::string service_;
  std::deque<NatsMessage> fetched_;            // fetched, not yet handed out
  std::map<std::uint64_t, NatsMessage> held_;  // handed out, not yet acknowledged or rejected
  std::uint64_t malformed_ = 0;
  NatsSubscription subscription_;  // last: unsubscribed before the messages it fetched go
};

}  // namespace

JetStreamTransport::JetStreamTransport(const std::string& url, TransportOptions options)
    : connection_(std::make_shared<JetStreamConnection>()) {
  JetStreamConnection& c = *connection_;
  c.url = url;
  c.options = checked_options(std::move(options));
  c.events_subject = c.options.name + ".events";
  c.dead_stream = c.options.name + "-dead";
  c.connect();

  detail::ensure_file_stream(c.js, c.options.name, c.events_subject);
  detail::ensure_file_stream(c.js, c.dead_stream, c.options.name + ".dead.>");
}

JetStreamTransport::~JetStreamTransport() = default;

void JetStreamTransport::add_service(const std::string& service) {
  check_name(service, "service name");
  const JetStreamConnection& c = *connection_;
  detail::ensure_pull_consumer(
      c.js, {.stream = c.options.name,
             .durable = service,
             .filter = c.events_subject,
             .redeliver_after = c.options.redeliver_after,
             .max_deliver = static_cast<std::int64_t>(c.options.max_deliveries)});
  detail::ensure_pull_consumer(c.js, {.stream = c.dead_stream,
                                      .durable = service + "-dead",
                                      .filter = c.options.name + ".dead." + service,
                                      .redeliver_after = c.options.redeliver_after});
}

void JetStreamTransport::publish(std::string_view event_id, std::string_view envelope) {
  const std::string id(event_id);
  jsPubOptions publish_options;
  jsPubOptions_Init(&publish_options);
  publish_options.MsgId = id.c_str();
  check(js_PublishAsync(connection_->js, connection_->events_subject.c_str(), envelope.data(),
                        static_cast<int>(envelope.size()), &publish_options),
        "publishing event " + id);
}

void JetStreamTransport::wait_for_acks() {
  jsPubOptions wait_options;
  jsPubOptions_Init(&wait_options);
  wait_options.MaxWait = connection_->options.ack_timeout.count();
  const natsStatus status = js_PublishAsyncComplete(connection_->js, &wait_options);
  if (status == NATS_TIMEOUT) {
    throw BrokerError("JetStream: publishes not acknowledged within " +
                      std::to_string(connection_->options.ack_timeout.count()) + " ms");
  }
  check(status, "waiting for publish acknowledgements");
  const std::lock_guard lock(connection_->mutex);
  if (!connection_->first_error.empty()) {
    std::string error = std::move(connection_->first_error);
    connection_->first_error.clear();
    throw BrokerError("JetStream: a publish was refused: " + error);
  }
}

std::unique_ptr<Subscription> JetStreamTransport::subscribe(const std::string& service) {
  check_name(service, "service name");
  return std::make_unique<JetStreamSubscription>(*connection_, service);
}

std::vector<std::string> JetStreamTransport::take_dead_letters(const std::string& service,
                                                               std::size_t max,
                                                               std::chrono::milliseconds wait) {
  check_name(service, "service name");
  const JetStreamConnection& c = *connection_;
  const std::string durable = service + "-dead";
  jsSubOptions sub_options;
  jsSubOptions_Init(&sub_options);
  sub_options.Stream = c.dead_stream.c_str();
  sub_options.Consumer = durable.c_str();
  natsSubscription* raw = nullptr;
  jsErrCode code{};
  const std::string filter = c.options.name + ".dead." + service;
  check(js_PullSubscribe(&raw, c.js, filter.c_str(), durable.c_str(), nullptr, &sub_options, &code),
        "binding to " + durable, code);
  const NatsSubscription subscription(raw);
  std::vector<std::string> letters;
  const Deadline deadline(wait);
  while (letters.size() < max) {
    natsMsgList list{};
    const auto timeout = std::max<std::int64_t>(deadline.remaining().count(), 1);
    const natsStatus status =
        natsSubscription_Fetch(&list, subscription.get(), static_cast<int>(max - letters.size()),
                               letters.empty() ? timeout : 1, &code);
    if (status == NATS_TIMEOUT) break;
    check(status, "fetching dead letters of " + service, code);
    for (const auto& message : take_all(list)) {
      letters.emplace_back(natsMsg_GetData(message.get()),
                           static_cast<std::size_t>(natsMsg_GetDataLength(message.get())));
      check(natsMsg_AckSync(message.get(), nullptr, &code), "acknowledging a dead letter", code);
    }
  }
  return letters;
}

JetStreamPublishCounts JetStreamTransport::publish_counts() const {
  const std::lock_guard lock(connection_->mutex);
  return connection_->counts;
}

}  // namespace eda::brokers
