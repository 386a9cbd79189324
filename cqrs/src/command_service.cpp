#include "eda/cqrs/command_service.hpp"

#include <tuple>

namespace eda::cqrs {

using namespace sourcing;

namespace {

// Each command's request body is a MessagePack array: the order id, then the command's fields
// in declaration order (the table in command_service.hpp).
using PlaceOrderBody = std::tuple<std::uint64_t, std::string>;
using AddItemBody = std::tuple<std::uint64_t, std::string, std::uint32_t, std::int64_t>;
using RemoveItemBody = std::tuple<std::uint64_t, std::string>;
using PayBody = std::tuple<std::uint64_t, std::int64_t>;
using ShipBody = std::tuple<std::uint64_t, std::string>;
using CancelBody = std::tuple<std::uint64_t, std::string>;

/// The command a request body holds.
template <class Command, class Body>
Command command_of(const Body& b) {
  if constexpr (std::is_same_v<Command, AddItem>) {
    return AddItem{std::get<1>(b), std::get<2>(b), std::get<3>(b)};
  } else if constexpr (std::is_same_v<Command, Pay>) {
    return Pay{std::get<1>(b)};
  } else {
    return Command{std::get<1>(b)};  // PlaceOrder, RemoveItem, Ship, Cancel: one text field
  }
}

/// The method and body of a command (what CommandClient sends).
std::pair<std::string_view, std::string> request_of(std::uint64_t id, const OrderCommand& command) {
  struct Encode {
    std::uint64_t id;
    std::pair<std::string_view, std::string> operator()(const PlaceOrder& c) const {
      return {"PlaceOrder", encode_value(PlaceOrderBody{id, c.customer})};
    }
    std::pair<std::string_view, std::string> operator()(const AddItem& c) const {
      return {"AddItem", encode_value(AddItemBody{id, c.sku, c.quantity, c.unit_price_cents})};
    }
    std::pair<std::string_view, std::string> operator()(const RemoveItem& c) const {
      return {"RemoveItem", encode_value(RemoveItemBody{id, c.sku})};
    }
    std::pair<std::string_view, std::string> operator()(const Pay& c) const {
      return {"Pay", encode_value(PayBody{id, c.amount_cents})};
    }
    std::pair<std::string_view, std::string> operator()(const Ship& c) const {
      return {"Ship", encode_value(ShipBody{id, c.carrier})};
    }
    std::pair<std::string_view, std::string> operator()(const Cancel& c) const {
      return {"Cancel", encode_value(CancelBody{id, c.reason})};
    }
  };
  return std::visit(Encode{id}, command);
}

std::string_view type_of(const OrderEvent& event) {
  return std::visit([](const auto& e) { return std::decay_t<decltype(e)>::event_type; }, event);
}

}  // namespace

template <class Command, class Body>
void CommandService::handle(std::string method) {
  const std::string what = method + " request";
  server_.handle(method, [this, method, what](std::string_view bytes) {
    const Body body = decode_value<Body>(bytes, what);  // MalformedMessage: bad_request
    const std::uint64_t order_id = std::get<0>(body);
    const OrderCommand command = command_of<Command>(body);
    try {
      const CommandOutcome outcome = orders_.execute(order_id, command);
      CommandAccepted accepted{order_id,
                               outcome.appended.last_version,
                               outcome.appended.last_position,
                               {},
                               static_cast<std::uint32_t>(outcome.attempts)};
      for (const OrderEvent& event : outcome.events) accepted.events.emplace_back(type_of(event));
      return encode_value(accepted);
    } catch (const CommandRejected& e) {
      throw RpcError("rejected", method, e.what());
    } catch (const ConcurrencyConflict& e) {
      throw RpcError("conflict", method, e.what());
    }
  });
}

CommandService::CommandService(zmq::context_t& context, EventStore& store,
                               CommandServiceOptions options)
    : orders_(store, std::move(options.repository)),
      server_(context, RpcServerOptions{.endpoints = std::move(options.endpoints),
                                        .security = std::move(options.security)}) {
  handle<PlaceOrder, PlaceOrderBody>("PlaceOrder");
  handle<AddItem, AddItemBody>("AddItem");
  handle<RemoveItem, RemoveItemBody>("RemoveItem");
  handle<Pay, PayBody>("Pay");
  handle<Ship, ShipBody>("Ship");
  handle<Cancel, CancelBody>("Cancel");
}

CommandClient::CommandClient(zmq::context_t& context, RpcClientOptions options)
    : client_(context, [&] {
        options.attempts = 1;
        return std::move(options);
      }()) {}

CommandAccepted CommandClient::execute(std::uint64_t order_id, const OrderCommand& command) {
  const auto [method, body] = request_of(order_id, command);
  try {
    return decode_value<CommandAccepted>(client_.call(method, body),
                                         "reply to " + std::string(method));
  } catch (const RpcError& e) {
    if (e.status() == "rejected" || e.status() == "conflict") {
      throw CommandRefused(e.status(), e.body());
    }
    throw;
  }
}

}  // namespace eda::cqrs
