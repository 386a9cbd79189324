// The keyed producer: stamps events and appends them to their key's partition.
#include "eda/scaling/keyed_producer.hpp"

namespace eda::scaling {

EventMetadata new_event_metadata(std::string_view type, std::uint32_t schema_version,
                                 const std::string& source, std::uint64_t sequence,
                                 const Cause& cause) {
  const std::int64_t now = wall_clock_ns();
  EventMetadata meta;
  meta.event_id = new_event_id(now);
  meta.type = std::string(type);
  meta.source = source;
  meta.sequence = sequence;
  meta.timestamp_ns = now;
  meta.schema_version = schema_version;
  meta.correlation_id = cause.correlation_id.empty() ? meta.event_id : cause.correlation_id;
  meta.causation_id = cause.causation_id;
  return meta;
}

KeyedProducer::KeyedProducer(PartitionLog& log, std::string source)
    : log_(log), partitioner_(log.partition_count()), source_(std::move(source)) {}

PartitionId KeyedProducer::queue(std::string_view key, std::string envelope) {
  const PartitionId partition = partitioner_.partition_of(key);
  queued_.push_back(LogAppend{partition, std::string(key), std::move(envelope)});
  return partition;
}

std::size_t KeyedProducer::flush() {
  if (queued_.empty()) return 0;
  log_.append(queued_);
  if (on_appended_) {
    for (const LogAppend& appended : queued_) on_appended_(appended);
  }
  const std::size_t count = queued_.size();
  appended_ += count;
  queued_.clear();
  return count;
}

}  // namespace eda::scaling
