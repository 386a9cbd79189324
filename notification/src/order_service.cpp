#include "eda/notification/order_service.hpp"

#include <stdexcept>

#include "eda/wire.hpp"

namespace eda::notification {

OrderService::OrderService(zmq::context_t& context, OrderServiceOptions options)
    : publisher_(context, {.source = "order-service",
                           .endpoints = {options.events_endpoint},
                           .send_high_water_mark = options.send_high_water_mark,
                           .security = options.security}),
      api_(context, {.endpoints = {options.api_endpoint}, .security = options.security}),
      outbox_(options.outbox_capacity) {
  api_.handle_typed<OrderRequest>(std::string(method::place_order),
                                  [this](const OrderRequest& request) { return place(request); });
  api_.handle_typed<std::uint64_t>(std::string(method::get_order), [this](std::uint64_t id) {
    const Order* order = find(id);
    if (order == nullptr) {
      throw std::invalid_argument("no order " + std::to_string(id));
    }
    ++stats_.fetch_backs;
    return *order;
  });
  api_.handle_typed<ReplayRequest>(std::string(method::replay), [this](const ReplayRequest& r) {
    ReplayReply reply = outbox_.after(r.after_sequence, r.max_events);
    ++stats_.replays;
    stats_.replayed_events += reply.events.size();
    return reply;
  });
}

std::uint64_t OrderService::place(const OrderRequest& request) {
  if (request.quantity == 0) {
    throw std::invalid_argument("an order needs a quantity of at least 1");
  }
  const std::uint64_t id = ++stats_.orders;
  orders_.emplace(id, Order{id, request});
  const EventMetadata sent = publisher_.publish(OrderPlaced{id});
  // The outbox keeps exactly the bytes that went on the wire, so a replay is identical.
  outbox_.append(sent.sequence, publisher_.last_envelope());
  return id;
}

const Order* OrderService::find(std::uint64_t order_id) const {
  const auto it = orders_.find(order_id);
  return it == orders_.end() ? nullptr : &it->second;
}

bool OrderService::serve_once(std::chrono::milliseconds wait) {
  zmq::pollitem_t items[] = {{api_.socket().handle(), 0, ZMQ_POLLIN, 0},
                             {publisher_.socket().handle(), 0, ZMQ_POLLIN, 0}};
  if (poll_within(items, wait) == 0) {  // timed out, or a signal: the caller decides
    return false;
  }
  if ((items[1].revents & ZMQ_POLLIN) != 0) {
    (void)publisher_.serve(std::chrono::milliseconds(0));
  }
  if ((items[0].revents & ZMQ_POLLIN) != 0) {
    (void)api_.serve_once(std::chrono::milliseconds(0));
  }
  return true;
}

void OrderService::serve_while(const std::function<bool()>& keep_going,
                               std::chrono::milliseconds tick) {
  while (keep_going()) {
    (void)serve_once(tick);
  }
}

}  // namespace eda::notification
