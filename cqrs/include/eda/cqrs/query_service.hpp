/// @file query_service.hpp
/// @brief The read side as a service: queries answered from the read models only, never from
///        the write side, each answer saying which store position it reflects.
///
/// A query may carry a **consistency token**: the position a command returned. The service
/// then answers only once the read model has reached it — the caller reads its own write — or
/// says `timeout` when it does not get there in the time the caller allowed. Without a token
/// the answer comes at once, from wherever the read model is (eventual consistency). Waiting
/// queries are parked, not blocking: other queries are answered meanwhile.
///
/// Requests travel as the kit's RPC frames (REQ clients, a ROUTER here):
///
/// | method | request body | `ok` reply body |
/// |---|---|---|
/// | `CustomerOrders` | `[min_position, wait_ms, customer]` | `[[OrderSummary...], position]` |
/// | `SalesByDay` | `[min_position, wait_ms, first_day, last_day]` | `[[ProductDaySales...], position]` |
/// | `AwaitingShipment` | `[min_position, wait_ms, limit]` | `[[AwaitingShipment...], position]` |
///
/// Other statuses: `timeout` (the token was not reached in time; body: how far the read model
/// got), `rejected` (bad parameters, e.g. a day that is not one), `busy` (too many queries
/// waiting), `bad_request`, `unknown_method`.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include <zmq.hpp>

#include "eda/clock.hpp"
#include "eda/cqrs/read_models.hpp"
#include "eda/errors.hpp"
#include "eda/pubsub.hpp"
#include "eda/rpc.hpp"

namespace eda::cqrs {

/// @brief How fresh an answer must be.
struct Consistency {
  /// The consistency token: answer only from read models that reached this store position
  /// (0: whatever they hold now).
  std::uint64_t min_position = 0;
  /// How long the service may wait for it before answering `timeout`.
  std::chrono::milliseconds wait{0};
};

/// @brief The read model did not reach the consistency token in the time allowed. Category:
///        ErrorCategory::timeout.
class ConsistencyTimeout : public Error {
 public:
  /// @brief A timeout with `message`.
  explicit ConsistencyTimeout(const std::string& message)
      : Error(ErrorCategory::timeout, message) {}
};

/// @brief How a QueryService is set up.
struct QueryServiceOptions {
  std::vector<std::string> endpoints{};  ///< Where clients connect.
  /// A projector's ProjectionAdvanced endpoint: waiting queries wake as soon as it commits
  /// (empty: they look at the checkpoints every `poll`).
  std::string projector{};
  /// While queries wait, the checkpoints are also looked at this often (a lost announcement
  /// costs at most this much delay).
  std::chrono::milliseconds poll{50};
  std::chrono::milliseconds max_wait{30'000};  ///< Longer waits asked for are cut to this.
  std::size_t max_waiting = 10'000;            ///< Parked queries at most; more get `busy`.
  /// Parked queries of one client connection at most; more get `busy`. (A QueryClient has
  /// one query out at a time; the limit keeps one misbehaving peer from taking every slot.)
  std::size_t max_waiting_per_client = 16;
  std::int64_t max_request_bytes = 1 << 20;  ///< Larger requests drop the connection.
  /// ZMTP heartbeats: a client that stops answering (frozen, its host gone) has its
  /// connection closed, and the queries it left waiting are dropped when they expire.
  Heartbeat heartbeat{};
  /// Plaintext (the default) or CURVE: the service binds (a CURVE server) and subscribes to
  /// the projector (a CURVE client), so a CURVE Security here holds both halves
  /// (CurveSetup::both()).
  Security security{};
};

/// @brief Counters a QueryService keeps.
struct QueryServiceStats {
  std::uint64_t answered = 0;      ///< Queries answered `ok`.
  std::uint64_t waited = 0;        ///< Of those, answered after waiting for their token.
  std::uint64_t timeouts = 0;      ///< Tokens not reached in time.
  std::uint64_t rejected = 0;      ///< Bad parameters.
  std::uint64_t bad_requests = 0;  ///< Not this protocol, or unknown methods.
};

/// @brief Answers the shop's queries from ReadModels over ZeroMQ.
///
/// @par Waiting queries and vanished clients
/// A query whose token is not reached yet is parked (it never blocks the others) until the
/// projection reaches the token or its wait runs out. ZeroMQ does not tell a ROUTER that a
/// client went away, so the parked query of a client that died keeps its slot until its own
/// wait ends — at most `max_wait` — and then its answer is dropped. Two limits keep that
/// bounded: `max_waiting` in all, `max_waiting_per_client` per connection.
///
/// @par Thread safety
/// One thread at a time (it owns its sockets).
class QueryService {
 public:
  /// @brief Serves `read_models` (which must outlive it) at `options.endpoints`.
  QueryService(zmq::context_t& context, const ReadModels& read_models, QueryServiceOptions options);
  ~QueryService();
  QueryService(const QueryService&) = delete;             ///< Owns sockets.
  QueryService& operator=(const QueryService&) = delete;  ///< Owns sockets.

  /// @brief Where it listens (connectable form).
  [[nodiscard]] const std::vector<std::string>& endpoints() const noexcept { return endpoints_; }

  /// @brief Waits up to `wait` for queries or projector progress, answers every query that
  ///        can be answered and every wait that ran out; false when nothing happened.
  bool serve_once(std::chrono::milliseconds wait);

  /// @brief Serves until `keep_going()` returns false (checked at least every `tick`).
  void serve_while(const std::function<bool()>& keep_going,
                   std::chrono::milliseconds tick = std::chrono::milliseconds(50));

  /// @brief Queries waiting for their token now.
  [[nodiscard]] std::size_t waiting() const noexcept;

  /// @brief Counters so far.
  [[nodiscard]] const QueryServiceStats& stats() const noexcept { return stats_; }

 private:
  struct Query;
  void receive_queries();
  void answer_waiting();
  bool try_answer(Query& query);
  void reply(const zmq::message_t& client, std::string_view status, std::string_view body);
  void park(Query query);
  std::deque<Query>::iterator unpark(std::deque<Query>::iterator query);

  const ReadModels& read_models_;
  QueryServiceOptions options_;
  zmq::socket_t socket_;
  std::unique_ptr<Subscriber> progress_;
  std::vector<std::string> endpoints_{};
  std::deque<Query> waiting_;
  std::unordered_map<std::string, std::size_t> waiting_per_client_;  // by routing id
  QueryServiceStats stats_;
};

/// @brief Asks a QueryService.
///
/// @par Example
/// @code
/// QueryClient queries(context, {.endpoint = "tcp://127.0.0.1:5802"});
/// auto mine = queries.customer_orders("alice", {.min_position = placed.position,
///                                               .wait = std::chrono::seconds(2)});
/// @endcode
///
/// @par Thread safety
/// One thread at a time.
class QueryClient {
 public:
  /// @brief A client of the service at `options.endpoint` (queries are safe to retry).
  QueryClient(zmq::context_t& context, RpcClientOptions options);

  /// @brief The customer's orders. Throws ConsistencyTimeout, std::invalid_argument for
  ///        parameters the service rejected, RpcTimeout or RpcError.
  Reflecting<std::vector<OrderSummary>> customer_orders(const std::string& customer,
                                                        const Consistency& consistency = {});
  /// @brief Sales per product per day (see customer_orders() for errors).
  Reflecting<std::vector<ProductDaySales>> sales_by_day(const std::string& first_day,
                                                        const std::string& last_day,
                                                        const Consistency& consistency = {});
  /// @brief Orders waiting for shipment (see customer_orders() for errors).
  Reflecting<std::vector<AwaitingShipment>> awaiting_shipment(std::size_t limit,
                                                              const Consistency& consistency = {});

 private:
  template <class Rows, class Request>
  Reflecting<Rows> ask(std::string_view method, const Request& request,
                       const Consistency& consistency);
  RpcClient client_;
};

}  // namespace eda::cqrs
