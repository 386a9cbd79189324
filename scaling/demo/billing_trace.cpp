// scaling-demo --trace: the Order service's announcements, the partitions' charge streams and
// the tap on them.
#include "billing_trace.hpp"

#include <chrono>

#include "eda/codec.hpp"
#include "eda/scaling/billing.hpp"

namespace eda::scaling::demo {

using namespace std::chrono_literals;

BillingTrace::BillingTrace(zmq::context_t& context, Transport transport, std::uint32_t partitions)
    : orders_(context, PublisherOptions{
                           .source = "order-service",
                           .endpoints = {ephemeral_endpoint(transport, "scaling-trace-orders")}}) {
  std::vector<std::string> tapped = orders_.endpoints();
  streams_.reserve(partitions);
  for (PartitionId p = 0; p < partitions; ++p) {
    const std::string name = "billing-p" + std::to_string(p);
    streams_.push_back(std::make_unique<Stream>(
        context,
        PublisherOptions{.source = name,
                         .endpoints = {ephemeral_endpoint(transport, "scaling-" + name)}}));
    tapped.insert(tapped.end(), streams_.back()->publisher.endpoints().begin(),
                  streams_.back()->publisher.endpoints().end());
  }
  // Nothing runs yet: this thread answers every publisher's side of the tap's handshake.
  trace_.emplace(context, trace::DemoTraceOptions{.endpoints = tapped, .serve_publishers = [this] {
                                                    (void)orders_.serve(1ms);
                                                    for (auto& stream : streams_)
                                                      (void)stream->publisher.serve(0ms);
                                                  }});
}

void BillingTrace::announce(std::string_view envelope) {
  orders_.republish(DecodedEvent::decode(envelope));
  ++published_;
}

void BillingTrace::charged(const MemberId& member, PartitionId partition,
                           std::string_view envelope) {
  const auto event = DecodedEvent::decode(envelope);
  const OrderStep step = order_step_of(event);
  Stream& stream = *streams_.at(partition);
  const std::lock_guard lock(stream.lock);
  (void)stream.publisher.publish(PaymentCharged{step.order_id, step.step, member},
                                 Cause::of(event.meta()));
  ++published_;
}

void BillingTrace::report(std::ostream& out) {
  if (trace_) (void)trace_->report(out, published_.load(), 10s);
  trace_.reset();
}

}  // namespace eda::scaling::demo
