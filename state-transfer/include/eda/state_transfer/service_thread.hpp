/// @file service_thread.hpp
/// @brief Runs a CustomerService on a thread of its own, so that a demo, a test or a benchmark
///        can change customers from another thread while the service keeps serving snapshots,
///        handshakes and heartbeats.
#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <zmq.hpp>

#include "eda/state_transfer/customer_service.hpp"

namespace eda::state_transfer {

/// @brief A CustomerService living on its own thread (its sockets never leave it).
///
/// Other threads hand it work with call(): the work runs on the service's thread between two
/// rounds of serving, and call() returns its result. Destroying the object (or stop()) closes
/// the service: to its replicas, the source went down.
///
/// @par Thread safety
/// call(), stop() and the accessors may be used from any thread.
class CustomerServiceThread {
 public:
  /// @brief Starts the thread and the service on it; rethrows what the service's constructor
  ///        threw (e.g. an endpoint already in use).
  CustomerServiceThread(zmq::context_t& context, CustomerServiceOptions options,
                        CustomerTable records = {});
  ~CustomerServiceThread();
  CustomerServiceThread(const CustomerServiceThread&) = delete;             ///< Owns a thread.
  CustomerServiceThread& operator=(const CustomerServiceThread&) = delete;  ///< Owns a thread.

  /// @brief Runs `work(service)` on the service's thread and returns its result (or rethrows
  ///        its exception). Throws std::logic_error once the service was stopped.
  template <class Work>
  auto call(Work work) -> std::invoke_result_t<Work&, CustomerService&> {
    using Result = std::invoke_result_t<Work&, CustomerService&>;
    // Shared, so that work dropped unrun (the service stopped first) breaks the promise and
    // get() throws instead of waiting forever.
    auto task = std::make_shared<std::packaged_task<Result(CustomerService&)>>(std::move(work));
    auto result = task->get_future();
    submit([task = std::move(task)](CustomerService& service) { (*task)(service); });
    return result.get();
  }

  /// @brief Closes the service (its sockets) and returns its records, e.g. to start it again
  ///        later with the same data. Further call()s throw.
  CustomerTable stop();

  /// @brief Where updates are published.
  [[nodiscard]] const std::vector<std::string>& update_endpoints() const noexcept {
    return update_endpoints_;
  }

  /// @brief Where snapshots are served.
  [[nodiscard]] const std::vector<std::string>& snapshot_endpoints() const noexcept {
    return snapshot_endpoints_;
  }

 private:
  void submit(std::function<void(CustomerService&)> work);
  void serve(zmq::context_t& context, CustomerServiceOptions options, CustomerTable records,
             std::promise<void> started, const std::stop_token& stop);

  std::mutex stop_mutex_;  // one stop() at a time
  std::mutex mutex_;
  std::vector<std::function<void(CustomerService&)>> queue_;
  bool stopped_ = false;
  CustomerTable final_records_;
  std::vector<std::string> update_endpoints_;
  std::vector<std::string> snapshot_endpoints_;
  std::jthread thread_;
};

}  // namespace eda::state_transfer
