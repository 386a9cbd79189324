/// @file group_socket.hpp
/// @brief Sending the group protocol's messages over ZeroMQ: the member's DEALER sends
///        `[kind, body]`, the coordinator's ROUTER sees `[routing id, kind, body]` and answers
///        with the routing id first.
#pragma once

#include <string_view>

#include <zmq.hpp>

#include "eda/scaling/group_protocol.hpp"

namespace eda::scaling {

/// @brief Sends `message` as its two frames, after `routing_id` when it is not empty (a
///        ROUTER's addressing frame), without blocking: false when it could not be queued
///        (no connected peer, or its queue is full). A group message that cannot be sent is
///        sent again by the protocol's next round (a heartbeat, a retried join), never waited for.
bool send_group_message(zmq::socket_t& socket, const GroupMessage& message,
                        std::string_view routing_id = {});

}  // namespace eda::scaling
