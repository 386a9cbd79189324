// The synchronous checkout: three blocking calls, compensated in a catch block.
#include "eda/saga/baseline/sync_checkout.hpp"

#include <stdexcept>
#include <utility>

#include "eda/saga/checkout_messages.hpp"

namespace eda::saga::baseline {
namespace {

/// A step the participant refused (out of stock, declined, no parcel): the checkout is rejected.
class StepRefused : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <EventPayload P>
std::string command(const P& payload) {
  return encode_event(make_event("order-service", payload));
}

}  // namespace

SyncParticipant::SyncParticipant(zmq::context_t& context, std::vector<std::string> endpoints,
                                 Handler handler, const Outbox& outbox)
    : server_(context, {.endpoints = std::move(endpoints)}) {
  server_.handle(std::string(command_method),
                 [handler = std::move(handler), &outbox](std::string_view body) {
                   (void)handler(DecodedEvent::decode(body));
                   // One call at a time: the reply (first or repeated) is the outbox's last row.
                   return outbox.read(outbox.last_position(), 1).at(0).envelope;
                 });
}

SyncCheckout::SyncCheckout(zmq::context_t& context, SyncCheckoutOptions options)
    : options_(std::move(options)),
      inventory_(context, {.endpoint = options_.inventory,
                           .timeout = options_.timeout,
                           .attempts = options_.attempts}),
      payment_(context, {.endpoint = options_.payment,
                         .timeout = options_.timeout,
                         .attempts = options_.attempts}),
      shipping_(context, {.endpoint = options_.shipping,
                          .timeout = options_.timeout,
                          .attempts = options_.attempts}) {}

DecodedEvent SyncCheckout::call(RpcClient& client, const std::string& command) {
  return DecodedEvent::decode(client.call(command_method, command));
}

SyncResult SyncCheckout::checkout(const CheckoutRequest& request) {
  const auto done = [this](Step step) {
    if (options_.after_step) options_.after_step(step);
  };
  const DecodedEvent reserved =
      call(inventory_, command(ReserveStock{request.order_id, request.sku, request.quantity}));
  if (reserved.is<StockRejected>()) {
    return {false, "out of stock"};
  }
  done(Step::reserve_stock);
  bool charged = false;
  try {
    const DecodedEvent charge =
        call(payment_, command(ChargeCard{request.order_id, request.card, request.amount_cents}));
    if (charge.is<PaymentDeclined>()) {
      throw StepRefused(charge.payload_as<PaymentDeclined>().reason);
    }
    charged = true;
    done(Step::charge_card);
    const DecodedEvent parcel =
        call(shipping_, command(BookParcel{request.order_id, request.address}));
    if (parcel.is<ParcelRefused>()) {
      throw StepRefused(parcel.payload_as<ParcelRefused>().reason);
    }
    done(Step::book_parcel);
    return {true, {}};
  } catch (...) {
    // Undo what was done, last first. A crash here, or above, undoes nothing; and a refund the
    // card network refuses now is simply not done: nobody is left to ask again.
    if (charged) (void)call(payment_, command(RefundPayment{request.order_id}));
    (void)call(inventory_, command(ReleaseStock{request.order_id}));
    try {
      throw;
    } catch (const StepRefused& refused) {
      return {false, refused.what()};
    }
  }
}

}  // namespace eda::saga::baseline
