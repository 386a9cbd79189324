#include "eda/notification/baseline.hpp"

#include <stdexcept>
#include <thread>

namespace eda::notification::baseline {
std::string_view method_for(std::string_view role) {
  if (role.starts_with("inventory")) return "ReserveStock";
  if (role.starts_with("shipping")) return "ScheduleShipment";
  if (role.starts_with("billing")) return "ChargePayment";
  throw std::invalid_argument("unknown role '" + std::string(role) +
                              "': choose inventory, shipping or billing");
}

DownstreamService::DownstreamService(zmq::context_t& context, DownstreamOptions options)
    : options_(std::move(options)),
      server_(context, {.endpoints = {options_.endpoint}, .security = options_.security}) {
  server_.handle_typed<Order>(std::string(method_for(options_.role)), [this](const Order& order) {
    if (options_.work_time.count() > 0) {
      std::this_thread::sleep_for(options_.work_time);  // simulated work: a slow service
    }
    ++handled_;
    return order.order_id;
  });
}

SyncOrderService::SyncOrderService(zmq::context_t& context, SyncOrderServiceOptions options)
    : options_(std::move(options)),
      api_(context, {.endpoints = {options_.api_endpoint}, .security = options_.security}) {
  for (const Downstream& d : options_.downstream) {
    clients_.push_back(
        {d.role, std::string(method_for(d.role)),
         std::make_unique<RpcClient>(context, RpcClientOptions{.endpoint = d.endpoint,
                                                               .timeout = options_.call_timeout,
                                                               .attempts = options_.call_attempts,
                                                               .security = options_.security})});
  }
  api_.handle_typed<OrderRequest>(std::string(method::place_order),
                                  [this](const OrderRequest& request) { return place(request); });
  api_.handle_typed<std::uint64_t>(std::string(method::get_order), [this](std::uint64_t id) {
    const auto it = orders_.find(id);
    if (it == orders_.end()) {
      throw std::invalid_argument("no order " + std::to_string(id));
    }
    return it->second;
  });
}

std::uint64_t SyncOrderService::place(const OrderRequest& request) {
  if (request.quantity == 0) {
    throw std::invalid_argument("an order needs a quantity of at least 1");
  }
  const Order order{++next_id_, request};
  for (Client& client : clients_) {
    ++stats_.downstream_calls;
    try {
      (void)client.rpc->call<std::uint64_t>(client.method, order);
    } catch (const std::exception& e) {
      // The order cannot complete without every downstream service: it is refused.
      ++stats_.failed_orders;
      throw std::runtime_error("order " + std::to_string(order.order_id) +
                               " not placed: " + client.role + " failed: " + e.what());
    }
  }
  orders_.emplace(order.order_id, order);
  ++stats_.orders;
  return order.order_id;
}

}  // namespace eda::notification::baseline
