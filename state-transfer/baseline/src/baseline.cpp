#include "eda/state_transfer/baseline.hpp"

#include <stdexcept>

namespace eda::state_transfer::baseline {

CustomerService::CustomerService(zmq::context_t& context, CustomerServiceOptions options,
                                 CustomerTable records)
    : records_(std::move(records)),
      server_(context, {.endpoints = std::move(options.endpoints), .security = options.security}) {
  server_.handle_typed<CustomerId>(std::string(method::get_customer), [this](CustomerId id) {
    CustomerReply reply;
    reply.sequence = sequence_;
    if (const auto it = records_.find(id); it != records_.end()) {
      reply.found = true;
      reply.customer = it->second;
    }
    return reply;
  });
}

std::uint64_t CustomerService::upsert(const Customer& customer) {
  if (customer.id == 0) {
    throw std::invalid_argument("a customer record needs a non-zero id");
  }
  records_.insert_or_assign(customer.id, customer);
  return ++sequence_;
}

std::optional<std::uint64_t> CustomerService::remove(CustomerId id) {
  if (records_.erase(id) == 0) {
    return std::nullopt;
  }
  return ++sequence_;
}

std::optional<ShippingLabel> SyncShipping::label_for(const ShipOrder& order) {
  ++calls_;
  const auto reply = client_.call<CustomerReply>(method::get_customer, order.customer_id);
  if (!reply.found) {
    return std::nullopt;
  }
  return make_label(order, reply.customer, reply.sequence, std::chrono::nanoseconds(0));
}

}  // namespace eda::state_transfer::baseline
