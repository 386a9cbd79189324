// The durable event transport over RabbitMQ.
#include "eda/brokers/rabbitmq_transport.hpp"

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <sys/time.h>

#include <algorithm>
#include <map>

#include "eda/clock.hpp"

namespace eda::brokers {

namespace {

constexpr amqp_channel_t channel = 1;

amqp_bytes_t bytes_of(std::string_view text) {
  return amqp_bytes_t{text.size(), const_cast<char*>(text.data())};
}

std::string_view view_of(amqp_bytes_t bytes) {
  return {static_cast<const char*>(bytes.bytes), bytes.len};
}

timeval timeval_of(std::chrono::milliseconds wait) {
  const auto ms = std::max<std::int64_t>(wait.count(), 0);
  return timeval{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
}

/// What a failed call's reply says, in words (the broker's close reason when it closed).
std::string describe(const amqp_rpc_reply_t& reply) {
  switch (reply.reply_type) {
    case AMQP_RESPONSE_NORMAL:
      return "ok";
    case AMQP_RESPONSE_NONE:
      return "no reply";
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
      return amqp_error_string2(reply.library_error);
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        const auto* close = static_cast<const amqp_channel_close_t*>(reply.reply.decoded);
        return "channel closed by the broker: " + std::to_string(close->reply_code) + " " +
               std::string(view_of(close->reply_text));
      }
      if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        const auto* close = static_cast<const amqp_connection_close_t*>(reply.reply.decoded);
        return "connection closed by the broker: " + std::to_string(close->reply_code) + " " +
               std::string(view_of(close->reply_text));
      }
      return "broker error (method " + std::to_string(reply.reply.id) + ")";
  }
  return "unknown reply";
}

void check_reply(const amqp_rpc_reply_t& reply, const std::string& what) {
  if (reply.reply_type != AMQP_RESPONSE_NORMAL) {
    throw BrokerError("RabbitMQ: " + what + " failed: " + describe(reply));
  }
}

void check_status(int status, const std::string& what) {
  if (status != AMQP_STATUS_OK) {
    throw BrokerError("RabbitMQ: " + what + " failed: " + amqp_error_string2(status));
  }
}

}  // namespace

namespace detail {

/// One connection, logged in, with channel 1 open; closed and freed on destruction.
struct AmqpConnection {
  explicit AmqpConnection(const AmqpEndpoint& endpoint) : state(amqp_new_connection()) {
    if (state == nullptr) throw BrokerError("RabbitMQ: out of memory for a connection");
    try {
      amqp_socket_t* socket = amqp_tcp_socket_new(state);
      if (socket == nullptr) throw BrokerError("RabbitMQ: cannot create a TCP socket");
      const std::string where = endpoint.host + ":" + std::to_string(endpoint.port);
      check_status(amqp_socket_open(socket, endpoint.host.c_str(), endpoint.port),
                   "connecting to " + where);
      check_reply(amqp_login(state, endpoint.vhost.c_str(), 0, 131072, 0, AMQP_SASL_METHOD_PLAIN,
                             endpoint.user.c_str(), endpoint.password.c_str()),
                  "logging in to " + where);
      amqp_channel_open(state, channel);
      check_reply(amqp_get_rpc_reply(state), "opening a channel");
    } catch (...) {
      amqp_destroy_connection(state);  // the destructor does not run for a failed constructor
      throw;
    }
    channel_open = true;
  }
  ~AmqpConnection() {
    if (channel_open) amqp_channel_close(state, channel, AMQP_REPLY_SUCCESS);
    amqp_connection_close(state, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(state);
  }
  AmqpConnection(const AmqpConnection&) = delete;
  AmqpConnection& operator=(const AmqpConnection&) = delete;

  /// Throws naming `what` when the last synchronous call failed.
  void check(const std::string& what) const { check_reply(amqp_get_rpc_reply(state), what); }

  /// Starts consuming `queue` (manual acks, prefetch `prefetch`).
  void consume(const std::string& queue, std::uint16_t prefetch) {
    amqp_basic_qos(state, channel, 0, prefetch, 0);
    check("setting the prefetch on " + queue);
    amqp_basic_consume(state, channel, bytes_of(queue), amqp_empty_bytes, 0, 0, 0,
                       amqp_empty_table);
    check("consuming " + queue);
  }

  /// The next message delivered, waiting at most `wait`; nothing when none came. The caller
  /// destroys the envelope.
  std::optional<amqp_envelope_t> receive(std::chrono::milliseconds wait) {
    amqp_maybe_release_buffers(state);
    amqp_envelope_t envelope{};
    const timeval timeout = timeval_of(wait);
    const amqp_rpc_reply_t reply = amqp_consume_message(state, &envelope, &timeout, 0);
    if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
        reply.library_error == AMQP_STATUS_TIMEOUT) {
      return std::nullopt;
    }
    check_reply(reply, "receiving");
    return envelope;
  }

  amqp_connection_state_t state;
  bool channel_open = false;
};

}  // namespace detail

namespace {

using detail::AmqpConnection;

/// How many times the broker delivered this message before: quorum queues count returned
/// deliveries in the `x-delivery-count` header (absent on the first delivery).
std::uint32_t earlier_deliveries(const amqp_envelope_t& envelope) {
  const amqp_basic_properties_t& properties = envelope.message.properties;
  if ((properties._flags & AMQP_BASIC_HEADERS_FLAG) == 0) return 0;
  for (int i = 0; i < properties.headers.num_entries; ++i) {
    const amqp_table_entry_t& entry = properties.headers.entries[i];
    if (view_of(entry.key) != "x-delivery-count") continue;
    switch (entry.value.kind) {
      case AMQP_FIELD_KIND_I64:
        return static_cast<std::uint32_t>(entry.value.value.i64);
      case AMQP_FIELD_KIND_U64:
        return static_cast<std::uint32_t>(entry.value.value.u64);
      case AMQP_FIELD_KIND_I32:
        return static_cast<std::uint32_t>(entry.value.value.i32);
      case AMQP_FIELD_KIND_U32:
        return entry.value.value.u32;
      default:
        return 0;
    }
  }
  return 0;
}

/// A consumer of one service's queue on a connection of its own (librabbitmq connections are
/// not shared between threads).
class RabbitSubscription : public Subscription {
 public:
  RabbitSubscription(const AmqpEndpoint& endpoint, const std::string& queue,
                     std::uint32_t max_deliveries)
      : connection_(endpoint), max_deliveries_(max_deliveries) {
    // Prefetch 1: a service that goes down holds at most one event, which the broker hands to
    // its next consumer as soon as the channel closes.
    connection_.consume(queue, 1);
  }

  std::optional<Delivery> next(std::chrono::milliseconds wait) override {
    const Deadline deadline(wait);
    do {
      auto envelope = connection_.receive(deadline.remaining());
      if (!envelope) return std::nullopt;
      const std::uint64_t tag = envelope->delivery_tag;
      const std::uint32_t attempt = earlier_deliveries(*envelope) + 1;
      std::optional<Delivery> delivery;
      try {
        delivery = Delivery{DecodedEvent::decode(view_of(envelope->message.body)), attempt, tag};
      } catch (const MalformedMessage&) {
        ++malformed_;
        // Rejected without requeue: the queue's dead-letter exchange takes it.
        check_status(amqp_basic_reject(connection_.state, channel, tag, 0),
                     "dead-lettering a malformed message");
      }
      amqp_destroy_envelope(&*envelope);
      if (delivery) return delivery;
    } while (!deadline.expired());
    return std::nullopt;
  }

  void ack(const Delivery& delivery) override {
    check_status(amqp_basic_ack(connection_.state, channel, delivery.handle, 0), "acknowledging");
  }

  void reject(const Delivery& delivery) override {
    // The last allowed delivery goes to the dead letters; earlier ones back to the queue.
    const bool requeue = delivery.attempt < max_deliveries_;
    check_status(amqp_basic_nack(connection_.state, channel, delivery.handle, 0, requeue ? 1 : 0),
                 "rejecting");
  }

  [[nodiscard]] std::uint64_t malformed() const override { return malformed_; }

 private:
  AmqpConnection connection_;
  std::uint32_t max_deliveries_;
  std::uint64_t malformed_ = 0;
};

}  // namespace

RabbitTransport::RabbitTransport(AmqpEndpoint endpoint, TransportOptions options)
    : endpoint_(std::move(endpoint)), options_(checked_options(std::move(options))) {
  publisher_ = std::make_unique<AmqpConnection>(endpoint_);
  amqp_connection_state_t state = publisher_->state;
  amqp_exchange_declare(state, channel, bytes_of(options_.name), amqp_cstring_bytes("fanout"), 0, 1,
                        0, 0, amqp_empty_table);
  publisher_->check("declaring the exchange " + options_.name);
  const std::string dead = options_.name + ".dead";
  amqp_exchange_declare(state, channel, bytes_of(dead), amqp_cstring_bytes("direct"), 0, 1, 0, 0,
                        amqp_empty_table);
  publisher_->check("declaring the exchange " + dead);
  amqp_confirm_select(state, channel);
  publisher_->check("putting the channel in confirm mode");
}

RabbitTransport::~RabbitTransport() = default;

void RabbitTransport::add_service(const std::string& service) {
  check_name(service, "service name");
  amqp_connection_state_t state = publisher_->state;
  const std::string queue = options_.name + "." + service;
  const std::string dead_queue = queue + ".dead";
  const std::string dead_exchange = options_.name + ".dead";

  // The service's dead letters: a durable queue on the dead-letter exchange, keyed by service.
  amqp_queue_declare(state, channel, bytes_of(dead_queue), 0, 1, 0, 0, amqp_empty_table);
  publisher_->check("declaring the queue " + dead_queue);
  amqp_queue_bind(state, channel, bytes_of(dead_queue), bytes_of(dead_exchange), bytes_of(service),
                  amqp_empty_table);
  publisher_->check("binding " + dead_queue);

  // The service's queue: a quorum queue (replicated log, delivery counting), dead-lettering to
  // the exchange above with the service's name as the key.
  amqp_table_entry_t arguments[4];
  arguments[0].key = amqp_cstring_bytes("x-queue-type");
  arguments[0].value.kind = AMQP_FIELD_KIND_UTF8;
  arguments[0].value.value.bytes = amqp_cstring_bytes("quorum");
  arguments[1].key = amqp_cstring_bytes("x-dead-letter-exchange");
  arguments[1].value.kind = AMQP_FIELD_KIND_UTF8;
  arguments[1].value.value.bytes = bytes_of(dead_exchange);
  arguments[2].key = amqp_cstring_bytes("x-dead-letter-routing-key");
  arguments[2].value.kind = AMQP_FIELD_KIND_UTF8;
  arguments[2].value.value.bytes = bytes_of(service);
  // The broker's own bound, for a message whose consumers die holding it (no reject ever comes):
  // dead-lettered once returned more than this many times.
  arguments[3].key = amqp_cstring_bytes("x-delivery-limit");
  arguments[3].value.kind = AMQP_FIELD_KIND_I64;
  arguments[3].value.value.i64 = options_.max_deliveries;
  const amqp_table_t table{4, arguments};
  amqp_queue_declare(state, channel, bytes_of(queue), 0, 1, 0, 0, table);
  publisher_->check("declaring the queue " + queue);
  amqp_queue_bind(state, channel, bytes_of(queue), bytes_of(options_.name), amqp_empty_bytes,
                  amqp_empty_table);
  publisher_->check("binding " + queue);
}

void RabbitTransport::publish(std::string_view event_id, std::string_view envelope) {
  amqp_basic_properties_t properties{};
  properties._flags =
      AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG;
  properties.delivery_mode = 2;  // persistent
  properties.message_id = bytes_of(event_id);
  properties.content_type = amqp_cstring_bytes("application/msgpack");
  check_status(amqp_basic_publish(publisher_->state, channel, bytes_of(options_.name),
                                  amqp_empty_bytes, 0, 0, &properties, bytes_of(envelope)),
               "publishing event " + std::string(event_id));
  ++published_;
}

void RabbitTransport::wait_for_acks() {
  const Deadline deadline(options_.ack_timeout);
  while (acknowledged_ < published_) {
    if (deadline.expired()) {
      throw BrokerError("RabbitMQ: " + std::to_string(published_ - acknowledged_) +
                        " publishes not confirmed within " +
                        std::to_string(options_.ack_timeout.count()) + " ms");
    }
    amqp_frame_t frame{};
    const timeval timeout = timeval_of(deadline.remaining());
    const int status = amqp_simple_wait_frame_noblock(publisher_->state, &frame, &timeout);
    if (status == AMQP_STATUS_TIMEOUT) continue;
    check_status(status, "waiting for publisher confirms");
    if (frame.frame_type != AMQP_FRAME_METHOD) continue;
    switch (frame.payload.method.id) {
      case AMQP_BASIC_ACK_METHOD: {
        const auto* ack = static_cast<const amqp_basic_ack_t*>(frame.payload.method.decoded);
        // `multiple` confirms every tag up to this one; tags are confirmed in order here.
        acknowledged_ = std::max(acknowledged_, ack->delivery_tag);
        break;
      }
      case AMQP_BASIC_NACK_METHOD: {
        const auto* nack = static_cast<const amqp_basic_nack_t*>(frame.payload.method.decoded);
        throw BrokerError("RabbitMQ: the broker refused publish " +
                          std::to_string(nack->delivery_tag) + " (basic.nack)");
      }
      case AMQP_CHANNEL_CLOSE_METHOD:
      case AMQP_CONNECTION_CLOSE_METHOD:
        throw BrokerError("RabbitMQ: the broker closed the publisher's channel");
      default:
        break;  // basic.return and others: not expected without `mandatory`
    }
  }
}

std::unique_ptr<Subscription> RabbitTransport::subscribe(const std::string& service) {
  check_name(service, "service name");
  return std::make_unique<RabbitSubscription>(endpoint_, options_.name + "." + service,
                                              options_.max_deliveries);
}

std::vector<std::string> RabbitTransport::take_dead_letters(const std::string& service,
                                                            std::size_t max,
                                                            std::chrono::milliseconds wait) {
  check_name(service, "service name");
  AmqpConnection connection(endpoint_);
  connection.consume(options_.name + "." + service + ".dead",
                     static_cast<std::uint16_t>(std::min<std::size_t>(max, 1000)));
  std::vector<std::string> letters;
  const Deadline deadline(wait);
  while (letters.size() < max) {
    // After the first letter, only what is already there (a short wait).
    auto envelope =
        connection.receive(letters.empty() ? deadline.remaining() : std::chrono::milliseconds(200));
    if (!envelope) break;
    letters.emplace_back(view_of(envelope->message.body));
    const std::uint64_t tag = envelope->delivery_tag;
    amqp_destroy_envelope(&*envelope);
    check_status(amqp_basic_ack(connection.state, channel, tag, 0), "acknowledging a dead letter");
  }
  return letters;
}

}  // namespace eda::brokers
