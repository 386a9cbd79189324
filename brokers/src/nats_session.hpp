// A connection to a NATS server with its JetStream context, for the patterns run on JetStream
// beside the durable transport (the KV replica, the partitioned consumer group). Private to
// brokers/: the public headers never show a libnats type.
#pragma once

#include <nats/nats.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "eda/brokers/transport.hpp"

namespace eda::brokers::detail {

/// The last error libnats recorded on this thread, as text (empty when none).
inline std::string nats_detail() {
  const char* text = nats_GetLastError(nullptr);
  return text != nullptr ? std::string(text) : std::string();
}

/// Throws BrokerError saying that `what` failed, with libnats' status and detail.
inline void require_ok(natsStatus status, const std::string& what) {
  if (status == NATS_OK) return;
  std::string message = "JetStream: " + what + " failed: " + natsStatus_GetText(status);
  if (const std::string detail = nats_detail(); !detail.empty()) message += ": " + detail;
  throw BrokerError(message);
}

/// Creates the stream `name` with file storage, capturing `subjects`, unless it exists.
inline void ensure_file_stream(jsCtx* js, const std::string& name, const std::string& subjects) {
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = name.c_str();
  const char* subject_list[] = {subjects.c_str()};
  config.Subjects = subject_list;
  config.SubjectsLen = 1;
  config.Storage = js_FileStorage;
  jsStreamInfo* info = nullptr;
  jsErrCode code{};
  natsStatus status = js_AddStream(&info, js, &config, nullptr, &code);
  if (status != NATS_OK && code == JSStreamNameExistErr) status = NATS_OK;  // already there
  jsStreamInfo_Destroy(info);
  std::string what = "creating the stream " + name;
  if (code != 0) what += " (JetStream error " + std::to_string(static_cast<int>(code)) + ")";
  require_ok(status, what);
}

/// A durable pull consumer: explicit acks, from the stream's first message.
struct PullConsumer {
  std::string stream;                         ///< The stream it reads.
  std::string durable;                        ///< Its durable name.
  std::string filter;                         ///< The subjects it takes.
  std::chrono::milliseconds redeliver_after;  ///< AckWait: an unacknowledged message goes again.
  std::int64_t max_deliver = -1;              ///< Deliveries of a message at most (-1: no bound).
  std::int64_t max_ack_pending = 0;           ///< Messages out unacknowledged at most (0: default).
};

/// Creates `consumer` (idempotent with the same configuration).
inline void ensure_pull_consumer(jsCtx* js, const PullConsumer& consumer) {
  jsConsumerConfig config;
  jsConsumerConfig_Init(&config);
  config.Durable = consumer.durable.c_str();
  config.FilterSubject = consumer.filter.c_str();
  config.AckPolicy = js_AckExplicit;
  config.DeliverPolicy = js_DeliverAll;
  config.AckWait = std::chrono::nanoseconds(consumer.redeliver_after).count();
  config.MaxDeliver = consumer.max_deliver;
  if (consumer.max_ack_pending > 0) config.MaxAckPending = consumer.max_ack_pending;
  jsConsumerInfo* info = nullptr;
  jsErrCode code{};
  const natsStatus status =
      js_AddConsumer(&info, js, consumer.stream.c_str(), &config, nullptr, &code);
  jsConsumerInfo_Destroy(info);
  std::string what = "creating the durable consumer " + consumer.durable + " on " + consumer.stream;
  if (code != 0) what += " (JetStream error " + std::to_string(static_cast<int>(code)) + ")";
  require_ok(status, what);
}

/// One connection and its JetStream context, closed when the object goes.
class NatsSession {
 public:
  /// Connects to `url` (no reconnect attempts at start: a server that is not there is an
  /// error at once, naming the URL); `wait` bounds every JetStream request.
  NatsSession(const std::string& url, std::chrono::milliseconds wait) {
    natsOptions* options = nullptr;
    require_ok(natsOptions_Create(&options), "creating connection options");
    natsStatus status = natsOptions_SetURL(options, url.c_str());
    if (status == NATS_OK) status = natsConnection_Connect(&nc_, options);
    natsOptions_Destroy(options);
    if (status == NATS_NO_SERVER) {
      throw BrokerError("JetStream: no NATS server answers at " + url +
                        " (is nats-server running, with -js?): " + natsStatus_GetText(status));
    }
    require_ok(status, "connecting to " + url);
    jsOptions js_options;
    jsOptions_Init(&js_options);
    js_options.Wait = wait.count();
    status = natsConnection_JetStream(&js_, nc_, &js_options);
    if (status != NATS_OK) {
      natsConnection_Destroy(nc_);  // the destructor does not run for a throwing constructor
      require_ok(status, "opening JetStream on " + url);
    }
  }
  ~NatsSession() {
    if (js_ != nullptr) jsCtx_Destroy(js_);
    if (nc_ != nullptr) natsConnection_Destroy(nc_);
  }
  NatsSession(const NatsSession&) = delete;
  NatsSession& operator=(const NatsSession&) = delete;

  [[nodiscard]] natsConnection* connection() const noexcept { return nc_; }
  [[nodiscard]] jsCtx* jetstream() const noexcept { return js_; }

 private:
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
};

}  // namespace eda::brokers::detail
