/// @file endpoint.hpp
/// @brief Endpoints: choosing, validating and binding `inproc://`, `ipc://` and `tcp://`.
///
/// Every service and demo takes its endpoints as parameters, so the same code runs in one
/// process (`inproc://`), on one machine (`ipc://`) or across machines (`tcp://`). Tests bind to
/// ephemeral endpoints (`tcp://127.0.0.1:*`) and read the real one back, so they never collide.
#pragma once

#include <string>
#include <string_view>

#include <zmq.hpp>

namespace eda {

/// @brief The three ZeroMQ transports the catalogue uses.
enum class Transport {
  inproc,  ///< Between threads of one process (no syscalls, no copies through the kernel).
  ipc,     ///< Between processes on one machine (Unix domain sockets).
  tcp,     ///< Between machines (or processes, over loopback).
};

/// @brief `"inproc"`, `"ipc"` or `"tcp"`.
std::string_view to_string(Transport transport) noexcept;

/// @brief Parses a transport name; throws std::invalid_argument naming the valid choices.
Transport parse_transport(std::string_view name);

/// @brief Checks that `endpoint` is a usable ZeroMQ endpoint of one of the three transports;
///        throws std::invalid_argument with a message saying what is wrong and what would work.
void validate_endpoint(std::string_view endpoint);

/// @brief An endpoint to bind that cannot collide with any other: `tcp://127.0.0.1:*` (the OS
///        picks the port), a fresh socket file under the temp directory for ipc, a fresh name
///        for inproc. `name` makes it recognisable.
std::string ephemeral_endpoint(Transport transport, std::string_view name);

/// @brief Binds `socket` to `endpoint` and returns the endpoint actually bound (with the real
///        port for `tcp://...:*`); throws TransportError naming the endpoint on failure.
///
/// An address still held by a socket this process has just closed (libzmq releases it a
/// moment later, on its own thread) is retried for up to a second, so a service can restart
/// at the same endpoint.
std::string bind_endpoint(zmq::socket_t& socket, std::string_view endpoint);

/// @brief Connects `socket` to `endpoint`; throws TransportError naming it on failure.
void connect_endpoint(zmq::socket_t& socket, std::string_view endpoint);

/// @brief The endpoint a client should connect to for a bound one: a wildcard host
///        (`tcp://0.0.0.0:N`, `tcp://[::]:N`) becomes loopback; anything else is unchanged.
std::string connectable_endpoint(std::string_view bound);

}  // namespace eda
