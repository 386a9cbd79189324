#include "eda/state_transfer/lossy_link.hpp"

#include "eda/endpoint.hpp"
#include "eda/pubsub.hpp"
#include "eda/wire.hpp"

namespace eda::state_transfer {
namespace {

constexpr int link_high_water_mark = 1'000'000;  // the link itself must not lose anything
// What the link receives, like every receiving socket of the project, is bounded: events from
// the publisher (as large as a subscriber accepts) and subscriptions from the subscribers.
constexpr std::int64_t max_event_bytes = std::int64_t{64} << 20;
constexpr std::int64_t max_subscription_bytes = 64 * 1024;

void send_all(zmq::socket_t& socket, const std::vector<zmq::message_t>& frames, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    const auto flags = i + 1 < count ? zmq::send_flags::sndmore : zmq::send_flags::none;
    (void)socket.send(zmq::const_buffer(frames[i].data(), frames[i].size()),
                      flags | zmq::send_flags::dontwait);
  }
}

}  // namespace

LossyLink::LossyLink(zmq::context_t& context, LossyLinkOptions options)
    : from_publisher_(context, zmq::socket_type::xsub),
      to_subscribers_(context, zmq::socket_type::xpub) {
  for (zmq::socket_t* socket : {&from_publisher_, &to_subscribers_}) {
    socket->set(zmq::sockopt::linger, 0);
    socket->set(zmq::sockopt::sndhwm, link_high_water_mark);
    socket->set(zmq::sockopt::rcvhwm, link_high_water_mark);
  }
  // Pass every subscription up, not only the first of each topic: the publisher counts
  // subscribers by their handshakes.
  to_subscribers_.set(zmq::sockopt::xpub_verbose, 1);
  to_subscribers_.set(zmq::sockopt::maxmsgsize, max_subscription_bytes);
  from_publisher_.set(zmq::sockopt::maxmsgsize, max_event_bytes);
  (void)secure_server_socket(context, to_subscribers_, options.security, "the lossy link");
  (void)secure_client_socket(from_publisher_, options.security, "the lossy link");
  endpoint_ = connectable_endpoint(bind_endpoint(to_subscribers_, options.downstream));
  connect_endpoint(from_publisher_, options.upstream);
  thread_ = std::jthread([this](std::stop_token stop) { forward(stop); });
}

LossyLink::~LossyLink() {
  thread_.request_stop();
  thread_.join();
}

void LossyLink::lose_next(std::uint64_t count) { to_lose_.fetch_add(count); }

void LossyLink::inject(std::vector<std::string> frames) {
  std::lock_guard lock(mutex_);
  injections_.push_back(std::move(frames));
}

LossyLinkStats LossyLink::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void LossyLink::forward(const std::stop_token& stop) {
  std::vector<zmq::message_t> frames;
  constexpr std::size_t max_frames = 8;
  while (!stop.stop_requested()) {
    zmq::pollitem_t items[] = {{from_publisher_.handle(), 0, ZMQ_POLLIN, 0},
                               {to_subscribers_.handle(), 0, ZMQ_POLLIN, 0}};
    (void)poll_within(items, std::chrono::milliseconds(5));  // a signal: just go round again
    if ((items[0].revents & ZMQ_POLLIN) != 0) {
      const std::size_t count =
          receive_frames(from_publisher_, frames, max_frames, zmq::recv_flags::dontwait);
      const bool control = count > 0 && view_of(frames[0]).starts_with(control_topic_prefix);
      // Take one from the count to lose, unless it is 0 (lose_next() may add concurrently).
      bool lose = false;
      if (count > 0 && !control) {
        std::uint64_t pending = to_lose_.load();
        while (pending > 0 && !to_lose_.compare_exchange_weak(pending, pending - 1)) {
        }
        lose = pending > 0;
      }
      if (lose) {
        std::lock_guard lock(mutex_);
        ++stats_.lost;
      } else if (count > 0) {
        send_all(to_subscribers_, frames, std::min(count, max_frames));
        if (!control) {
          std::lock_guard lock(mutex_);
          ++stats_.forwarded;
        }
      }
    }
    if ((items[1].revents & ZMQ_POLLIN) != 0) {
      const std::size_t count =
          receive_frames(to_subscribers_, frames, max_frames, zmq::recv_flags::dontwait);
      send_all(from_publisher_, frames, std::min(count, max_frames));  // subscriptions go up
    }
    std::vector<std::vector<std::string>> injections;
    {
      std::lock_guard lock(mutex_);
      injections.swap(injections_);
      stats_.injected += injections.size();
    }
    for (const auto& message : injections) {
      for (std::size_t i = 0; i < message.size(); ++i) {
        const auto flags =
            i + 1 < message.size() ? zmq::send_flags::sndmore : zmq::send_flags::none;
        (void)to_subscribers_.send(zmq::buffer(message[i]), flags | zmq::send_flags::dontwait);
      }
    }
  }
}

}  // namespace eda::state_transfer
