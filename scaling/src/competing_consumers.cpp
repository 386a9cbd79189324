// Competing consumers, unkeyed: a PUSH distributor, PULL workers charging the gateway, and the
// detector that counts what they apply out of order.
#include "eda/scaling/competing_consumers.hpp"

#include <stdexcept>

#include "eda/endpoint.hpp"
#include "eda/scaling/gateway_service.hpp"

namespace eda::scaling {

bool ReorderDetector::observe(std::string_view order_id, std::uint32_t step) {
  const std::lock_guard lock(mutex_);
  auto found = highest_.find(order_id);
  if (found == highest_.end()) found = highest_.emplace(std::string(order_id), 0).first;
  if (step < found->second) {
    ++reorders_;
    return false;
  }
  found->second = step;
  return true;
}

std::uint64_t ReorderDetector::reorders() const {
  const std::lock_guard lock(mutex_);
  return reorders_;
}

std::uint32_t ReorderDetector::highest_step(std::string_view order_id) const {
  const std::lock_guard lock(mutex_);
  const auto found = highest_.find(order_id);
  return found == highest_.end() ? 0 : found->second;
}

UnkeyedDistributor::UnkeyedDistributor(zmq::context_t& context,
                                       const std::vector<std::string>& workers, std::string source)
    : socket_(context, zmq::socket_type::push), source_(std::move(source)) {
  if (workers.empty()) throw std::invalid_argument("UnkeyedDistributor: no worker to send to");
  socket_.set(zmq::sockopt::sndhwm, 1000);
  socket_.set(zmq::sockopt::linger, 1000);
  for (const std::string& worker : workers) connect_endpoint(socket_, worker);
}

CompetingWorker::CompetingWorker(zmq::context_t& context, CompetingWorkerOptions options)
    : options_(std::move(options)),
      socket_(context, zmq::socket_type::pull),
      gateway_(open_gateway(context, options_.gateway_path, options_.gateway_endpoint,
                            options_.gateway_call_time)) {
  socket_.set(zmq::sockopt::rcvhwm, 1000);
  socket_.set(zmq::sockopt::linger, 0);
  endpoint_ = connectable_endpoint(bind_endpoint(socket_, options_.endpoint));
}

void CompetingWorker::run(const std::stop_token& stop) {
  std::vector<zmq::message_t> frames;
  int receive_timeout = -1;
  while (!stop.stop_requested()) {
    const std::size_t count = receive_frames_within(socket_, frames, legacy_event_frame_count + 1,
                                                    std::chrono::milliseconds(50), receive_timeout);
    if (count == 0) continue;
    try {
      handle(decode_event_frames(frames, count));
    } catch (const MalformedMessage&) {  // not an event: counted, and the worker goes on
      const std::lock_guard lock(mutex_);
      ++status_.processed;
      ++status_.failed;
    }
  }
}

void CompetingWorker::handle(const DecodedEvent& event) {
  CompetingWorkerStatus seen;
  try {
    const OrderStep step = order_step_of(event);
    if (options_.before_charge) options_.before_charge(step);
    seen.charged = bill(*gateway_, event.bytes(), options_.name) == BillingOutcome::charged ? 1 : 0;
    if (options_.detector != nullptr && !options_.detector->observe(step.order_id, step.step)) {
      seen.reorders = 1;
    }
  } catch (const std::exception&) {
    seen.failed = 1;
  }
  const std::lock_guard lock(mutex_);
  ++status_.processed;
  status_.charged += seen.charged;
  status_.reorders += seen.reorders;
  status_.failed += seen.failed;
}

CompetingWorkerStatus CompetingWorker::status() const {
  const std::lock_guard lock(mutex_);
  return status_;
}

}  // namespace eda::scaling
