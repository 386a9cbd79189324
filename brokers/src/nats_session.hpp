// A connection to a NATS server with its JetStream context, for the patterns run on JetStream
// beside the durable transport (the KV replica, the partitioned consumer group). Private to
// brokers/: the public headers never show a libnats type.
#pragma once

#include <nats/nats.h>

#include <chrono>
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
