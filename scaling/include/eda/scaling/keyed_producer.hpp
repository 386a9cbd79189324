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
#include <string>
#include <string_view>
#include <vector>

#include "eda/codec.hpp"
#include "eda/envelope.hpp"
#include "eda/scaling/partition_log.hpp"
#include "eda/scaling/partitioner.hpp"

namespace eda::scaling {

/// @brief Fresh metadata for the `sequence`-th event of `source`, of `type` and
///        `schema_version`: a new id, the time now, and its own correlation (a first event).
[[nodiscard]] EventMetadata new_event_metadata(std::string_view type, std::uint32_t schema_version,
                                               const std::string& source, std::uint64_t sequence);

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

  /// @brief Stamps `payload` (id, type, source, sequence, time) and queues it for `key`'s
  ///        partition; returns the partition. Nothing is in the log before flush().
  template <EventPayload P>
  PartitionId add(std::string_view key, const P& payload) {
    const EventMetadata meta =
        new_event_metadata(P::event_type, P::schema_version, source_, ++sequence_);
    buffer_.clear();
    encode_event(meta, payload, buffer_);
    return queue(key, std::string(buffer_.data(), buffer_.size()));
  }

  /// @brief Appends everything queued in one transaction; returns how many events.
  std::size_t flush();

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
  msgpack::sbuffer buffer_;
  std::vector<LogAppend> queued_;
};

}  // namespace eda::scaling
