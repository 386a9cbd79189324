/// @file keyed_producer.hpp
/// @brief The Order service's side of the partitioned group: events keyed by order id, each
///        appended to the log of its key's partition.
///
/// The producer knows nothing of the members: adding Billing instances changes nothing here,
/// which is the promise of event-driven scaling. What it must get right is the key: every event
/// of one order goes to one partition (the partitioner), so one member at a time applies them,
/// in the order they were appended.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "eda/codec.hpp"
#include "eda/envelope.hpp"
#include "eda/scaling/partition_log.hpp"
#include "eda/scaling/partitioner.hpp"

namespace eda::scaling {

/// @brief Fresh metadata for the `sequence`-th event of `source`, of `type` and
///        `schema_version`: a new id, the time now, and its own correlation (a first event),
///        or, with a `cause`, the cause's correlation and causation.
[[nodiscard]] EventMetadata new_event_metadata(std::string_view type, std::uint32_t schema_version,
                                               const std::string& source, std::uint64_t sequence,
                                               const Cause& cause = {});

/// @brief Appends keyed events to a PartitionLog, stamped with the kit's envelope.
///
/// @par Example
/// @code
/// eda::scaling::PartitionLog log("orders.db", 16);
/// eda::scaling::KeyedProducer producer(log, "order-service");
/// producer.add("order-42", OrderPlaced{"order-42", 1, 2500});
/// producer.add("order-42", OrderCancelled{"order-42", 2});
/// producer.flush();  // both on order-42's partition, in this order
/// @endcode
///
/// @par Thread safety
/// None: one thread per producer (and per log object).
class KeyedProducer {
 public:
  /// @brief A producer appending to `log` (which must outlive it), naming itself `source`.
  KeyedProducer(PartitionLog& log, std::string source);

  /// @brief Stamps `payload` (id, type, source, sequence, time; linked to `cause` when one is
  ///        given, e.g. `Cause::of(last_added())` for the next step of the same order) and
  ///        queues it for `key`'s partition; returns the partition. Nothing is in the log before
  ///        flush().
  template <EventPayload P>
  PartitionId add(std::string_view key, const P& payload, const Cause& cause = {}) {
    last_added_ = new_event_metadata(P::event_type, P::schema_version, source_, ++sequence_, cause);
    buffer_.clear();
    encode_event(last_added_, payload, buffer_);
    return queue(key, std::string(buffer_.data(), buffer_.size()));
  }

  /// @brief The metadata of the last event added (empty before the first).
  [[nodiscard]] const EventMetadata& last_added() const noexcept { return last_added_; }

  /// @brief Appends everything queued in one transaction; returns how many events.
  std::size_t flush();

  /// @brief Calls `observer` after each flush, once per event appended, in append order (e.g.
  ///        to announce the events on a publisher a tracer taps). None by default.
  void on_appended(std::function<void(const LogAppend&)> observer) {
    on_appended_ = std::move(observer);
  }

  /// @brief The partitioner it keys with.
  [[nodiscard]] const Partitioner& partitioner() const noexcept { return partitioner_; }
  /// @brief Events appended so far.
  [[nodiscard]] std::uint64_t appended() const noexcept { return appended_; }

 private:
  PartitionId queue(std::string_view key, std::string envelope);

  PartitionLog& log_;
  Partitioner partitioner_;
  std::string source_;
  std::uint64_t sequence_ = 0;
  std::uint64_t appended_ = 0;
  EventMetadata last_added_{};
  msgpack::sbuffer buffer_;
  std::vector<LogAppend> queued_;
  std::function<void(const LogAppend&)> on_appended_;
};

}  // namespace eda::scaling
