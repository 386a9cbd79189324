// Competing consumers, unkeyed: a PUSH distributor, PULL workers charging the gateway, and the
// detector that counts what they apply out of order.
#include "eda/scaling/competing_consumers.hpp"

#include <algorithm>
#include <stdexcept>
#include <thread>

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
      handle(decode_event_frames(frames, count), stop);
    } catch (const MalformedMessage& error) {  // not an event: dead-lettered, the worker goes on
      std::vector<std::string> raw;
      for (std::size_t i = 0; i < count; ++i) raw.emplace_back(frames[i].to_string());
      dead_letter(std::move(raw), error.fault(), error.what());
      const std::lock_guard lock(mutex_);
      ++status_.processed;
      ++status_.failed;
    }
  }
}

void CompetingWorker::handle(const DecodedEvent& event, const std::stop_token& stop) {
  CompetingWorkerStatus seen;
  try {
    const OrderStep step = order_step_of(event);
    if (options_.before_charge) options_.before_charge(step);
    auto wait = options_.first_backoff;
    for (int attempt = 1;; ++attempt) {
      try {
        seen.charged =
            bill(*gateway_, event.bytes(), options_.name) == BillingOutcome::charged ? 1 : 0;
        if (options_.detector != nullptr && !options_.detector->observe(step.order_id, step.step)) {
          seen.reorders = 1;
        }
        break;
      } catch (const MalformedMessage&) {
        throw;  // no retry can make it decode
      } catch (const std::exception& error) {
        if (attempt >= options_.max_attempts || stop.stop_requested()) {
          seen.failed = 1;
          dead_letter({std::string(event.bytes())}, WireFault::unprocessable, error.what());
          break;
        }
        ++seen.retries;
        // The worker itself waits: the events queued behind this one here wait with it.
        std::this_thread::sleep_for(wait);
        wait = std::min(wait * 2, options_.max_backoff);
      }
    }
  } catch (const MalformedMessage& error) {
    seen.failed = 1;
    dead_letter({std::string(event.bytes())}, error.fault(), error.what());
  }
  if (seen.charged == 1 && options_.on_charged) options_.on_charged(options_.name, event.bytes());
  const std::lock_guard lock(mutex_);
  ++status_.processed;
  status_.charged += seen.charged;
  status_.reorders += seen.reorders;
  status_.failed += seen.failed;
  status_.retries += seen.retries;
}

void CompetingWorker::dead_letter(std::vector<std::string> frames, WireFault fault,
                                  const std::string& reason) {
  if (!options_.dead_letters) return;
  options_.dead_letters->put(
      DeadLetter{std::move(frames), fault, reason, options_.name, wall_clock_ns()});
}

CompetingWorkerStatus CompetingWorker::status() const {
  const std::lock_guard lock(mutex_);
  return status_;
}

}  // namespace eda::scaling
