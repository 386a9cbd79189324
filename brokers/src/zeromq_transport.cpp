// The durable event transport over ZeroMQ: the producer's log, served over request-reply.
#include "eda/brokers/zeromq_transport.hpp"

#include <algorithm>
#include <deque>
#include <iterator>
#include <utility>

#include "eda/clock.hpp"
#include "eda/rpc.hpp"
#include "eda/sqlite/database.hpp"

namespace eda::brokers {

namespace {

using namespace std::chrono_literals;

/// How long a subscription waits before asking again after an empty Fetch.
constexpr auto fetch_poll = 10ms;

/// Delivery states in the `deliveries` table.
enum DeliveryState : std::int64_t { leased = 0, acknowledged = 1, dead = 2, dead_taken = 3 };

/// What a consumer decided about one delivery it took: sent with its next Fetch.
enum Outcome : std::uint8_t {
  acknowledge = 0,  ///< Processed: never deliver it again.
  retry = 1,        ///< Rejected: again at once, or dead after the last allowed attempt.
  unreadable = 2,   ///< Bytes that do not decode: straight to the dead letters.
};

/// The protocol's bodies (MessagePack, positional).
struct AppendRequest {
  std::vector<std::pair<std::string, std::string>> events;  // (event id, envelope)
  MSGPACK_DEFINE(events)
};
struct ServiceRequest {
  std::string service;
  std::uint64_t count = 0;  // TakeDead: at most this many
  MSGPACK_DEFINE(service, count)
};
struct Settlement {
  std::uint64_t position = 0;
  std::uint8_t outcome = acknowledge;
  MSGPACK_DEFINE(position, outcome)
};
/// Settles what the consumer decided since its last Fetch, then leases up to `max` deliveries,
/// all in one transaction (one commit, one fsync). `max` 0 only settles.
struct FetchRequest {
  std::string service;
  std::uint64_t max = 1;
  std::vector<Settlement> settlements;
  MSGPACK_DEFINE(service, max, settlements)
};
struct Leased {
  std::uint64_t position = 0;
  std::uint32_t attempt = 0;
  std::string envelope;
  MSGPACK_DEFINE(position, attempt, envelope)
};
struct FetchReply {
  std::vector<Leased> deliveries;  // lowest position first; empty: nothing to deliver now
  MSGPACK_DEFINE(deliveries)
};

RpcClientOptions client_options(const std::string& endpoint, const TransportOptions& options) {
  return RpcClientOptions{.endpoint = endpoint, .timeout = options.ack_timeout, .attempts = 1};
}

}  // namespace

namespace detail {

/// The log: a SQLite file, and the handlers that serve it (run by one thread only).
class EventLogService {
 public:
  EventLogService(zmq::context_t& context, const std::string& path, const TransportOptions& options,
                  const std::string& endpoint)
      : options_(options),
        db_(path, sqlite::Durability::full, "event log"),
        server_(context, {.endpoints = {endpoint}}) {
    db_.exec(
        "CREATE TABLE IF NOT EXISTS log(position INTEGER PRIMARY KEY, event_id TEXT NOT NULL "
        "UNIQUE, envelope BLOB NOT NULL);"
        "CREATE TABLE IF NOT EXISTS services(service TEXT PRIMARY KEY, next_position INTEGER "
        "NOT NULL);"
        "CREATE TABLE IF NOT EXISTS deliveries(service TEXT NOT NULL, position INTEGER NOT NULL,"
        " attempts INTEGER NOT NULL, state INTEGER NOT NULL, lease_until INTEGER NOT NULL,"
        " PRIMARY KEY(service, position)) WITHOUT ROWID;"
        // The deliveries still open (leased, not acknowledged) are few, the settled ones grow
        // with the log: every Fetch looks for open ones, and without this index it read all of
        // the service's rows to find them (a 100 000-event catch-up slowed as it went).
        "CREATE INDEX IF NOT EXISTS deliveries_open ON deliveries(service, position) "
        "WHERE state = 0;");
    server_.handle_typed<AppendRequest>("Append",
                                        [this](const AppendRequest& r) { return append(r); });
    server_.handle_typed<ServiceRequest>("AddService", [this](const ServiceRequest& r) {
      add_service(r.service);
      return true;
    });
    server_.handle_typed<FetchRequest>("Fetch", [this](const FetchRequest& r) { return fetch(r); });
    server_.handle_typed<ServiceRequest>(
        "TakeDead", [this](const ServiceRequest& r) { return take_dead(r.service, r.count); });
  }

  [[nodiscard]] const std::string& endpoint() const { return server_.endpoints().front(); }

  void serve(const std::stop_token& stop) {
    server_.serve_while([&] { return !stop.stop_requested(); });
  }

 private:
  /// Stores the events not stored before (by id), in one transaction; replies how many were new.
  std::uint64_t append(const AppendRequest& request) {
    sqlite::Transaction transaction(db_);
    sqlite::Statement insert(db_.handle(),
                             "INSERT OR IGNORE INTO log(event_id, envelope) VALUES (?, ?)");
    std::uint64_t stored = 0;
    for (const auto& [event_id, envelope] : request.events) {
      insert.bind(event_id, sqlite::Statement::as_blob(envelope)).run();
      stored += static_cast<std::uint64_t>(db_.changes());
    }
    transaction.commit();
    return stored;
  }

  void add_service(const std::string& service) {
    check_name(service, "service name");
    sqlite::Statement(db_.handle(),
                      "INSERT OR IGNORE INTO services(service, next_position) "
                      "SELECT ?, COALESCE(MAX(position), 0) + 1 FROM log")
        .bind(service)
        .run();
  }

  /// Settles the request's outcomes, then leases the lowest positions the service may take now
  /// (rejected or expired deliveries, and events it has never seen), up to `max`, each for
  /// `redeliver_after`. One transaction: a batch costs one commit however many it carries.
  FetchReply fetch(const FetchRequest& request) {
    const std::string& service = request.service;
    sqlite::Transaction transaction(db_);
    settle(service, request.settlements);
    if (request.max == 0) {
      transaction.commit();
      return {};
    }
    const auto max = static_cast<std::int64_t>(std::min<std::uint64_t>(request.max, 10'000));
    const std::int64_t now = monotonic_ns();
    sqlite::Statement next_new(db_.handle(),
                               "SELECT next_position FROM services WHERE service = ?");
    if (!next_new.bind(service).step()) throw std::invalid_argument("unknown service " + service);
    const std::int64_t next_position = next_new.integer(0);
    next_new.done();
    // A delivery whose lease ran out on its last allowed attempt: its consumer died holding it
    // every time. The log's own bound, as a broker's delivery limit.
    sqlite::Statement(db_.handle(),
                      "UPDATE deliveries SET state = 2 WHERE service = ? AND state = 0 AND "
                      "lease_until <= ? AND attempts >= ?")
        .bind(service, now, static_cast<std::int64_t>(options_.max_deliveries))
        .run();
    // (position, attempts so far) of both kinds, each lowest first, merged below.
    std::vector<std::pair<std::int64_t, std::int64_t>> again;
    sqlite::Statement select_again(db_.handle(),
                                   "SELECT position, attempts FROM deliveries WHERE service = ? "
                                   "AND state = 0 AND lease_until <= ? ORDER BY position LIMIT ?");
    select_again.bind(service, now, max);
    while (select_again.step()) again.emplace_back(select_again.integer(0), select_again.integer(1));
    select_again.done();
    std::vector<std::pair<std::int64_t, std::int64_t>> fresh;
    sqlite::Statement select_fresh(
        db_.handle(), "SELECT position FROM log WHERE position >= ? ORDER BY position LIMIT ?");
    select_fresh.bind(next_position, max);
    while (select_fresh.step()) fresh.emplace_back(select_fresh.integer(0), 0);
    select_fresh.done();
    std::vector<std::pair<std::int64_t, std::int64_t>> taken;
    std::merge(again.begin(), again.end(), fresh.begin(), fresh.end(), std::back_inserter(taken));
    if (taken.size() > static_cast<std::size_t>(max)) taken.resize(static_cast<std::size_t>(max));

    std::int64_t newest_fresh = 0;
    for (const auto& [position, attempts] : taken) {
      if (attempts == 0) newest_fresh = std::max(newest_fresh, position);
    }
    if (newest_fresh != 0) {
      sqlite::Statement(db_.handle(), "UPDATE services SET next_position = ? WHERE service = ?")
          .bind(newest_fresh + 1, service)
          .run();
    }
    const std::int64_t lease_until =
        now +
        std::chrono::duration_cast<std::chrono::nanoseconds>(options_.redeliver_after).count();
    sqlite::Statement lease(db_.handle(),
                            "INSERT INTO deliveries(service, position, attempts, state, "
                            "lease_until) VALUES (?, ?, 1, 0, ?) ON CONFLICT(service, position) "
                            "DO UPDATE SET attempts = attempts + 1, lease_until = "
                            "excluded.lease_until");
    sqlite::Statement envelope(db_.handle(), "SELECT envelope FROM log WHERE position = ?");
    FetchReply reply;
    for (const auto& [position, attempts] : taken) {
      lease.bind(service, position, lease_until).run();
      envelope.bind(position).step();
      reply.deliveries.push_back(Leased{static_cast<std::uint64_t>(position),
                                        static_cast<std::uint32_t>(attempts + 1),
                                        std::string(envelope.blob(0))});
      envelope.done();
    }
    transaction.commit();  // also keeps the deliveries marked dead above
    return reply;
  }

  /// Applies a consumer's outcomes (inside the caller's transaction). Only deliveries still
  /// leased change: an outcome sent twice, or one for a delivery already dead, does nothing.
  void settle(const std::string& service, const std::vector<Settlement>& settlements) {
    if (settlements.empty()) return;
    sqlite::Statement ack(db_.handle(),
                          "UPDATE deliveries SET state = 1 WHERE service = ? AND position = ? "
                          "AND state = 0");
    // The last allowed attempt (or bytes nobody can read) goes to the dead letters; an earlier
    // one is offered again at once.
    sqlite::Statement reject(db_.handle(),
                             "UPDATE deliveries SET state = CASE WHEN ? OR attempts >= ? THEN 2 "
                             "ELSE 0 END, lease_until = 0 WHERE service = ? AND position = ? AND "
                             "state = 0");
    for (const Settlement& settlement : settlements) {
      const auto position = static_cast<std::int64_t>(settlement.position);
      if (settlement.outcome == acknowledge) {
        ack.bind(service, position).run();
      } else {
        reject
            .bind(static_cast<std::int64_t>(settlement.outcome == unreadable ? 1 : 0),
                  static_cast<std::int64_t>(options_.max_deliveries), service, position)
            .run();
      }
    }
  }

  std::vector<std::string> take_dead(const std::string& service, std::uint64_t max) {
    sqlite::Transaction transaction(db_);
    sqlite::Statement select(db_.handle(),
                             "SELECT d.position, l.envelope FROM deliveries d JOIN log l ON "
                             "l.position = d.position WHERE d.service = ? AND d.state = 2 "
                             "ORDER BY d.position LIMIT ?");
    sqlite::Statement mark(db_.handle(),
                           "UPDATE deliveries SET state = 3 WHERE service = ? AND position = ?");
    std::vector<std::pair<std::int64_t, std::string>> found;
    select.bind(service, static_cast<std::int64_t>(max));
    while (select.step()) found.emplace_back(select.integer(0), std::string(select.blob(1)));
    select.done();
    std::vector<std::string> letters;
    for (auto& [position, envelope] : found) {
      mark.bind(service, position).run();
      letters.push_back(std::move(envelope));
    }
    transaction.commit();
    return letters;
  }

  TransportOptions options_;
  sqlite::Database db_;
  RpcServer server_;
};

}  // namespace detail

namespace {

/// A service's pulling subscription over its own socket. Each Fetch leases up to
/// `max_in_flight` deliveries and carries the outcomes (acks, rejects) decided since the last
/// one, so the log makes one commit per batch. An outcome therefore reaches the log with the
/// next Fetch (or when the subscription is destroyed): a consumer killed before that gets its
/// batch's acknowledged events again, which the idempotent consumer skips.
class ZeroMqSubscription : public Subscription {
 public:
  ZeroMqSubscription(zmq::context_t& context, const std::string& endpoint, std::string service,
                     const TransportOptions& options)
      : service_(std::move(service)),
        max_in_flight_(options.max_in_flight),
        log_(context, client_options(endpoint, options)) {}

  /// Sends the outcomes not sent yet (a service going down cleanly); never throws.
  ~ZeroMqSubscription() override {
    if (outcomes_.empty()) return;
    try {
      (void)log_.call<FetchReply>("Fetch", FetchRequest{service_, 0, std::move(outcomes_)});
    } catch (const std::exception&) {
      // The log is gone: the leases run out and the events are delivered again.
    }
  }
  ZeroMqSubscription(const ZeroMqSubscription&) = delete;
  ZeroMqSubscription& operator=(const ZeroMqSubscription&) = delete;

  std::optional<Delivery> next(std::chrono::milliseconds wait) override {
    const Deadline deadline(wait);
    for (;;) {
      while (!fetched_.empty()) {
        Leased leased = std::move(fetched_.front());
        fetched_.pop_front();
        try {
          return Delivery{DecodedEvent::decode(leased.envelope), leased.attempt, leased.position};
        } catch (const MalformedMessage&) {
          ++malformed_;
          outcomes_.push_back(Settlement{leased.position, unreadable});
        }
      }
      auto reply = log_.call<FetchReply>(
          "Fetch", FetchRequest{service_, max_in_flight_, std::exchange(outcomes_, {})});
      for (auto& leased : reply.deliveries) fetched_.push_back(std::move(leased));
      if (!fetched_.empty()) continue;
      if (deadline.expired()) return std::nullopt;
      // Nothing to take: ask again shortly (a pull over request-reply has no other signal).
      std::this_thread::sleep_for(
          std::min<std::chrono::milliseconds>(fetch_poll, deadline.remaining()));
    }
  }

  void ack(const Delivery& delivery) override {
    outcomes_.push_back(Settlement{delivery.handle, acknowledge});
  }
  void reject(const Delivery& delivery) override {
    outcomes_.push_back(Settlement{delivery.handle, retry});
  }
  [[nodiscard]] std::uint64_t malformed() const override { return malformed_; }

 private:
  std::string service_;
  std::uint32_t max_in_flight_;
  RpcClient log_;
  std::deque<Leased> fetched_;         // leased, not yet handed out
  std::vector<Settlement> outcomes_;   // decided, not yet sent
  std::uint64_t malformed_ = 0;
};

}  // namespace

ZeroMqTransport::ZeroMqTransport(zmq::context_t& context, const std::string& database_path,
                                 TransportOptions options, const std::string& endpoint)
    : context_(context),
      options_(checked_options(std::move(options))),
      service_(
          std::make_unique<detail::EventLogService>(context, database_path, options_, endpoint)),
      endpoint_(service_->endpoint()),
      serving_([this](const std::stop_token& stop) { service_->serve(stop); }) {}

ZeroMqTransport::~ZeroMqTransport() = default;

void ZeroMqTransport::add_service(const std::string& service) {
  check_name(service, "service name");
  RpcClient log(context_, client_options(endpoint_, options_));
  (void)log.call<bool>("AddService", ServiceRequest{service, 0});
}

void ZeroMqTransport::publish(std::string_view event_id, std::string_view envelope) {
  unsent_.emplace_back(std::string(event_id), std::string(envelope));
}

void ZeroMqTransport::wait_for_acks() {
  if (unsent_.empty()) return;
  RpcClient log(context_, client_options(endpoint_, options_));
  try {
    (void)log.call<std::uint64_t>("Append", AppendRequest{unsent_});
  } catch (const Error& e) {
    throw BrokerError("ZeroMQ log: " + std::to_string(unsent_.size()) +
                      " publishes not acknowledged: " + e.what());
  }
  unsent_.clear();
}

std::unique_ptr<Subscription> ZeroMqTransport::subscribe(const std::string& service) {
  return subscribe_to(context_, endpoint_, service, options_);
}

std::unique_ptr<Subscription> ZeroMqTransport::subscribe_to(zmq::context_t& context,
                                                            const std::string& endpoint,
                                                            const std::string& service,
                                                            const TransportOptions& options) {
  check_name(service, "service name");
  return std::make_unique<ZeroMqSubscription>(context, endpoint, service,
                                              checked_options(options));
}

std::vector<std::string> ZeroMqTransport::take_dead_letters(const std::string& service,
                                                            std::size_t max,
                                                            std::chrono::milliseconds wait) {
  check_name(service, "service name");
  RpcClient log(context_, client_options(endpoint_, options_));
  const Deadline deadline(wait);
  for (;;) {
    auto letters = log.call<std::vector<std::string>>("TakeDead", ServiceRequest{service, max});
    if (!letters.empty() || deadline.expired()) return letters;
    std::this_thread::sleep_for(
        std::min<std::chrono::milliseconds>(fetch_poll, deadline.remaining()));
  }
}

}  // namespace eda::brokers
