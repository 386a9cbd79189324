#include "eda/state_transfer/service_thread.hpp"

#include <stdexcept>

namespace eda::state_transfer {

CustomerServiceThread::CustomerServiceThread(zmq::context_t& context,
                                             CustomerServiceOptions options,
                                             CustomerTable records) {
  std::promise<void> started;
  auto ready = started.get_future();
  thread_ =
      std::jthread([this, &context, started = std::move(started), options = std::move(options),
                    records = std::move(records)](std::stop_token stop) mutable {
        serve(context, std::move(options), std::move(records), std::move(started), stop);
      });
  ready.get();  // rethrows a failed start; the thread has then already ended
}

CustomerServiceThread::~CustomerServiceThread() { (void)stop(); }

void CustomerServiceThread::serve(zmq::context_t& context, CustomerServiceOptions options,
                                  CustomerTable records, std::promise<void> started,
                                  const std::stop_token& stop) {
  std::optional<CustomerService> service;
  try {
    service.emplace(context, std::move(options), std::move(records));
    update_endpoints_ = service->update_endpoints();
    snapshot_endpoints_ = service->snapshot_endpoints();
  } catch (...) {
    {
      std::lock_guard lock(mutex_);
      stopped_ = true;
    }
    started.set_exception(std::current_exception());
    return;
  }
  started.set_value();
  std::vector<std::function<void(CustomerService&)>> work;
  while (!stop.stop_requested()) {
    service->serve(std::chrono::milliseconds(1));
    {
      std::lock_guard lock(mutex_);
      work.swap(queue_);
    }
    for (auto& item : work) {
      item(*service);
    }
    work.clear();
  }
  std::lock_guard lock(mutex_);
  stopped_ = true;
  queue_.clear();  // breaks the promises of work that will never run
  final_records_ = service->records();
}

void CustomerServiceThread::submit(std::function<void(CustomerService&)> work) {
  std::lock_guard lock(mutex_);
  if (stopped_) {
    throw std::logic_error("the Customer service was stopped");
  }
  queue_.push_back(std::move(work));
}

CustomerTable CustomerServiceThread::stop() {
  std::lock_guard stopping(stop_mutex_);
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
  std::lock_guard lock(mutex_);
  return final_records_;
}

}  // namespace eda::state_transfer
