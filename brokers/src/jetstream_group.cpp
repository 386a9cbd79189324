// The partitioned consumer group on JetStream: the server's subject mapping partitions, one
// durable pull consumer per partition with MaxAckPending 1.
#include "eda/brokers/jetstream_group.hpp"

#include <fstream>
#include <map>
#include <vector>

#include "eda/clock.hpp"
#include "nats_session.hpp"

namespace eda::brokers {

namespace {

/// How long a member's fetch waits on one partition before it tries the next: short, so that
/// an idle partition never holds up a busy one.
constexpr std::int64_t fetch_per_partition_ms = 5;

std::string consumer_of(const GroupOptions& options, std::uint32_t partition) {
  return options.name + "-p" + std::to_string(partition);
}

std::string subjects_of(const GroupOptions& options, std::uint32_t partition) {
  return options.name + "." + std::to_string(partition) + ".*";
}

/// Creates the stream `<name>` (file storage, subjects `<name>.*.*`) and a durable pull consumer
/// per partition if missing; both calls are idempotent with the same configuration.
void declare_group(jsCtx* js, const GroupOptions& options) {
  detail::ensure_file_stream(js, options.name, options.name + ".*.*");
  for (std::uint32_t partition = 0; partition < options.partitions; ++partition) {
    // One event out at a time, whichever member fetched it: the partition's order.
    detail::ensure_pull_consumer(js, {.stream = options.name,
                                      .durable = consumer_of(options, partition),
                                      .filter = subjects_of(options, partition),
                                      .redeliver_after = options.redeliver_after,
                                      .max_ack_pending = 1});
  }
}

}  // namespace

std::string partition_mapping_config(const GroupOptions& options) {
  const GroupOptions checked = checked_group_options(options);
  // {{partition(N,1)}}: the server hashes the first wildcard token (the key) into 0..N-1.
  return "mappings = {\n  \"" + checked.name + ".*\": \"" + checked.name + ".{{partition(" +
         std::to_string(checked.partitions) + ",1)}}.{{wildcard(1)}}\"\n}\n";
}

namespace {

std::filesystem::path write_config(const std::filesystem::path& folder,
                                   const GroupOptions& options) {
  const std::filesystem::path path = folder / "partitions.conf";
  std::ofstream file(path);
  file << partition_mapping_config(options);
  if (!file.flush()) throw StorageError("cannot write the server configuration " + path.string());
  return path;
}

}  // namespace

PartitionedJetStreamServer::PartitionedJetStreamServer(const std::string& program,
                                                       const GroupOptions& options)
    : folder_("jetstream-group"),
      config_(write_config(folder_.path(), options)),
      server_(program, std::chrono::seconds(10), {"-c", config_.string()}) {}

// --- The publisher ----------------------------------------------------------------------------

struct JetStreamKeyedPublisher::State {
  State(const std::string& url, std::chrono::milliseconds wait) : session(url, wait) {}
  detail::NatsSession session;
};

JetStreamKeyedPublisher::JetStreamKeyedPublisher(const std::string& url, GroupOptions options)
    : options_(checked_group_options(std::move(options))),
      state_(std::make_unique<State>(url, options_.ack_timeout)) {
  declare_group(state_->session.jetstream(), options_);
}

JetStreamKeyedPublisher::~JetStreamKeyedPublisher() = default;

void JetStreamKeyedPublisher::publish(std::string_view key, std::string_view event_id,
                                      std::string_view envelope) {
  check_name(std::string(key), "key");  // one subject token: no '.', no wildcard
  const std::string subject = options_.name + "." + std::string(key);
  const std::string id(event_id);
  jsPubOptions publish_options;
  jsPubOptions_Init(&publish_options);
  publish_options.MsgId = id.c_str();
  jsPubAck* ack = nullptr;
  jsErrCode code{};
  const natsStatus status =
      js_Publish(&ack, state_->session.jetstream(), subject.c_str(), envelope.data(),
                 static_cast<int>(envelope.size()), &publish_options, &code);
  jsPubAck_Destroy(ack);
  if (status == NATS_NO_RESPONDERS) {
    // Nothing listens on the unmapped subject: the server has no partition mapping.
    throw BrokerError("JetStream: no stream takes " + subject +
                      ": is the server started with the partition mapping "
                      "(partition_mapping_config())?");
  }
  detail::require_ok(status, "publishing to " + subject);
}

void JetStreamKeyedPublisher::wait_for_acks() {
  // Each publish above already waited for its acknowledgement (js_Publish).
}

// --- A member ---------------------------------------------------------------------------------

struct JetStreamGroupMember::State {
  State(const std::string& url, std::chrono::milliseconds wait) : session(url, wait) {}
  ~State() {
    for (auto& [handle, message] : held) natsMsg_Destroy(message);
    for (natsSubscription* subscription : partitions) natsSubscription_Destroy(subscription);
  }
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  detail::NatsSession session;
  std::vector<natsSubscription*> partitions;  // one pull subscription per partition
  std::map<std::uint64_t, natsMsg*> held;     // fetched, not yet acknowledged
  std::uint64_t next_handle = 1;
  std::uint32_t cursor = 0;  // the partition tried first next time
};

JetStreamGroupMember::JetStreamGroupMember(const std::string& url, GroupOptions options)
    : options_(checked_group_options(std::move(options))),
      state_(std::make_unique<State>(url, options_.ack_timeout)) {
  declare_group(state_->session.jetstream(), options_);
  for (std::uint32_t partition = 0; partition < options_.partitions; ++partition) {
    const std::string durable = consumer_of(options_, partition);
    const std::string filter = subjects_of(options_, partition);
    jsSubOptions sub_options;
    jsSubOptions_Init(&sub_options);
    sub_options.Stream = options_.name.c_str();
    sub_options.Consumer = durable.c_str();
    natsSubscription* subscription = nullptr;
    jsErrCode code{};
    detail::require_ok(js_PullSubscribe(&subscription, state_->session.jetstream(), filter.c_str(),
                                        durable.c_str(), nullptr, &sub_options, &code),
                       "binding to the consumer " + durable);
    state_->partitions.push_back(subscription);
  }
}

JetStreamGroupMember::~JetStreamGroupMember() = default;

std::optional<KeyedDelivery> JetStreamGroupMember::next(std::chrono::milliseconds wait) {
  State& s = *state_;
  const Deadline deadline(wait);
  do {
    for (std::uint32_t i = 0; i < options_.partitions; ++i) {
      const std::uint32_t partition = (s.cursor + i) % options_.partitions;
      natsMsgList list{};
      jsErrCode code{};
      const natsStatus status =
          natsSubscription_Fetch(&list, s.partitions[partition], 1, fetch_per_partition_ms, &code);
      if (status == NATS_TIMEOUT) continue;  // nothing, or its one event is out elsewhere
      detail::require_ok(status, "fetching from " + consumer_of(options_, partition));
      if (list.Count == 0) {
        natsMsgList_Destroy(&list);
        continue;
      }
      natsMsg* message = list.Msgs[0];
      list.Msgs[0] = nullptr;  // ours now: the list's destruction must not free it
      natsMsgList_Destroy(&list);
      // Fair turns: the partition after this one is tried first next time.
      s.cursor = (partition + 1) % options_.partitions;
      const std::uint64_t handle = s.next_handle++;
      s.held.emplace(handle, message);
      return KeyedDelivery{std::string(natsMsg_GetData(message),
                                       static_cast<std::size_t>(natsMsg_GetDataLength(message))),
                           partition, handle};
    }
  } while (!deadline.expired());
  return std::nullopt;
}

void JetStreamGroupMember::ack(const KeyedDelivery& delivery) {
  const auto found = state_->held.find(delivery.handle);
  if (found == state_->held.end()) {
    throw std::logic_error("JetStream group: delivery " + std::to_string(delivery.handle) +
                           " is not held by this member (acknowledged twice?)");
  }
  natsMsg* message = found->second;
  state_->held.erase(found);
  jsErrCode code{};
  const natsStatus status = natsMsg_AckSync(message, nullptr, &code);
  natsMsg_Destroy(message);
  detail::require_ok(status, "acknowledging on partition " + std::to_string(delivery.partition));
}

}  // namespace eda::brokers
