#include <stdexcept>

#include "eda/clock.hpp"
#include "eda/endpoint.hpp"
#include "eda/pubsub.hpp"
#include "eda/wire.hpp"

namespace eda {

Publisher::Publisher(zmq::context_t& context, PublisherOptions options)
    : options_(std::move(options)),
      socket_(context, zmq::socket_type::xpub),
      peers_(context, socket_) {
  if (options_.source.empty() || options_.source.size() > 200) {
    throw std::invalid_argument(
        "publisher source name must be 1..200 characters, e.g. 'order-service'");
  }
  if (options_.endpoints.empty()) {
    throw std::invalid_argument("publisher '" + options_.source +
                                "' needs at least one endpoint to bind, e.g. tcp://127.0.0.1:*");
  }
  if (options_.send_high_water_mark < 0) {
    throw std::invalid_argument("send_high_water_mark must be >= 0 (0 means unlimited)");
  }
  if (options_.max_subscription_bytes < 256) {
    throw std::invalid_argument(
        "max_subscription_bytes must be at least 256 (a topic and the "
        "kit's hello fit in that)");
  }
  socket_.set(zmq::sockopt::maxmsgsize, options_.max_subscription_bytes);
  socket_.set(zmq::sockopt::sndhwm, options_.send_high_water_mark);
  socket_.set(zmq::sockopt::linger, options_.linger_ms);
  apply_heartbeat(socket_, options_.heartbeat, "publisher '" + options_.source + "'");
  (void)secure_server_socket(context, socket_, options_.security,
                             "publisher '" + options_.source + "'");
  for (const std::string& endpoint : options_.endpoints) {
    endpoints_.push_back(connectable_endpoint(bind_endpoint(socket_, endpoint)));
  }
  instance_id_ = new_event_id();
}

void Publisher::send_encoded(std::string_view record, std::int64_t now_ns) {
  // PUB-side sockets never block: past the high-water mark a subscriber's copy is dropped.
  (void)send_event(socket_, record);
  // A busy publisher answers joining subscribers without anyone calling serve(), but at most
  // once a millisecond: a non-blocking read that finds nothing costs libzmq a system call
  // (it checks its command mailbox), which would otherwise be paid on every event. The time is
  // the event's own timestamp, not a second read of the clock; a wall clock stepped back
  // checks at once.
  if (now_ns - last_subscription_check_ns_ >= 1'000'000 || now_ns < last_subscription_check_ns_) {
    last_subscription_check_ns_ = now_ns;
    (void)handle_subscriptions();
  }
}

void Publisher::republish(const DecodedEvent& event) {
  if (event.format_version() == envelope_format_version) {
    send_encoded(event.bytes(), wall_clock_ns());
    return;
  }
  // Read from a store written before format 2: the same metadata and payload, as a record.
  msgpack::sbuffer record;
  encode_event(event.meta(), event.payload(), record);
  send_encoded(std::string_view(record.data(), record.size()), wall_clock_ns());
}

std::size_t Publisher::handle_subscriptions() {
  (void)peers_.poll();  // keeps the monitor's pipe short; costs one non-blocking read
  std::size_t handled = 0;
  zmq::message_t message;
  while (socket_.recv(message, zmq::recv_flags::dontwait)) {
    ++handled;
    const std::string_view frame = view_of(message);
    // A subscription message is one byte (1 = subscribe, 0 = unsubscribe) and the topic.
    if (frame.empty() || message.more()) {
      continue;
    }
    const bool subscribe = frame[0] == 1;
    const std::string_view topic = frame.substr(1);
    if (!topic.starts_with(hello_topic_prefix)) {
      continue;
    }
    // Hello topics read "<prefix><subscriber id>.<round>".
    const std::string_view rest = topic.substr(hello_topic_prefix.size());
    if (rest.size() < 3 || rest[rest.size() - 2] != '.') {
      continue;
    }
    const char round = rest.back();
    const std::string subscriber(rest.substr(0, rest.size() - 2));
    if (subscribe) {
      (void)socket_.send(zmq::const_buffer(topic.data(), topic.size()),
                         zmq::send_flags::sndmore | zmq::send_flags::dontwait);
      (void)socket_.send(zmq::buffer(instance_id_), zmq::send_flags::dontwait);
      if (round == '1') {
        subscribers_.insert(subscriber);
      }
    } else if (round == '1') {
      subscribers_.erase(subscriber);
    }
  }
  return handled;
}

std::size_t Publisher::serve(std::chrono::milliseconds wait) {
  const std::size_t handled = handle_subscriptions();
  if (handled > 0 || wait.count() <= 0) {
    return handled;
  }
  (void)wait_readable(socket_, wait);
  return handle_subscriptions();
}

bool Publisher::wait_for_subscribers(std::size_t count, std::chrono::milliseconds timeout) {
  const Deadline deadline(timeout);
  while (subscribers_.size() < count) {
    if (deadline.expired()) {
      return false;
    }
    (void)serve(deadline.remaining());
  }
  return true;
}

}  // namespace eda
