// scaling-demo --trace: what the tracer taps, in the partitioned group's run and in the
// unkeyed one.
//
// The group's events live in the partition log, which no tap can read, and the unkeyed
// design's travel on PUSH/PULL, which no tap can join. So, with --trace, the Order service also
// announces each event it appends or pushes (unchanged: same id, same sequence) and every
// charge is announced as a `billing.payment.charged` reaction, caused by the event it charged
// (Cause::of). The reactions are published per partition of the order's key, on a stream named
// `billing-pN`, whichever member or worker charged it: the tracer's out-of-order check then
// judges each partition's charges against the Order service's sequence. That is the group's
// promise (a partition's events, and so each order's, are charged in log order, across
// hand-overs), and the unkeyed design breaks it: there, a flag is an event charged after a
// later event of its partition (of its own order, or of another order of that partition).
// A member's reactions across partitions interleave by design, so per-member streams would be
// flagged without any order being broken.
#pragma once

#include <atomic>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <msgpack.hpp>
#include <zmq.hpp>

#include "eda/endpoint.hpp"
#include "eda/pubsub.hpp"
#include "eda/scaling/assignment.hpp"
#include "eda/scaling/partitioner.hpp"
#include "eda/trace/demo_trace.hpp"

namespace eda::scaling::demo {

/// A member charged the gateway for an order's step: the reaction the tracer hangs under the
/// event that caused it.
struct PaymentCharged {
  static constexpr std::string_view event_type = "billing.payment.charged";  ///< Type and topic.
  static constexpr std::uint32_t schema_version = 1;                         ///< Payload shape.
  std::string order_id;                                                      ///< The order.
  std::uint32_t step = 0;  ///< Its step that was charged.
  std::string member;      ///< The member that charged it.
  MSGPACK_DEFINE(order_id, step, member)
};

/// The publishers of --trace and the tap on them (see the file's description).
///
/// Thread safety: announce() on one thread (the Order service's); charged() from any member or
/// worker thread (one lock per partition stream); report() after both have stopped.
class BillingTrace {
 public:
  /// Binds the Order service's announcements and one stream per partition on `transport`, and
  /// waits (bounded) until the tap is subscribed to all of them; throws when it is not.
  BillingTrace(zmq::context_t& context, Transport transport, std::uint32_t partitions);

  /// The Order service appended (or pushed) the event `envelope`: announces it unchanged.
  void announce(std::string_view envelope);

  /// `member` charged the event `envelope` of `partition` (the partition of its order's key):
  /// publishes the reaction.
  void charged(const MemberId& member, PartitionId partition, std::string_view envelope);

  /// Waits (bounded) for every announcement and reaction published, and prints the report.
  void report(std::ostream& out);

 private:
  /// One partition's stream of charges; its lock lets the member that owns it publish.
  struct Stream {
    Stream(zmq::context_t& context, PublisherOptions options)
        : publisher(context, std::move(options)) {}
    std::mutex lock;
    Publisher publisher;
  };

  Publisher orders_;
  std::vector<std::unique_ptr<Stream>> streams_;
  std::atomic<std::uint64_t> published_{0};
  std::optional<trace::DemoTrace> trace_;
};

}  // namespace eda::scaling::demo
