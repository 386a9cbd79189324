// The synchronous baseline: Billing servers over the kit's RPC, called round-robin.
#include "eda/scaling/baseline/billing_pool.hpp"

#include <stdexcept>

#include "eda/scaling/gateway_service.hpp"

namespace eda::scaling::baseline {
namespace {

constexpr std::string_view charged_reply = "charged";
constexpr std::string_view already_charged_reply = "already_charged";

RpcServerOptions server_options(const BillingServerOptions& options) {
  RpcServerOptions server;
  server.endpoints = {options.endpoint};
  return server;
}

}  // namespace

BillingServer::BillingServer(zmq::context_t& context, BillingServerOptions options)
    : options_(std::move(options)),
      gateway_(open_gateway(context, options_.gateway_path, options_.gateway_endpoint,
                            options_.gateway_call_time)),
      server_(context, server_options(options_)) {
  server_.handle(std::string(charge_method), [this](std::string_view envelope) {
    return std::string(bill(*gateway_, envelope, options_.name) == BillingOutcome::charged
                           ? charged_reply
                           : already_charged_reply);
  });
}

void BillingServer::serve(const std::stop_token& stop) {
  server_.serve_while([&stop] { return !stop.stop_requested(); });
}

BillingPool::BillingPool(zmq::context_t& context, const std::vector<std::string>& servers,
                         std::chrono::milliseconds timeout, int attempts) {
  if (servers.empty()) throw std::invalid_argument("BillingPool: no server to call");
  for (const std::string& server : servers) {
    RpcClientOptions options;
    options.endpoint = server;
    options.timeout = timeout;
    options.attempts = attempts;
    clients_.push_back(std::make_unique<RpcClient>(context, options));
  }
}

BillingOutcome BillingPool::call(const std::string& envelope) {
  RpcClient& client = *clients_[next_];
  next_ = (next_ + 1) % clients_.size();  // round robin, as a load balancer would
  const std::string reply = client.call(charge_method, envelope);
  if (reply == charged_reply) return BillingOutcome::charged;
  if (reply == already_charged_reply) return BillingOutcome::already_charged;
  throw MalformedMessage(WireFault::bad_field, "a Billing server answered " + printable(reply) +
                                                   ", not charged or already_charged");
}

}  // namespace eda::scaling::baseline
