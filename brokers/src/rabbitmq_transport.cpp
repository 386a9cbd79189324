// The durable event transport over RabbitMQ.
#include "eda/brokers/rabbitmq_transport.hpp"

#include <algorithm>
#include <map>

#include "amqp_connection.hpp"
#include "eda/clock.hpp"

namespace eda::brokers {

using namespace detail;  // the AMQP connection and its helpers (amqp_connection.hpp)

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
                     const TransportOptions& options)
      : connection_(endpoint), max_deliveries_(options.max_deliveries) {
    // The prefetch bounds what the broker pushes ahead of the acks: a service that goes down
    // holds at most that many events, which the broker hands to its next consumer as soon as
    // the channel closes (each counted as a return by the quorum queue's delivery limit).
    connection_.consume(queue, static_cast<std::uint16_t>(options.max_in_flight));
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
  publisher_->await_confirms(published_, acknowledged_, options_.ack_timeout);
}

std::unique_ptr<Subscription> RabbitTransport::subscribe(const std::string& service) {
  check_name(service, "service name");
  return std::make_unique<RabbitSubscription>(endpoint_, options_.name + "." + service, options_);
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
