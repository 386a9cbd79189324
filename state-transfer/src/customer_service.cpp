#include "eda/state_transfer/customer_service.hpp"

#include <algorithm>
#include <cerrno>
#include <stdexcept>

#include "eda/clock.hpp"
#include "eda/endpoint.hpp"
#include "eda/state_transfer/snapshot_protocol.hpp"
#include "eda/wire.hpp"

namespace eda::state_transfer {
namespace {

/// Frames of a request as the ROUTER sees it: requester identity, command, body.
constexpr std::size_t request_frame_count = 3;
/// A snapshot request is a name: anything larger is not one of ours.
constexpr std::int64_t max_request_bytes = 64 * 1024;

PublisherOptions publisher_options(const CustomerServiceOptions& options) {
  return PublisherOptions{.source = options.source,
                          .endpoints = options.update_endpoints,
                          .send_high_water_mark = options.send_high_water_mark,
                          .heartbeat = options.heartbeat,
                          .security = options.security};
}

}  // namespace

CustomerService::CustomerService(zmq::context_t& context, CustomerServiceOptions options,
                                 CustomerTable records)
    : options_(std::move(options)),
      records_(std::move(records)),
      updates_(context, publisher_options(options_)),
      snapshots_(context, zmq::socket_type::router),
      incarnation_(new_incarnation()) {
  if (options_.snapshot_endpoints.empty()) {
    throw std::invalid_argument(
        "the Customer service needs a snapshot endpoint to bind, e.g. "
        "tcp://127.0.0.1:*");
  }
  if (options_.snapshot_chunk_records == 0) {
    throw std::invalid_argument("snapshot_chunk_records must be at least 1");
  }
  if (options_.heartbeat_interval <= std::chrono::milliseconds(0)) {
    throw std::invalid_argument("heartbeat_interval must be positive, e.g. 250 ms");
  }
  if (options_.snapshot_high_water_mark <= 0) {
    throw std::invalid_argument("snapshot_high_water_mark must be at least 1 chunk");
  }
  // Without ROUTER_MANDATORY a ROUTER silently drops what it cannot deliver; with it, a
  // snapshot for a replica that went away, or that has more chunks queued than the
  // high-water mark allows, fails at once (the send never waits) and is abandoned: the
  // source's one thread must keep publishing updates and heartbeats.
  snapshots_.set(zmq::sockopt::router_mandatory, 1);
  snapshots_.set(zmq::sockopt::sndhwm, options_.snapshot_high_water_mark);
  snapshots_.set(zmq::sockopt::sndtimeo, 0);
  snapshots_.set(zmq::sockopt::maxmsgsize, max_request_bytes);
  snapshots_.set(zmq::sockopt::linger, 0);
  const std::string owner = "the snapshots of '" + options_.source + "'";
  apply_heartbeat(snapshots_, options_.heartbeat, owner);
  (void)secure_server_socket(context, snapshots_, options_.security, owner);
  for (const std::string& endpoint : options_.snapshot_endpoints) {
    snapshot_endpoints_.push_back(connectable_endpoint(bind_endpoint(snapshots_, endpoint)));
  }
  for (const auto& [id, customer] : records_) {
    if (id == 0 || customer.id != id) {
      throw std::invalid_argument("initial customer records must be keyed by their non-zero id");
    }
  }
  next_heartbeat_ns_ = monotonic_ns();  // the first serve() announces this run at once
}

std::uint64_t CustomerService::upsert(const Customer& customer) {
  if (customer.id == 0) {
    throw std::invalid_argument("a customer record needs a non-zero id");
  }
  records_.insert_or_assign(customer.id, customer);
  const std::uint64_t sequence = updates_.publish(CustomerUpdated{incarnation_, customer}).sequence;
  ++stats_.updates;
  publish_heartbeat_if_due();
  return sequence;
}

std::optional<std::uint64_t> CustomerService::remove(CustomerId id) {
  if (records_.erase(id) == 0) {
    return std::nullopt;
  }
  const std::uint64_t sequence = updates_.publish(CustomerRemoved{incarnation_, id}).sequence;
  ++stats_.removals;
  publish_heartbeat_if_due();
  return sequence;
}

const Customer* CustomerService::find(CustomerId id) const {
  const auto it = records_.find(id);
  return it == records_.end() ? nullptr : &it->second;
}

void CustomerService::serve(std::chrono::milliseconds wait) {
  const Deadline deadline(wait);
  for (;;) {
    publish_heartbeat_if_due();
    const auto until_heartbeat = std::chrono::ceil<std::chrono::milliseconds>(
        std::chrono::nanoseconds(std::max<std::int64_t>(0, next_heartbeat_ns_ - monotonic_ns())));
    zmq::pollitem_t items[] = {{updates_.socket().handle(), 0, ZMQ_POLLIN, 0},
                               {snapshots_.handle(), 0, ZMQ_POLLIN, 0}};
    try {
      zmq::poll(items, 2, std::min(deadline.remaining(), until_heartbeat));
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) {
        return;  // a signal (Ctrl-C): let the caller look at its flags
      }
      throw;
    }
    const bool subscriptions = (items[0].revents & ZMQ_POLLIN) != 0;
    const bool request = (items[1].revents & ZMQ_POLLIN) != 0;
    if (subscriptions) {
      updates_.serve(std::chrono::milliseconds(0));
    }
    if (request) {
      answer_snapshot_request();
    }
    if (subscriptions || request || deadline.expired()) {
      return;
    }
  }
}

void CustomerService::publish_heartbeat_if_due() {
  const std::int64_t now = monotonic_ns();
  if (now < next_heartbeat_ns_) {
    return;
  }
  // Every interval, busy or not: a restarted source must be noticed even under load.
  next_heartbeat_ns_ =
      now +
      std::chrono::duration_cast<std::chrono::nanoseconds>(options_.heartbeat_interval).count();
  updates_.publish(
      SourceHeartbeat{incarnation_, records_.size(),
                      static_cast<std::uint32_t>(options_.heartbeat_interval.count())});
  ++stats_.heartbeats;
}

void CustomerService::answer_snapshot_request() {
  const std::size_t count =
      receive_frames(snapshots_, frames_, request_frame_count, zmq::recv_flags::dontwait);
  if (count == 0) {
    return;
  }
  const zmq::message_t& requester = frames_[0];
  std::string problem;
  if (count != request_frame_count) {
    problem = "a snapshot request has 2 frames (command, body), this one had " +
              std::to_string(count - 1);
  } else if (view_of(frames_[1]) != snapshot_request) {
    problem =
        "unknown command; the snapshot server understands '" + std::string(snapshot_request) + "'";
  } else {
    try {
      (void)decode_value<SnapshotRequest>(view_of(frames_[2]), "snapshot request");
    } catch (const MalformedMessage& e) {
      problem = e.what();
    }
  }
  if (!problem.empty()) {
    ++stats_.bad_requests;
    (void)send_to(requester, snapshot_refused, problem);
    return;
  }
  send_snapshot(requester);
}

void CustomerService::send_snapshot(const zmq::message_t& requester) {
  // This thread is the only writer, so the records cannot change while they are sent: the
  // snapshot is exactly the state after sequence().
  auto next = records_.begin();
  std::size_t left = records_.size();
  while (left > 0) {
    const std::size_t in_chunk = std::min(left, options_.snapshot_chunk_records);
    buffer_.clear();
    msgpack::packer<msgpack::sbuffer> packer(buffer_);
    packer.pack_array(1);  // the layout of SnapshotChunk, packed without copying the records
    packer.pack_array(static_cast<std::uint32_t>(in_chunk));
    for (std::size_t i = 0; i < in_chunk; ++i, ++next) {
      packer.pack(next->second);
    }
    left -= in_chunk;
    if (!send_to(requester, snapshot_chunk, {buffer_.data(), buffer_.size()})) {
      ++stats_.snapshots_abandoned;
      return;
    }
  }
  const SnapshotEnd end{sequence(), records_.size(), incarnation_, options_.source};
  if (!send_to(requester, snapshot_end, encode_value(end))) {
    ++stats_.snapshots_abandoned;
    return;
  }
  ++stats_.snapshots_served;
}

bool CustomerService::send_to(const zmq::message_t& requester, std::string_view command,
                              std::string_view body) {
  try {
    return snapshots_.send(zmq::const_buffer(requester.data(), requester.size()),
                           zmq::send_flags::sndmore) &&
           snapshots_.send(zmq::const_buffer(command.data(), command.size()),
                           zmq::send_flags::sndmore) &&
           snapshots_.send(zmq::const_buffer(body.data(), body.size()), zmq::send_flags::none);
  } catch (const zmq::error_t&) {
    return false;  // EHOSTUNREACH: the requester is gone (ROUTER_MANDATORY)
    // (EAGAIN, its queue is full, comes back as an empty result: false above)
  }
}

}  // namespace eda::state_transfer
