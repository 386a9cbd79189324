// Event-carried state transfer on the JetStream KV bucket: the Customer service's puts and the
// replica's watch.
#include "eda/brokers/kv_replica.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include "eda/codec.hpp"
#include "nats_session.hpp"

namespace eda::brokers {

using state_transfer::Customer;
using state_transfer::CustomerId;
using state_transfer::CustomerUpdated;

namespace {

constexpr std::string_view key_prefix = "customer.";

/// The customer id of a bucket key (`customer.42`), or nothing for another key.
std::optional<CustomerId> id_of_key(std::string_view key) {
  if (key.substr(0, key_prefix.size()) != key_prefix) return std::nullopt;
  const std::string_view digits = key.substr(key_prefix.size());
  CustomerId id = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (error != std::errc{} || end != digits.data() + digits.size() || id == 0) return std::nullopt;
  return id;
}

/// Owns one kvEntry.
struct EntryDeleter {
  void operator()(kvEntry* entry) const { kvEntry_Destroy(entry); }
};
using Entry = std::unique_ptr<kvEntry, EntryDeleter>;

}  // namespace

RevisionConflict::RevisionConflict(std::string key, std::uint64_t expected,
                                   const std::string& detail)
    : Error(ErrorCategory::conflict, "the record under '" + key + "' is no longer at revision " +
                                         std::to_string(expected) +
                                         " (someone changed it since it was read): reload it and "
                                         "decide again (" +
                                         detail + ")"),
      key_(std::move(key)),
      expected_(expected) {}

std::string customer_key(CustomerId id) { return std::string(key_prefix) + std::to_string(id); }

namespace detail {

/// A connection bound to one bucket.
struct KvBucket {
  KvBucket(const std::string& url, std::chrono::milliseconds wait) : session(url, wait) {}
  ~KvBucket() {
    if (kv != nullptr) kvStore_Destroy(kv);
  }
  KvBucket(const KvBucket&) = delete;
  KvBucket& operator=(const KvBucket&) = delete;

  NatsSession session;
  kvStore* kv = nullptr;
};

/// A watcher on every key of a bucket, with the connection it runs on.
struct KvWatch {
  KvWatch(const std::string& url, std::chrono::milliseconds wait) : bucket(url, wait) {}
  ~KvWatch() {
    if (watcher != nullptr) {
      kvWatcher_Stop(watcher);
      kvWatcher_Destroy(watcher);
    }
  }
  KvWatch(const KvWatch&) = delete;
  KvWatch& operator=(const KvWatch&) = delete;

  KvBucket bucket;  // declared first: the watcher goes before its connection
  kvWatcher* watcher = nullptr;
};

}  // namespace detail

// --- The Customer service's side --------------------------------------------------------------

CustomerBucket::CustomerBucket(const std::string& url, CustomerBucketOptions options)
    : options_(std::move(options)), incarnation_(state_transfer::new_incarnation()) {
  check_name(options_.bucket, "bucket name");
  if (options_.history == 0 || options_.history > 64) {
    throw std::invalid_argument("a bucket keeps 1..64 revisions per key");
  }
  kv_ = std::make_unique<detail::KvBucket>(url, options_.timeout);
  kvConfig config;
  kvConfig_Init(&config);
  config.Bucket = options_.bucket.c_str();
  config.History = options_.history;
  config.StorageType = js_FileStorage;
  detail::require_ok(js_CreateKeyValue(&kv_->kv, kv_->session.jetstream(), &config),
                     "creating the bucket '" + options_.bucket + "'");
}

CustomerBucket::~CustomerBucket() = default;

std::string CustomerBucket::envelope_of(const Customer& customer) {
  if (customer.id == 0) throw std::invalid_argument("a customer record needs an id (not 0)");
  EventMetadata meta = make_metadata<CustomerUpdated>(options_.source);
  meta.sequence = ++sequence_;
  return encode_event(Event<CustomerUpdated>{std::move(meta), {incarnation_, customer}});
}

std::uint64_t CustomerBucket::upsert(const Customer& customer) {
  const std::string envelope = envelope_of(customer);
  const std::string key = customer_key(customer.id);
  std::uint64_t revision = 0;
  detail::require_ok(kvStore_Put(&revision, kv_->kv, key.c_str(), envelope.data(),
                                 static_cast<int>(envelope.size())),
                     "putting " + key);
  return revision;
}

std::uint64_t CustomerBucket::update(const Customer& customer, std::uint64_t expected_revision) {
  const std::string envelope = envelope_of(customer);
  const std::string key = customer_key(customer.id);
  std::uint64_t revision = 0;
  const natsStatus status = kvStore_Update(&revision, kv_->kv, key.c_str(), envelope.data(),
                                           static_cast<int>(envelope.size()), expected_revision);
  if (status == NATS_OK) return revision;
  // The server refuses a publish whose expected last sequence for the key is not the key's
  // (JetStream error 10071, "wrong last sequence"); libnats 3.4 returns it as a plain NATS_ERR
  // with the server's words, so the words tell a conflict from a failure.
  const std::string detail = detail::nats_detail();
  if (status == NATS_ERR && detail.find("wrong last sequence") != std::string::npos) {
    throw RevisionConflict(key, expected_revision, detail);
  }
  detail::require_ok(status, "updating " + key);
  return revision;
}

void CustomerBucket::remove(CustomerId id) {
  const std::string key = customer_key(id);
  detail::require_ok(kvStore_Delete(kv_->kv, key.c_str()), "deleting " + key);
}

std::optional<std::uint64_t> CustomerBucket::revision_of(CustomerId id) const {
  const std::string key = customer_key(id);
  kvEntry* raw = nullptr;
  const natsStatus status = kvStore_Get(&raw, kv_->kv, key.c_str());
  if (status == NATS_NOT_FOUND) return std::nullopt;  // never written, or deleted
  detail::require_ok(status, "reading " + key);
  const Entry entry(raw);
  return kvEntry_Revision(entry.get());
}

// --- The replica ------------------------------------------------------------------------------

KvReplica::KvReplica(KvReplicaOptions options) : options_(std::move(options)) {
  check_name(options_.bucket, "bucket name");
  watch_ = std::make_unique<detail::KvWatch>(options_.url, options_.timeout);
  const natsStatus bound =
      js_KeyValue(&watch_->bucket.kv, watch_->bucket.session.jetstream(), options_.bucket.c_str());
  if (bound == NATS_NOT_FOUND) {
    throw BrokerError("replica '" + options_.name + "': the bucket '" + options_.bucket +
                      "' does not exist on " + options_.url +
                      " (the Customer service creates it: start it first)");
  }
  detail::require_ok(bound, "binding to the bucket '" + options_.bucket + "'");
  kvWatchOptions watch_options;
  kvWatchOptions_Init(&watch_options);
  watch_options.IncludeHistory = options_.include_history;
  detail::require_ok(kvStore_WatchAll(&watch_->watcher, watch_->bucket.kv, &watch_options),
                     "watching the bucket '" + options_.bucket + "'");
}

KvReplica::~KvReplica() = default;

void KvReplica::pump(std::chrono::milliseconds wait) {
  kvEntry* raw = nullptr;
  const natsStatus status =
      kvWatcher_Next(&raw, watch_->watcher, std::max<std::int64_t>(wait.count(), 1));
  if (status == NATS_TIMEOUT) return;
  detail::require_ok(status, "watching the bucket '" + options_.bucket + "'");
  if (raw == nullptr) {
    // The marker after the last initial value: the copy now holds the whole bucket.
    {
      const std::unique_lock lock(mutex_);
      live_ = true;
    }
    const std::lock_guard wake(progress_mutex_);
    progress_.notify_all();
    return;
  }
  const Entry entry(raw);
  const kvOperation operation = kvEntry_Operation(entry.get());
  const auto* value = static_cast<const char*>(kvEntry_Value(entry.get()));
  const int length = kvEntry_ValueLen(entry.get());
  apply(kvEntry_Key(entry.get()), kvEntry_Revision(entry.get()),
        operation == kvOp_Delete || operation == kvOp_Purge,
        value != nullptr && length > 0 ? std::string_view(value, static_cast<std::size_t>(length))
                                       : std::string_view());
}

void KvReplica::apply(const std::string& key, std::uint64_t revision, bool deleted,
                      std::string_view value) {
  const std::optional<CustomerId> id = id_of_key(key);
  std::optional<Customer> customer;
  std::optional<EventMetadata> meta;
  if (id && !deleted) {
    try {
      const DecodedEvent event = DecodedEvent::decode(value);
      // The tree first: payload_as() then converts from it rather than parsing again.
      const msgpack::object& payload = event.payload();
      (void)event.payload_as<CustomerUpdated>();  // checks type, version and shape
      // ... and the record inside, field by field (a record with a field missing must never
      // blank the copy), which must be the one its key names.
      customer = state_transfer::customer_from(payload.via.array.ptr[1], "record in " + key);
      if (customer->id != *id) customer.reset();
      meta = event.meta();
    } catch (const MalformedMessage&) {
      customer.reset();
    }
  }
  {
    const std::unique_lock lock(mutex_);
    revision_ = std::max(revision_, revision);
    if (!live_) ++stats_.initial_entries;
    if (!id || (!deleted && !customer)) {
      ++stats_.malformed;
    } else if (deleted) {
      records_.erase(*id);
      ++stats_.removals;
    } else {
      records_.insert_or_assign(*id, std::move(*customer));
      ++stats_.updates;
    }
  }
  if (meta && options_.applied) options_.applied(*meta, revision);
  const std::lock_guard wake(progress_mutex_);
  progress_.notify_all();
}

void KvReplica::run(const std::stop_token& stop, std::chrono::milliseconds tick) {
  while (!stop.stop_requested()) pump(tick);
}

std::optional<Customer> KvReplica::lookup(CustomerId id) const {
  const std::shared_lock lock(mutex_);
  const auto found = records_.find(id);
  if (found == records_.end()) return std::nullopt;
  return found->second;
}

state_transfer::CustomerTable KvReplica::copy() const {
  const std::shared_lock lock(mutex_);
  return records_;
}

std::size_t KvReplica::record_count() const {
  const std::shared_lock lock(mutex_);
  return records_.size();
}

std::uint64_t KvReplica::revision() const {
  const std::shared_lock lock(mutex_);
  return revision_;
}

bool KvReplica::live() const {
  const std::shared_lock lock(mutex_);
  return live_;
}

KvReplicaStats KvReplica::stats() const {
  const std::shared_lock lock(mutex_);
  return stats_;
}

bool KvReplica::await(const std::function<bool()>& reached,
                      std::chrono::milliseconds timeout) const {
  std::unique_lock lock(progress_mutex_);
  return progress_.wait_for(lock, timeout, reached);
}

bool KvReplica::await_revision(std::uint64_t revision, std::chrono::milliseconds timeout) const {
  return await([&] { return this->revision() >= revision; }, timeout);
}

bool KvReplica::await_live(std::chrono::milliseconds timeout) const {
  return await([&] { return live(); }, timeout);
}

}  // namespace eda::brokers
