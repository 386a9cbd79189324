/// @file kv_replica.hpp
/// @brief Event-carried state transfer on the JetStream key/value bucket: the broker's version
///        of the Clone pattern that state-transfer/ builds by hand over ZeroMQ.
///
/// The Customer service puts each changed record, whole, under its key (`customer.42`); a
/// Shipping replica watches the bucket. The bucket is a stream that keeps the last few revisions
/// of every key, so what the ZeroMQ replica needs three mechanisms for, the broker gives at once:
///
/// | the Clone pattern over ZeroMQ (state-transfer/) | the JetStream KV bucket |
/// |---|---|
/// | a snapshot from the source's ROUTER, then the queued updates | a watch: the latest value of every key first, then a marker ("initial values done"), then every change |
/// | per-source sequence numbers, gap detection, resync | the revision (the stream's sequence), bucket-wide; the server never skips one for a watcher |
/// | a tombstone event (`CustomerRemoved`) | a delete marker (kvOp_Delete) under the key |
/// | the source's incarnation (a restart numbers from 1 again) | the bucket outlives the producer: a restarted producer carries on from the last revision |
/// | history: none (the source keeps only the current state) | `History` revisions per key, readable by a watch with IncludeHistory |
///
/// The value under a key is the kit's envelope of a `CustomerUpdated` event: the same bytes the
/// ZeroMQ source publishes, so both replicas decode and check a record the same way.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <stop_token>
#include <string>

#include "eda/brokers/transport.hpp"
#include "eda/envelope.hpp"
#include "eda/state_transfer/customer.hpp"

namespace eda::brokers {

namespace detail {
struct KvBucket;  ///< A connection bound to one KV bucket.
struct KvWatch;   ///< A watcher on a bucket, with its connection.
}  // namespace detail

/// @brief An optimistic update found the key at another revision than the one it read: someone
///        changed the record in between. Reload (revision_of()) and decide again.
///        Category: ErrorCategory::conflict.
class RevisionConflict : public Error {
 public:
  /// @brief A conflict on `key`, which was expected at `expected` (0: expected absent).
  RevisionConflict(std::string key, std::uint64_t expected, const std::string& detail);
  /// @brief The key that was not at the expected revision.
  [[nodiscard]] const std::string& key() const noexcept { return key_; }
  /// @brief The revision the update expected.
  [[nodiscard]] std::uint64_t expected() const noexcept { return expected_; }

 private:
  std::string key_;
  std::uint64_t expected_;
};

/// @brief The bucket's key of customer `id`: `customer.<id>`.
[[nodiscard]] std::string customer_key(state_transfer::CustomerId id);

/// @brief How a CustomerBucket is set up.
struct CustomerBucketOptions {
  std::string bucket = "customers";         ///< The bucket's name (letters, digits, '-', '_').
  std::string source = "customer-service";  ///< The source stamped on the events put.
  /// Revisions kept per key (1..64): the history a watcher with IncludeHistory sees.
  std::uint8_t history = 5;
  /// How long a put, an update or a read waits for the server.
  std::chrono::milliseconds timeout{5'000};
};

/// @brief The Customer service's side: every change to a record is put in the bucket, whole,
///        as a `CustomerUpdated` envelope under the record's key.
///
/// @par Example
/// @code
/// eda::brokers::CustomerBucket customers(server.url());
/// const auto revision = customers.upsert(alice);          // CustomerUpdated under customer.1
/// customers.update(alice_moved, revision);                // only if nobody changed it since
/// customers.remove(1);                                    // a delete marker: replicas drop it
/// @endcode
///
/// @par Errors
/// BrokerError when the server cannot be reached (the message names the URL) or refuses;
/// RevisionConflict from update() when the record changed since `expected_revision`.
///
/// @par Thread safety
/// One thread at a time.
class CustomerBucket {
 public:
  /// @brief Connects to `url` and creates the bucket (file storage) if it does not exist.
  explicit CustomerBucket(const std::string& url, CustomerBucketOptions options = {});
  ~CustomerBucket();
  CustomerBucket(const CustomerBucket&) = delete;             ///< Owns a connection.
  CustomerBucket& operator=(const CustomerBucket&) = delete;  ///< Owns a connection.

  /// @brief Puts `customer` (created or replaced, whatever its revision); returns the new
  ///        revision. Throws std::invalid_argument for id 0.
  std::uint64_t upsert(const state_transfer::Customer& customer);

  /// @brief Puts `customer` only if its key is still at `expected_revision` (0: only if the key
  ///        was never written); returns the new revision. Throws RevisionConflict otherwise,
  ///        and nothing is written.
  std::uint64_t update(const state_transfer::Customer& customer, std::uint64_t expected_revision);

  /// @brief Deletes the record: a delete marker under its key (its history stays).
  void remove(state_transfer::CustomerId id);

  /// @brief The revision of the record's latest value, or nothing when there is none (never
  ///        written, or deleted).
  [[nodiscard]] std::optional<std::uint64_t> revision_of(state_transfer::CustomerId id) const;

  /// @brief The bucket's name.
  [[nodiscard]] const std::string& bucket() const noexcept { return options_.bucket; }

 private:
  /// The envelope of `customer`'s next CustomerUpdated event.
  std::string envelope_of(const state_transfer::Customer& customer);

  CustomerBucketOptions options_;
  std::unique_ptr<detail::KvBucket> kv_;
  state_transfer::Incarnation incarnation_;
  std::uint64_t sequence_ = 0;
};

/// @brief How a KvReplica is set up.
struct KvReplicaOptions {
  std::string url;                   ///< The NATS server, e.g. `nats://127.0.0.1:4222`.
  std::string bucket = "customers";  ///< The bucket the Customer service writes.
  std::string name = "kv-replica";   ///< Names the replica in errors.
  /// Receive every revision the bucket keeps, not only the latest of each key (the watch's
  /// IncludeHistory): the replica applies them in order and ends at the same state.
  bool include_history = false;
  /// How long connecting and binding to the bucket wait for the server.
  std::chrono::milliseconds timeout{5'000};
  /// Called (on the pumping thread) after each record put is applied, with its event's
  /// metadata and revision: for measuring the update lag.
  std::function<void(const EventMetadata&, std::uint64_t revision)> applied{};
};

/// @brief What a KvReplica has done.
struct KvReplicaStats {
  std::uint64_t updates = 0;          ///< Record values applied.
  std::uint64_t removals = 0;         ///< Delete (or purge) markers applied.
  std::uint64_t initial_entries = 0;  ///< Entries received before the initial values were done.
  std::uint64_t malformed = 0;  ///< Values that were not a valid record for their key: skipped.
};

/// @brief A local, read-only copy of the customer records, kept by watching the bucket.
///
/// It starts the watch when constructed; pump() applies what arrived. Until the server has
/// sent every key's initial value it is not live(); from then on it follows every change, in
/// revision order. A value that does not decode as a CustomerUpdated for the key it is under is
/// counted (stats().malformed) and skipped: the copy keeps the record's last good value.
///
/// @par Example
/// @code
/// eda::brokers::KvReplica replica({.url = server.url()});
/// std::jthread follower([&](std::stop_token stop) { replica.run(stop); });
/// replica.await_live(std::chrono::seconds(5));
/// auto alice = replica.lookup(1);   // from any thread: a local read
/// @endcode
///
/// @par Errors
/// The constructor throws BrokerError when the server cannot be reached (naming the URL) or
/// the bucket does not exist (the Customer service creates it).
///
/// @par Thread safety
/// One thread pumps (pump() or run()); any number read (lookup(), copy(), record_count(),
/// revision(), live(), await_revision(), await_live(), stats()).
class KvReplica {
 public:
  /// @brief Connects, binds to the bucket and starts watching it.
  explicit KvReplica(KvReplicaOptions options);
  ~KvReplica();
  KvReplica(const KvReplica&) = delete;             ///< Owns a connection.
  KvReplica& operator=(const KvReplica&) = delete;  ///< Owns a connection.

  /// @brief Applies the entries that arrive within `wait` (returns after the first batch).
  void pump(std::chrono::milliseconds wait);
  /// @brief Pumps until `stop` is requested (checked at least every `tick`).
  void run(const std::stop_token& stop,
           std::chrono::milliseconds tick = std::chrono::milliseconds(50));

  /// @brief The record with `id`, or nothing.
  [[nodiscard]] std::optional<state_transfer::Customer> lookup(state_transfer::CustomerId id) const;
  /// @brief A copy of every record.
  [[nodiscard]] state_transfer::CustomerTable copy() const;
  /// @brief How many records it holds.
  [[nodiscard]] std::size_t record_count() const;
  /// @brief The highest revision applied (0 before the first).
  [[nodiscard]] std::uint64_t revision() const;
  /// @brief Whether every key's initial value has arrived.
  [[nodiscard]] bool live() const;
  /// @brief What it has done so far.
  [[nodiscard]] KvReplicaStats stats() const;

  /// @brief Waits until the replica has applied `revision` (read-your-writes after a put);
  ///        false if `timeout` passed first.
  bool await_revision(std::uint64_t revision, std::chrono::milliseconds timeout) const;
  /// @brief Waits until live(); false if `timeout` passed first.
  bool await_live(std::chrono::milliseconds timeout) const;

 private:
  void apply(const std::string& key, std::uint64_t revision, bool deleted, std::string_view value);
  bool await(const std::function<bool()>& reached, std::chrono::milliseconds timeout) const;

  KvReplicaOptions options_;
  std::unique_ptr<detail::KvWatch> watch_;

  mutable std::shared_mutex mutex_;  // guards the fields below
  state_transfer::CustomerTable records_;
  std::uint64_t revision_ = 0;
  bool live_ = false;
  KvReplicaStats stats_;

  mutable std::mutex progress_mutex_;  // lets await_*() sleep until the pump applies something
  mutable std::condition_variable progress_;
};

}  // namespace eda::brokers
