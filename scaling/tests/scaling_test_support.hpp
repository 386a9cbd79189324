// What the runtime tests share: a shop's three files (log, checkpoints, gateway), orders
// written to the log, members run on threads, and waiting for a condition with a bound.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>

#include <catch2/catch.hpp>
#include <zmq.hpp>

#include "eda/clock.hpp"
#include "eda/scaling/billing.hpp"
#include "eda/scaling/coordinator_service.hpp"
#include "eda/scaling/group_member.hpp"
#include "eda/scaling/keyed_producer.hpp"
#include "eda/scaling/partition_log.hpp"
#include "eda_test_support.hpp"

namespace scaling_test {

using namespace std::chrono_literals;

/// Waits until `done` says yes, at most `limit` (a failure bound, never a measurement).
inline bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = 20s) {
  const eda::Deadline deadline(limit);
  while (!done()) {
    if (deadline.expired()) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

/// The events of order `n`'s life, `steps` of them (1 to 4): placed, amended, amended again,
/// cancelled; appended through `producer` (not flushed).
inline std::uint32_t add_order(eda::scaling::KeyedProducer& producer, std::uint64_t n,
                               std::uint32_t steps) {
  const std::string id = "order-" + std::to_string(n);
  for (std::uint32_t step = 1; step <= steps; ++step) {
    if (step == 1) {
      producer.add(id,
                   eda::scaling::OrderPlaced{id, step, 1000 + static_cast<std::int64_t>(n % 97)});
    } else if (step == steps && steps > 2) {
      producer.add(id, eda::scaling::OrderCancelled{id, step});
    } else {
      producer.add(id, eda::scaling::OrderAmended{id, step, 900 + static_cast<std::int64_t>(step)});
    }
  }
  return steps;
}

/// A shop's three files and the options its coordinator and members share.
struct Shop {
  explicit Shop(std::uint32_t partitions = 16) : partition_count(partitions) {
    // Each file is created here, once: two connections that turn a new SQLite file to WAL at
    // the same moment (members starting together) can be refused with "database is locked".
    const eda::scaling::PartitionLog log(log_file.path(), partitions);
    const eda::scaling::CheckpointStore store(checkpoint_file.path(),
                                              eda::sqlite::Durability::normal);
    const eda::scaling::BillingGateway gateway(gateway_file.path());
  }

  eda::test::TempDatabase log_file;
  eda::test::TempDatabase checkpoint_file;
  eda::test::TempDatabase gateway_file;
  std::uint32_t partition_count;
  std::chrono::milliseconds session_timeout = 500ms;

  /// Orders `first` .. `first + count - 1`, `steps` events each, appended in one transaction;
  /// returns the number of events.
  std::uint64_t produce(std::uint64_t first, std::uint64_t count, std::uint32_t steps = 3) const {
    eda::scaling::PartitionLog log(log_file.path(), partition_count);
    eda::scaling::KeyedProducer producer(log, "order-service");
    std::uint64_t events = 0;
    for (std::uint64_t n = first; n < first + count; ++n) events += add_order(producer, n, steps);
    producer.flush();
    return events;
  }

  [[nodiscard]] eda::scaling::CoordinatorServiceOptions coordinator(
      const std::string& endpoint = "tcp://127.0.0.1:*") const {
    eda::scaling::CoordinatorServiceOptions options;
    options.endpoint = endpoint;
    options.checkpoint_path = checkpoint_file.path();
    options.group_options.partition_count = partition_count;
    options.group_options.session_timeout = session_timeout;
    options.durability = eda::sqlite::Durability::normal;
    return options;
  }

  [[nodiscard]] eda::scaling::MemberOptions member(const std::string& endpoint) const {
    eda::scaling::MemberOptions options;
    options.coordinator = endpoint;
    options.log_path = log_file.path();
    options.checkpoint_path = checkpoint_file.path();
    options.gateway_path = gateway_file.path();
    options.partition_count = partition_count;
    options.heartbeat_interval = 50ms;
    options.join_retry = 1000ms;
    options.first_backoff = 5ms;
    options.max_backoff = 20ms;
    return options;
  }

  [[nodiscard]] eda::scaling::BillingGateway gateway() const {
    return eda::scaling::BillingGateway(gateway_file.path());
  }
};

/// Every one of `events` charged once, none twice, none out of order (waits, with a bound, for
/// the charges to be made).
inline void check_exactly_once_in_order(const Shop& shop, std::uint64_t events) {
  auto gateway = shop.gateway();
  REQUIRE(eventually([&] { return gateway.charges() >= events; }));
  CHECK(gateway.charges() == events);
  CHECK(gateway.double_charges() == 0);
  CHECK(gateway.order_violations() == 0);
}

/// A member running on a thread of its own until stop() or destruction.
class MemberThread {
 public:
  MemberThread(zmq::context_t& context, eda::scaling::MemberOptions options)
      : member_(std::make_unique<eda::scaling::GroupMember>(context, std::move(options))),
        thread_([this](const std::stop_token& stop) { member_->run(stop); }) {}
  ~MemberThread() { stop(); }
  MemberThread(const MemberThread&) = delete;
  MemberThread& operator=(const MemberThread&) = delete;

  /// A clean stop: it commits, leaves the group and its thread ends.
  void stop() {
    if (thread_.joinable()) {
      thread_.request_stop();
      thread_.join();
    }
  }
  [[nodiscard]] eda::scaling::MemberStatus status() const { return member_->status(); }

 private:
  std::unique_ptr<eda::scaling::GroupMember> member_;
  std::jthread thread_;
};

}  // namespace scaling_test
