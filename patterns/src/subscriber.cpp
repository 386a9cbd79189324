#include <stdexcept>

#include "eda/clock.hpp"
#include "eda/endpoint.hpp"
#include "eda/pubsub.hpp"
#include "eda/wire.hpp"

namespace eda {
namespace {

bool is_control(std::string_view topic) { return topic.starts_with(control_topic_prefix); }

std::vector<std::string> frames_as_strings(const std::vector<zmq::message_t>& frames) {
  std::vector<std::string> out;
  out.reserve(frames.size());
  for (const auto& frame : frames) {
    out.emplace_back(view_of(frame));
  }
  return out;
}

}  // namespace

Subscriber::Subscriber(zmq::context_t& context, SubscriberOptions options)
    : options_(std::move(options)),
      socket_(context, zmq::socket_type::sub),
      peers_(context, socket_) {
  if (options_.endpoints.empty()) {
    throw std::invalid_argument("subscriber '" + options_.name +
                                "' needs at least one publisher endpoint to connect to");
  }
  for (std::size_t i = 0; i < options_.endpoints.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (options_.endpoints[i] == options_.endpoints[j]) {
        throw std::invalid_argument("subscriber '" + options_.name + "' lists endpoint " +
                                    options_.endpoints[i] + " twice");
      }
    }
  }
  for (const std::string& topic : options_.topics) {
    // A type's prefix, or a whole type and its record terminator (that type exactly).
    const std::string_view type = topic.ends_with(record_type_terminator)
                                      ? std::string_view(topic).substr(0, topic.size() - 1)
                                      : std::string_view(topic);
    if (!topic.empty() && !is_valid_event_type(type)) {
      throw std::invalid_argument("subscription topic '" + printable(topic) +
                                  "' is not an event-type prefix (letters, digits, . _ -)");
    }
  }
  detect_gaps_ = options_.detect_gaps.value_or(options_.topics.empty());
  if (options_.dead_letters == nullptr) {
    own_box_ = std::make_unique<DeadLetterBox>(100);
    sink_ = own_box_.get();
  } else {
    sink_ = options_.dead_letters;
  }
  socket_.set(zmq::sockopt::rcvhwm, options_.receive_high_water_mark);
  socket_.set(zmq::sockopt::linger, 0);
  apply_heartbeat(socket_, options_.heartbeat, "subscriber '" + options_.name + "'");
  if (options_.max_message_bytes > 0) {
    socket_.set(zmq::sockopt::maxmsgsize, options_.max_message_bytes);
  }
  (void)secure_client_socket(socket_, options_.security, "subscriber '" + options_.name + "'");
  // Connect first, then subscribe: subscriptions made on a connecting socket are queued on
  // its pipe in the order made, the hello topic last.
  for (const std::string& endpoint : options_.endpoints) {
    connect_endpoint(socket_, endpoint);
  }
  if (options_.topics.empty()) {
    socket_.set(zmq::sockopt::subscribe, "");
  }
  for (const std::string& topic : options_.topics) {
    socket_.set(zmq::sockopt::subscribe, topic);
  }
  hello_id_ = new_event_id();
  socket_.set(zmq::sockopt::subscribe, std::string(hello_topic_prefix) + hello_id_ + ".0");
}

bool Subscriber::handshake_complete() const noexcept {
  return round_one_.size() >= options_.endpoints.size();
}

bool Subscriber::await_handshake(std::chrono::milliseconds timeout) {
  const Deadline deadline(timeout);
  while (!handshake_complete()) {
    std::optional<DecodedEvent> event;
    if (read_one(deadline.remaining(), event) == Step::nothing && deadline.expired()) {
      return false;
    }
    // Events read while awaiting a handshake wait for receive(); past the high-water mark
    // they are dropped like at any other queue, and the sequence check reports the gap.
    const auto limit = static_cast<std::size_t>(options_.receive_high_water_mark);
    if (event && (limit == 0 || pending_.size() < limit)) {
      pending_.push_back(std::move(*event));
    }
  }
  return true;
}

std::optional<Delivery> Subscriber::take_waiting() {
  while (!pending_.empty()) {
    DecodedEvent event = std::move(pending_.front());
    pending_.pop_front();
    if (auto delivery = accept(std::move(event))) {
      return delivery;
    }
  }
  std::optional<DecodedEvent> event;
  if (read_one_waiting(event) == Step::event) {
    return accept(std::move(*event));
  }
  return std::nullopt;
}

std::optional<Delivery> Subscriber::receive(std::chrono::milliseconds timeout) {
  // A busy subscriber mostly finds an event already waiting: it is taken without reading the
  // clock for a deadline (perf put the clock reads at about 6% of the kit's PUB/SUB samples).
  if (auto delivery = take_waiting()) {
    return delivery;
  }
  // take_waiting() emptied pending_, and only await_handshake() fills it.
  const Deadline deadline(timeout);
  while (true) {
    std::optional<DecodedEvent> event;
    if (read_one(deadline.remaining(), event) == Step::nothing) {
      (void)peers_.poll();  // idle: a good moment to keep the monitor's pipe short
      if (deadline.expired()) {
        return std::nullopt;
      }
    }
    if (event) {
      if (auto delivery = accept(std::move(*event))) {
        return delivery;
      }
    }
  }
}

Subscriber::Step Subscriber::read_one(std::chrono::milliseconds wait,
                                      std::optional<DecodedEvent>& event) {
  return handle_message(receive_frames_within(socket_, frames_, legacy_event_frame_count + 1, wait,
                                              receive_timeout_ms_),
                        event);
}

Subscriber::Step Subscriber::read_one_waiting(std::optional<DecodedEvent>& event) {
  // dontwait rather than a zero receive timeout: changing the timeout is a socket option
  // call, and receive() would then change it back on every call.
  return handle_message(
      receive_frames(socket_, frames_, legacy_event_frame_count + 1, zmq::recv_flags::dontwait),
      event);
}

Subscriber::Step Subscriber::handle_message(std::size_t count, std::optional<DecodedEvent>& event) {
  if (count == 0) {
    return Step::nothing;
  }
  const std::string_view topic = view_of(frames_[0]);
  if (is_control(topic)) {
    if (count == 2) {
      handle_control(topic, view_of(frames_[1]));
    }
    return Step::control;
  }
  try {
    event.emplace(decode_event_frames(frames_, count, options_.limits));
    return Step::event;
  } catch (const MalformedMessage& e) {
    ++stats_.malformed;
    sink_->put(DeadLetter{frames_as_strings(frames_), e.fault(), e.what(), options_.name,
                          wall_clock_ns()});
    return Step::malformed;
  }
}

void Subscriber::handle_control(std::string_view topic, std::string_view publisher) {
  const std::string own = std::string(hello_topic_prefix) + hello_id_;
  if (topic == own + ".0") {
    round_zero_.emplace(publisher);
    // Round 1 goes out only once every connection is up, so it queues behind the topics.
    if (!round_one_subscribed_ && round_zero_.size() >= options_.endpoints.size()) {
      socket_.set(zmq::sockopt::subscribe, own + ".1");
      round_one_subscribed_ = true;
    }
  } else if (topic == own + ".1") {
    round_one_.emplace(publisher);
  }
  // Other subscribers' hellos reach subscribers of everything; they are ignored.
}

std::optional<Delivery> Subscriber::accept(DecodedEvent event) {
  const SequenceCheck check = tracker_.observe(event.source(), event.sequence(), detect_gaps_);
  if (check.continuity == Continuity::duplicate) {
    ++stats_.duplicates;
    if (options_.drop_duplicates) {
      return std::nullopt;
    }
  }
  if (check.continuity == Continuity::gap) {
    ++stats_.gaps;
    stats_.missed += check.missed;
  }
  ++stats_.delivered;
  return Delivery{std::move(event), check};
}

void Subscriber::dead_letter(const DecodedEvent& event, WireFault fault, std::string reason) {
  ++stats_.malformed;
  sink_->put(DeadLetter{{event.meta().type, std::string(event.bytes())},
                        fault,
                        std::move(reason),
                        options_.name,
                        wall_clock_ns()});
}

}  // namespace eda
