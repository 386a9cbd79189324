#include "eda/cqrs/query_service.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <tuple>

#include "eda/cqrs/projections.hpp"
#include "eda/cqrs/projector.hpp"
#include "eda/endpoint.hpp"
#include "eda/wire.hpp"

namespace eda::cqrs {

namespace {

// Request bodies: the consistency token and the wait first, then the query's parameters.
using CustomerOrdersRequest = std::tuple<std::uint64_t, std::uint32_t, std::string>;
using SalesByDayRequest = std::tuple<std::uint64_t, std::uint32_t, std::string, std::string>;
using AwaitingShipmentRequest = std::tuple<std::uint64_t, std::uint32_t, std::uint64_t>;

constexpr std::size_t request_frames = 4;  // client identity, empty delimiter, method, body
constexpr std::size_t max_requests_per_round = 1000;  // then parked queries get their turn

/// An answer as it goes on the wire, and the position it reflects.
struct Answer {
  std::string body;
  std::uint64_t position = 0;
};

template <class Rows>
Answer answer_of(const Reflecting<Rows>& reflecting) {
  return Answer{encode_value(reflecting), reflecting.position};
}

std::uint32_t wait_ms_of(std::chrono::milliseconds wait) {
  return static_cast<std::uint32_t>(
      std::clamp<std::int64_t>(wait.count(), 0, std::numeric_limits<std::uint32_t>::max()));
}

/// A client connection's routing id, as a key.
std::string routing_id_of(const zmq::message_t& client) { return std::string(view_of(client)); }

}  // namespace

/// One query: who asked, what they need, and how to answer it (again, while it waits).
struct QueryService::Query {
  zmq::message_t client;
  std::string_view projection;  // the read model it is answered from
  std::uint64_t min_position = 0;
  std::chrono::milliseconds wait{0};
  std::function<Answer()> run;
  std::optional<Deadline> deadline;
};

QueryService::QueryService(zmq::context_t& context, const ReadModels& read_models,
                           QueryServiceOptions options)
    : read_models_(read_models),
      options_(std::move(options)),
      socket_(context, zmq::socket_type::router) {
  if (options_.endpoints.empty()) {
    throw std::invalid_argument("a query service needs an endpoint to listen on");
  }
  if (options_.poll <= std::chrono::milliseconds(0) || options_.max_waiting == 0 ||
      options_.max_waiting_per_client == 0) {
    throw std::invalid_argument(
        "a query service needs a positive poll and room for one waiting query");
  }
  socket_.set(zmq::sockopt::linger, 0);
  socket_.set(zmq::sockopt::maxmsgsize, options_.max_request_bytes);
  apply_heartbeat(socket_, options_.heartbeat, "the query service");
  (void)secure_server_socket(context, socket_, options_.security, "the query service");
  for (const std::string& endpoint : options_.endpoints) {
    endpoints_.push_back(connectable_endpoint(bind_endpoint(socket_, endpoint)));
  }
  if (!options_.projector.empty()) {
    progress_ = std::make_unique<Subscriber>(
        context, SubscriberOptions{.endpoints = {options_.projector},
                                   .topics = {std::string(ProjectionAdvanced::event_type)},
                                   .receive_high_water_mark = 1000,
                                   .name = "query service",
                                   .detect_gaps = false,
                                   .security = options_.security});
  }
}

QueryService::~QueryService() = default;

std::size_t QueryService::waiting() const noexcept { return waiting_.size(); }

void QueryService::reply(const zmq::message_t& client, std::string_view status,
                         std::string_view body) {
  // Replies never block: a client that went away just loses its answer.
  const auto more = zmq::send_flags::sndmore | zmq::send_flags::dontwait;
  (void)socket_.send(zmq::const_buffer(client.data(), client.size()), more);
  (void)socket_.send(zmq::const_buffer(nullptr, 0), more);
  (void)socket_.send(zmq::const_buffer(status.data(), status.size()), more);
  (void)socket_.send(zmq::const_buffer(body.data(), body.size()), zmq::send_flags::dontwait);
}

void QueryService::park(Query query) {
  ++waiting_per_client_[routing_id_of(query.client)];
  query.deadline.emplace(std::min(query.wait, options_.max_wait));
  waiting_.push_back(std::move(query));
}

std::deque<QueryService::Query>::iterator QueryService::unpark(std::deque<Query>::iterator query) {
  const auto count = waiting_per_client_.find(routing_id_of(query->client));
  if (count != waiting_per_client_.end() && --count->second == 0) waiting_per_client_.erase(count);
  return waiting_.erase(query);
}

bool QueryService::try_answer(Query& query) {
  Answer answer = query.run();
  if (answer.position < query.min_position) {
    return false;
  }
  ++stats_.answered;
  if (query.deadline) ++stats_.waited;
  reply(query.client, "ok", answer.body);
  return true;
}

void QueryService::receive_queries() {
  std::vector<zmq::message_t> frames;
  for (std::size_t round = 0; round < max_requests_per_round; ++round) {
    const std::size_t count =
        receive_frames(socket_, frames, request_frames, zmq::recv_flags::dontwait);
    if (count == 0) return;
    if (count != request_frames || frames[1].size() != 0) {
      ++stats_.bad_requests;
      if (count >= 2 && frames[1].size() == 0)
        reply(frames[0], "bad_request", "a request is [method, body]");
      continue;  // without the REQ delimiter there is no way to answer
    }
    const std::string_view method = view_of(frames[2]);
    const std::string_view body = view_of(frames[3]);
    Query query{zmq::message_t(frames[0].data(), frames[0].size()), {}, 0, {}, {}, {}};
    try {
      const ReadModels& read = read_models_;
      if (method == "CustomerOrders") {
        auto [min, wait, customer] =
            decode_value<CustomerOrdersRequest>(body, "CustomerOrders request");
        query.projection = customer_orders_projection;
        query.min_position = min;
        query.wait = std::chrono::milliseconds(wait);
        query.run = [&read, customer = std::move(customer)] {
          return answer_of(read.read_customer_orders(customer));
        };
      } else if (method == "SalesByDay") {
        auto [min, wait, first, last] = decode_value<SalesByDayRequest>(body, "SalesByDay request");
        (void)parse_day(first, "first_day");  // refused now, not after a wait
        (void)parse_day(last, "last_day");
        query.projection = sales_projection;
        query.min_position = min;
        query.wait = std::chrono::milliseconds(wait);
        query.run = [&read, first = std::move(first), last = std::move(last)] {
          return answer_of(read.read_sales_by_day(first, last));
        };
      } else if (method == "AwaitingShipment") {
        auto [min, wait, limit] =
            decode_value<AwaitingShipmentRequest>(body, "AwaitingShipment request");
        query.projection = shipment_projection;
        query.min_position = min;
        query.wait = std::chrono::milliseconds(wait);
        query.run = [&read, limit = limit] {
          return answer_of(read.read_awaiting_shipment(static_cast<std::size_t>(limit)));
        };
      } else {
        ++stats_.bad_requests;
        reply(query.client, "unknown_method", "no query named '" + printable(method) + "'");
        continue;
      }
      if (try_answer(query)) continue;
      if (query.wait.count() == 0) {
        ++stats_.timeouts;
        reply(query.client, "timeout",
              "the read model is at position " + std::to_string(read.checkpoint(query.projection)) +
                  ", not yet at " + std::to_string(query.min_position) +
                  ", and the query allowed no wait");
      } else if (waiting_.size() >= options_.max_waiting) {
        reply(query.client, "busy",
              "too many queries are waiting for their consistency token; try again");
      } else if (const auto mine = waiting_per_client_.find(routing_id_of(query.client));
                 mine != waiting_per_client_.end() &&
                 mine->second >= options_.max_waiting_per_client) {
        reply(query.client, "busy",
              "this connection has " + std::to_string(mine->second) +
                  " queries waiting for their consistency token already; try again");
      } else {
        park(std::move(query));
      }
    } catch (const MalformedMessage& e) {
      ++stats_.bad_requests;
      reply(query.client, "bad_request", e.what());
    } catch (const std::invalid_argument& e) {
      ++stats_.rejected;
      reply(query.client, "rejected", e.what());
    } catch (const std::exception& e) {
      reply(query.client, "error", e.what());
    }
  }
}

void QueryService::answer_waiting() {
  std::map<std::string_view, std::uint64_t> checkpoints;  // read once per round and projection
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    auto [checkpoint, fresh] = checkpoints.try_emplace(it->projection, 0);
    try {
      if (fresh) checkpoint->second = read_models_.checkpoint(it->projection);
      if (checkpoint->second >= it->min_position && try_answer(*it)) {
        it = unpark(it);
        continue;
      }
      if (it->deadline->expired()) {
        ++stats_.timeouts;
        reply(it->client, "timeout",
              "the read model reached position " + std::to_string(checkpoint->second) + ", not " +
                  std::to_string(it->min_position) + ", within " +
                  std::to_string(it->wait.count()) + " ms: is the projector running?");
        it = unpark(it);
        continue;
      }
    } catch (const std::exception& e) {
      reply(it->client, "error", e.what());
      it = unpark(it);
      continue;
    }
    ++it;
  }
}

bool QueryService::serve_once(std::chrono::milliseconds wait) {
  std::chrono::milliseconds timeout = wait;
  for (const Query& query : waiting_) {
    timeout = std::min({timeout, options_.poll, query.deadline->remaining()});
  }
  zmq::pollitem_t items[] = {
      {socket_.handle(), 0, ZMQ_POLLIN, 0},
      {progress_ ? progress_->socket().handle() : nullptr, 0, ZMQ_POLLIN, 0}};
  try {
    zmq::poll(items, progress_ ? 2 : 1, timeout);
  } catch (const zmq::error_t& e) {
    if (e.num() != EINTR) throw;
    return false;  // a signal: the caller looks at its flags
  }
  bool happened = false;
  if (progress_ && (items[1].revents & ZMQ_POLLIN) != 0) {
    while (progress_->receive(std::chrono::milliseconds(0))) {
    }  // one look at the checkpoints serves every announcement
    happened = true;
  }
  if ((items[0].revents & ZMQ_POLLIN) != 0) {
    receive_queries();
    happened = true;
  }
  if (!waiting_.empty()) {
    answer_waiting();
  }
  return happened;
}

void QueryService::serve_while(const std::function<bool()>& keep_going,
                               std::chrono::milliseconds tick) {
  while (keep_going()) {
    (void)serve_once(tick);
  }
}

QueryClient::QueryClient(zmq::context_t& context, RpcClientOptions options)
    : client_(context, std::move(options)) {}

template <class Rows, class Request>
Reflecting<Rows> QueryClient::ask(std::string_view method, const Request& request,
                                  const Consistency& consistency) {
  try {
    return decode_value<Reflecting<Rows>>(
        client_.call(method, encode_value(request), consistency.wait),
        "reply to " + std::string(method));
  } catch (const RpcError& e) {
    if (e.status() == "timeout") throw ConsistencyTimeout(e.body());
    if (e.status() == "rejected") throw std::invalid_argument(e.body());
    throw;
  }
}

Reflecting<std::vector<OrderSummary>> QueryClient::customer_orders(const std::string& customer,
                                                                   const Consistency& consistency) {
  return ask<std::vector<OrderSummary>>(
      "CustomerOrders",
      CustomerOrdersRequest{consistency.min_position, wait_ms_of(consistency.wait), customer},
      consistency);
}

Reflecting<std::vector<ProductDaySales>> QueryClient::sales_by_day(const std::string& first_day,
                                                                   const std::string& last_day,
                                                                   const Consistency& consistency) {
  return ask<std::vector<ProductDaySales>>(
      "SalesByDay",
      SalesByDayRequest{consistency.min_position, wait_ms_of(consistency.wait), first_day,
                        last_day},
      consistency);
}

Reflecting<std::vector<AwaitingShipment>> QueryClient::awaiting_shipment(
    std::size_t limit, const Consistency& consistency) {
  return ask<std::vector<AwaitingShipment>>(
      "AwaitingShipment",
      AwaitingShipmentRequest{consistency.min_position, wait_ms_of(consistency.wait), limit},
      consistency);
}

}  // namespace eda::cqrs
