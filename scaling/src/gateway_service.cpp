// The stand-in payment gateway as a service: a ROUTER that records every call that has arrived
// in one transaction (a group commit) and answers each, and RemoteGateway, Billing's client.
#include "eda/scaling/gateway_service.hpp"

#include <tuple>
#include <utility>
#include <vector>

#include "eda/codec.hpp"
#include "eda/endpoint.hpp"
#include "eda/wire.hpp"

namespace eda::scaling {
namespace {

/// What the service answers (the `outcome` of an answer's frame).
enum class CallOutcome : int {
  charged = 0,
  already_charged = 1,
  declined = 2,
  refused = 3,
  not_recorded = 4,
};

constexpr std::string_view declined_prefix = "charge declined: ";

using CallFrame = std::tuple<std::uint64_t, ChargeRequest>;
using AnswerFrame = std::tuple<std::uint64_t, int, std::string>;

template <class Value>
zmq::message_t packed(const Value& value) {
  const std::string bytes = encode_value(value);
  return zmq::message_t(bytes.data(), bytes.size());
}

/// Decodes `bytes` as `Value`; false when they are not one (never throws).
template <class Value>
bool unpacked(const zmq::message_t& bytes, Value& value) {
  try {
    value = decode_value<Value>(
        std::string_view(static_cast<const char*>(bytes.data()), bytes.size()), "gateway frame");
    return true;
  } catch (const MalformedMessage&) {
    return false;
  }
}

}  // namespace

class GatewayService::Loop {
 public:
  Loop(zmq::context_t& context, GatewayServiceOptions options)
      : options_(std::move(options)),
        record_(options_.record_path),
        socket_(context, zmq::socket_type::router) {
    socket_.set(zmq::sockopt::linger, 0);
    endpoint_ = connectable_endpoint(bind_endpoint(socket_, options_.endpoint));
  }

  [[nodiscard]] const std::string& endpoint() const noexcept { return endpoint_; }

  template <class Publish>
  void run(const std::stop_token& stop, const Publish& publish) {
    std::vector<zmq::message_t> frames;
    while (!stop.stop_requested()) {
      if (!wait_readable(socket_, std::chrono::milliseconds(50))) continue;
      // Every call already queued joins this turn's transaction, up to max_batch.
      while (calls_.size() < options_.max_batch) {
        const std::size_t count = receive_frames(socket_, frames, 3, zmq::recv_flags::dontwait);
        if (count == 0) break;
        take(frames, count);
      }
      record_and_answer();
      publish(status_);
    }
  }

 private:
  struct Call {
    zmq::message_t route;
    std::uint64_t id = 0;
    ChargeRequest request;
  };

  /// Keeps a call for this turn's transaction, or answers at once what needs no record.
  void take(std::vector<zmq::message_t>& frames, std::size_t count) {
    if (count != 2) {
      ++status_.malformed;  // not [routing id, call]: nothing to answer it with
      return;
    }
    CallFrame call;
    if (!unpacked(frames[1], call)) {
      ++status_.malformed;
      answer(frames[0], 0, CallOutcome::refused, "not a gateway call");
      return;
    }
    auto& [id, request] = call;
    try {
      check_chargeable(request);
    } catch (const ChargeDeclined& declined) {
      ++status_.declined;
      // The caller's ChargeDeclined adds its own "charge declined: ".
      std::string reason = declined.what();
      if (reason.starts_with(declined_prefix)) reason.erase(0, declined_prefix.size());
      answer(frames[0], id, CallOutcome::declined, reason);
      return;
    }
    calls_.push_back(Call{std::move(frames[0]), id, std::move(request)});
  }

  void record_and_answer() {
    if (calls_.empty()) return;
    std::vector<ChargeRequest> requests;
    requests.reserve(calls_.size());
    for (const Call& call : calls_) requests.push_back(call.request);
    try {
      const std::vector<bool> recorded = record_.record(requests);
      ++status_.commits;
      for (std::size_t i = 0; i < calls_.size(); ++i) {
        ++(recorded[i] ? status_.charged : status_.already_charged);
        answer(calls_[i].route, calls_[i].id,
               recorded[i] ? CallOutcome::charged : CallOutcome::already_charged, "");
      }
    } catch (const std::exception& error) {
      // Nothing of the transaction was written: every caller may try again.
      for (Call& call : calls_) {
        ++status_.not_recorded;
        answer(call.route, call.id, CallOutcome::not_recorded, error.what());
      }
    }
    calls_.clear();
  }

  void answer(zmq::message_t& route, std::uint64_t id, CallOutcome outcome,
              const std::string& message) {
    ++status_.calls;
    // A caller that has gone away is no reason to stop: its answer is dropped.
    (void)socket_.send(route, zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    (void)socket_.send(packed(AnswerFrame{id, static_cast<int>(outcome), message}),
                       zmq::send_flags::dontwait);
  }

  GatewayServiceOptions options_;
  BillingGateway record_;
  zmq::socket_t socket_;
  std::string endpoint_;
  std::vector<Call> calls_;
  GatewayServiceStatus status_;
};

GatewayService::GatewayService(zmq::context_t& context, GatewayServiceOptions options)
    : loop_(std::make_unique<Loop>(context, std::move(options))) {
  endpoint_ = loop_->endpoint();
  thread_ = std::jthread([this](const std::stop_token& stop) {
    loop_->run(stop, [this](const GatewayServiceStatus& status) {
      const std::lock_guard lock(mutex_);
      status_ = status;
    });
  });
}

GatewayService::~GatewayService() { stop(); }

GatewayServiceStatus GatewayService::status() const {
  const std::lock_guard lock(mutex_);
  return status_;
}

void GatewayService::stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
  loop_.reset();
}

RemoteGateway::RemoteGateway(zmq::context_t& context, const std::string& endpoint,
                             std::chrono::microseconds call_time, std::chrono::milliseconds timeout)
    : socket_(context, zmq::socket_type::dealer), call_time_(call_time), timeout_(timeout) {
  socket_.set(zmq::sockopt::linger, 0);
  connect_endpoint(socket_, endpoint);
}

bool RemoteGateway::charge(const ChargeRequest& request) {
  check_chargeable(request);
  // The call's time on the network: a timed wait, so a slow gateway does not use a core.
  if (call_time_.count() > 0) std::this_thread::sleep_for(call_time_);
  const std::uint64_t id = ++next_call_;
  if (!socket_.send(packed(CallFrame{id, request}), zmq::send_flags::dontwait)) {
    throw TransportError("payment gateway: the call could not be sent (is the service up?)");
  }
  std::vector<zmq::message_t> frames;
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !wait_readable(socket_, left)) {
      throw TransportError("payment gateway: no answer within " +
                           std::to_string(timeout_.count()) +
                           " ms (the charge may have been recorded: retry with the same key)");
    }
    AnswerFrame answer;
    if (receive_frames(socket_, frames, 2, zmq::recv_flags::dontwait) != 1 ||
        !unpacked(frames[0], answer)) {
      continue;  // not an answer of this service: ignored
    }
    auto& [answered, outcome, message] = answer;
    if (answered != id) continue;  // the late answer to an earlier call that timed out
    switch (static_cast<CallOutcome>(outcome)) {
      case CallOutcome::charged: return true;
      case CallOutcome::already_charged: return false;
      case CallOutcome::declined: throw ChargeDeclined(message);
      case CallOutcome::not_recorded:
        throw StorageError("payment gateway could not record the charge: " + message);
      default: throw TransportError("payment gateway refused the call: " + message);
    }
  }
}

std::unique_ptr<PaymentGateway> open_gateway(zmq::context_t& context, const std::string& path,
                                             const std::string& endpoint,
                                             std::chrono::microseconds call_time) {
  if (!endpoint.empty()) return std::make_unique<RemoteGateway>(context, endpoint, call_time);
  return std::make_unique<BillingGateway>(path, call_time);
}

}  // namespace eda::scaling
