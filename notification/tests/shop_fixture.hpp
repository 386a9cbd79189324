// A running shop for the tests: the Order service on its own thread, a customer placing
// orders over RPC, and consumers whose reactions are counted.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "eda/clock.hpp"
#include "eda/notification/consumer.hpp"
#include "eda/notification/order_service.hpp"

namespace eda::notification::test {

using namespace std::chrono_literals;

/// The Order service, serving on its own thread until destroyed.
class OrderServiceThread {
 public:
  OrderServiceThread(zmq::context_t& context, OrderServiceOptions options = {})
      : service_(context, std::move(options)),
        thread_([this] { service_.serve_while([this] { return !stop_.load(); }, 5ms); }) {}
  ~OrderServiceThread() { stop(); }
  OrderServiceThread(const OrderServiceThread&) = delete;
  OrderServiceThread& operator=(const OrderServiceThread&) = delete;

  /// Stops serving; afterwards service() may be inspected from the test thread.
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  [[nodiscard]] const std::string& events() const { return service_.events_endpoint(); }
  [[nodiscard]] const std::string& api() const { return service_.api_endpoint(); }
  [[nodiscard]] OrderService& service() { return service_; }

 private:
  OrderService service_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

/// How often each order reached a consumer's reaction.
struct Tally {
  std::map<std::uint64_t, int> handled;
};

/// The role's real reaction, counted.
inline Reaction counted(const std::string& role, Tally& tally) {
  Reaction inner = reaction_for(role);
  return [inner, &tally](Publisher& out, const OrderPlaced& placed, const Order* order,
                         const EventMetadata& cause) {
    ++tally.handled[placed.order_id];
    inner(out, placed, order, cause);
  };
}

/// Places `count` sample orders over RPC, numbered from `first`; returns their ids.
inline std::vector<std::uint64_t> place_orders(RpcClient& customer, std::uint64_t first,
                                               std::uint64_t count) {
  std::vector<std::uint64_t> ids;
  for (std::uint64_t n = first; n < first + count; ++n) {
    ids.push_back(customer.call<std::uint64_t>(method::place_order, sample_order(n)));
  }
  return ids;
}

/// Polls every consumer until `done()` holds or the deadline passes; returns `done()`.
template <class Done>
bool drive(const std::vector<Consumer*>& consumers, Done done,
           std::chrono::milliseconds timeout = 20s) {
  const Deadline deadline(timeout);
  while (!done() && !deadline.expired()) {
    for (Consumer* c : consumers) (void)c->poll(5ms);
  }
  return done();
}

}  // namespace eda::notification::test
