// The partitioned consumer group on RabbitMQ: a single-active-consumer quorum queue per
// partition, keyed by the producer's Partitioner through a direct exchange.
#include "eda/brokers/rabbitmq_group.hpp"

#include <charconv>

#include "amqp_connection.hpp"

namespace eda::brokers {

using namespace detail;

namespace {

std::string routing_key_of(scaling::PartitionId partition) {
  return "p" + std::to_string(partition);
}

std::string queue_of(const GroupOptions& options, scaling::PartitionId partition) {
  return options.name + "." + routing_key_of(partition);
}

/// Declares the direct exchange `<name>` and, per partition, the durable quorum queue
/// `<name>.p<i>` with a single active consumer, bound by `p<i>` (all idempotent).
void declare_group(AmqpConnection& connection, const GroupOptions& options) {
  amqp_exchange_declare(connection.state, channel, bytes_of(options.name),
                        amqp_cstring_bytes("direct"), 0, 1, 0, 0, amqp_empty_table);
  connection.check("declaring the exchange " + options.name);
  amqp_table_entry_t arguments[2];
  arguments[0].key = amqp_cstring_bytes("x-queue-type");
  arguments[0].value.kind = AMQP_FIELD_KIND_UTF8;
  arguments[0].value.value.bytes = amqp_cstring_bytes("quorum");
  // Set at declaration only (not by policy): the broker delivers the queue to one consumer.
  arguments[1].key = amqp_cstring_bytes("x-single-active-consumer");
  arguments[1].value.kind = AMQP_FIELD_KIND_BOOLEAN;
  arguments[1].value.value.boolean = 1;
  const amqp_table_t table{2, arguments};
  for (scaling::PartitionId partition = 0; partition < options.partitions; ++partition) {
    const std::string queue = queue_of(options, partition);
    amqp_queue_declare(connection.state, channel, bytes_of(queue), 0, 1, 0, 0, table);
    connection.check("declaring the queue " + queue);
    amqp_queue_bind(connection.state, channel, bytes_of(queue), bytes_of(options.name),
                    bytes_of(routing_key_of(partition)), amqp_empty_table);
    connection.check("binding " + queue);
  }
}

}  // namespace

// --- The publisher ----------------------------------------------------------------------------

RabbitKeyedPublisher::RabbitKeyedPublisher(const AmqpEndpoint& endpoint, GroupOptions options)
    : options_(checked_group_options(std::move(options))),
      partitioner_(options_.partitions),
      connection_(std::make_unique<AmqpConnection>(endpoint)) {
  declare_group(*connection_, options_);
  amqp_confirm_select(connection_->state, channel);
  connection_->check("putting the channel in confirm mode");
}

RabbitKeyedPublisher::~RabbitKeyedPublisher() = default;

void RabbitKeyedPublisher::publish(std::string_view key, std::string_view event_id,
                                   std::string_view envelope) {
  const std::string routing_key = routing_key_of(partitioner_.partition_of(key));
  amqp_basic_properties_t properties{};
  properties._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG;
  properties.delivery_mode = 2;  // persistent
  properties.message_id = bytes_of(event_id);
  // `mandatory` is off: every routing key p0..p(N-1) is bound by declare_group().
  check_status(amqp_basic_publish(connection_->state, channel, bytes_of(options_.name),
                                  bytes_of(routing_key), 0, 0, &properties, bytes_of(envelope)),
               "publishing to " + options_.name + " (" + routing_key + ")");
  ++published_;
}

void RabbitKeyedPublisher::wait_for_acks() {
  connection_->await_confirms(published_, confirmed_, options_.ack_timeout);
}

// --- A member ---------------------------------------------------------------------------------

RabbitGroupMember::RabbitGroupMember(const AmqpEndpoint& endpoint, GroupOptions options)
    : options_(checked_group_options(std::move(options))),
      connection_(std::make_unique<AmqpConnection>(endpoint)) {
  declare_group(*connection_, options_);
  for (scaling::PartitionId partition = 0; partition < options_.partitions; ++partition) {
    connection_->consume(queue_of(options_, partition), options_.prefetch);
  }
}

RabbitGroupMember::~RabbitGroupMember() = default;

std::optional<KeyedDelivery> RabbitGroupMember::next(std::chrono::milliseconds wait) {
  auto envelope = connection_->receive(wait);
  if (!envelope) return std::nullopt;
  // The routing key is the partition's name, p<i>.
  const std::string_view key = view_of(envelope->routing_key);
  scaling::PartitionId partition = 0;
  if (key.size() > 1) (void)std::from_chars(key.data() + 1, key.data() + key.size(), partition);
  KeyedDelivery delivery{std::string(view_of(envelope->message.body)), partition,
                         envelope->delivery_tag};
  amqp_destroy_envelope(&*envelope);
  return delivery;
}

void RabbitGroupMember::ack(const KeyedDelivery& delivery) {
  check_status(amqp_basic_ack(connection_->state, channel, delivery.handle, 0),
               "acknowledging on " + queue_of(options_, delivery.partition));
}

}  // namespace eda::brokers
