// One AMQP 0-9-1 connection with its channel, and the helpers around librabbitmq's C types:
// shared by the durable transport (rabbitmq_transport.cpp) and the consumer group
// (rabbitmq_group.cpp). Private to brokers/: the public headers never show a librabbitmq type.
#pragma once

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <sys/time.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "eda/brokers/rabbitmq_transport.hpp"
#include "eda/clock.hpp"

namespace eda::brokers {

namespace detail {

/// The one channel each connection opens.
inline constexpr amqp_channel_t channel = 1;

inline amqp_bytes_t bytes_of(std::string_view text) {
  return amqp_bytes_t{text.size(), const_cast<char*>(text.data())};
}

inline std::string_view view_of(amqp_bytes_t bytes) {
  return {static_cast<const char*>(bytes.bytes), bytes.len};
}

inline timeval timeval_of(std::chrono::milliseconds wait) {
  const auto ms = std::max<std::int64_t>(wait.count(), 0);
  return timeval{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
}

/// What a failed call's reply says, in words (the broker's close reason when it closed).
inline std::string describe(const amqp_rpc_reply_t& reply) {
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

inline void check_reply(const amqp_rpc_reply_t& reply, const std::string& what) {
  if (reply.reply_type != AMQP_RESPONSE_NORMAL) {
    throw BrokerError("RabbitMQ: " + what + " failed: " + describe(reply));
  }
}

inline void check_status(int status, const std::string& what) {
  if (status != AMQP_STATUS_OK) {
    throw BrokerError("RabbitMQ: " + what + " failed: " + amqp_error_string2(status));
  }
}

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

  /// Reads the broker's publisher confirms until `confirmed` (every delivery tag up to it is
  /// confirmed) reaches `published`; throws BrokerError for a refused publish (basic.nack), a
  /// closed channel, or confirms missing after `timeout`.
  void await_confirms(std::uint64_t published, std::uint64_t& confirmed,
                      std::chrono::milliseconds timeout) {
    const Deadline deadline(timeout);
    while (confirmed < published) {
      if (deadline.expired()) {
        throw BrokerError("RabbitMQ: " + std::to_string(published - confirmed) +
                          " publishes not confirmed within " + std::to_string(timeout.count()) +
                          " ms");
      }
      amqp_frame_t frame{};
      const timeval wait = timeval_of(deadline.remaining());
      const int status = amqp_simple_wait_frame_noblock(state, &frame, &wait);
      if (status == AMQP_STATUS_TIMEOUT) continue;
      check_status(status, "waiting for publisher confirms");
      if (frame.frame_type != AMQP_FRAME_METHOD) continue;
      switch (frame.payload.method.id) {
        case AMQP_BASIC_ACK_METHOD: {
          const auto* ack = static_cast<const amqp_basic_ack_t*>(frame.payload.method.decoded);
          // `multiple` confirms every tag up to this one; tags are confirmed in order here.
          confirmed = std::max(confirmed, ack->delivery_tag);
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

  amqp_connection_state_t state;
  bool channel_open = false;
};

}  // namespace detail

}  // namespace eda::brokers
