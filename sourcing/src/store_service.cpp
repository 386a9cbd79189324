#include "eda/sourcing/store_service.hpp"

#include "eda/clock.hpp"
#include "eda/endpoint.hpp"
#include "eda/sourcing/store_support.hpp"
#include "eda/wire.hpp"

namespace eda::sourcing {
namespace {

namespace method {
constexpr std::string_view append = "Append";
constexpr std::string_view read_stream = "ReadStream";
constexpr std::string_view read_all = "ReadAll";
constexpr std::string_view stream_version = "StreamVersion";
constexpr std::string_view last_position = "LastPosition";
constexpr std::string_view save_snapshot = "SaveSnapshot";
constexpr std::string_view load_snapshot = "LoadSnapshot";
}  // namespace method

/// Frames of a request from a REQ client, as the ROUTER sees them: identity, empty
/// delimiter, method, body.
constexpr std::size_t request_frames = 4;
/// Frames of a tagged request from a pipelining DEALER client (AppendPipeline): identity,
/// empty delimiter, tag, method, body. The reply carries the tag back in the same place.
constexpr std::size_t tagged_request_frames = 5;

std::vector<WireRecord> to_wire(const std::vector<RecordedEvent>& events) {
  std::vector<WireRecord> records;
  records.reserve(events.size());
  for (const RecordedEvent& e : events) {
    records.push_back(WireRecord{e.stream, e.version, e.position, std::string(e.event.bytes())});
  }
  return records;
}

std::vector<RecordedEvent> from_wire(std::string_view reply) {
  std::vector<RecordedEvent> events;
  for (WireRecord& r : decode_value<std::vector<WireRecord>>(reply, "read reply")) {
    events.push_back(detail::recorded(std::move(r.stream), r.version, r.position, r.envelope));
  }
  return events;
}

}  // namespace

/// Who sent a request: the connection's identity and, for a tagged request, its tag.
struct StoreService::Caller {
  zmq::message_t identity;
  std::optional<zmq::message_t> tag;
};

/// An append waiting for the group commit: who asked, and what.
struct StoreService::PendingAppend {
  Caller caller;
  AppendRequest request;
};

StoreService::StoreService(zmq::context_t& context, EventStore& store, StoreServiceOptions options)
    : store_(store), options_(std::move(options)), socket_(context, zmq::socket_type::router) {
  if (options_.endpoints.empty() || options_.max_group == 0) {
    throw std::invalid_argument("a store service needs an endpoint and a max_group of at least 1");
  }
  socket_.set(zmq::sockopt::linger, 0);
  socket_.set(zmq::sockopt::maxmsgsize, options_.max_request_bytes);
  apply_heartbeat(socket_, options_.heartbeat, "the store service");
  (void)secure_server_socket(context, socket_, options_.security, "the store service");
  for (const std::string& endpoint : options_.endpoints) {
    endpoints_.push_back(connectable_endpoint(bind_endpoint(socket_, endpoint)));
  }
}

void StoreService::reply(const Caller& caller, std::string_view status, std::string_view body) {
  // Replies never block: a client that went away just loses its reply (and its RpcClient
  // retries, which idempotent appends make safe).
  constexpr auto more = zmq::send_flags::sndmore | zmq::send_flags::dontwait;
  (void)socket_.send(zmq::const_buffer(caller.identity.data(), caller.identity.size()), more);
  (void)socket_.send(zmq::const_buffer(nullptr, 0), more);
  if (caller.tag)
    (void)socket_.send(zmq::const_buffer(caller.tag->data(), caller.tag->size()), more);
  (void)socket_.send(zmq::const_buffer(status.data(), status.size()),
                     zmq::send_flags::sndmore | zmq::send_flags::dontwait);
  (void)socket_.send(zmq::const_buffer(body.data(), body.size()), zmq::send_flags::dontwait);
}

std::string StoreService::answer_read(std::string_view name, std::string_view body) {
  if (name == method::read_stream) {
    const auto r = decode_value<ReadStreamBody>(body, "ReadStream body");
    return encode_value(to_wire(store_.read_stream(
        r.stream, r.from, r.max_count, r.backward ? Direction::backward : Direction::forward)));
  }
  if (name == method::read_all) {
    const auto r = decode_value<ReadAllBody>(body, "ReadAll body");
    return encode_value(to_wire(store_.read_all(r.from, r.max_count)));
  }
  if (name == method::stream_version) {
    return encode_value(store_.stream_version(decode_value<std::string>(body, "stream name")));
  }
  if (name == method::last_position) {
    return encode_value(store_.last_position());
  }
  if (name == method::save_snapshot) {
    const auto s = decode_value<WireSnapshot>(body, "SaveSnapshot body");
    store_.save_snapshot(s.stream, Snapshot{s.version, s.schema_version, s.state});
    return encode_value(msgpack::type::nil_t());
  }
  if (name == method::load_snapshot) {
    const std::string stream = decode_value<std::string>(body, "stream name");
    const auto snapshot = store_.load_snapshot(stream);
    return encode_value(std::tuple{
        snapshot.has_value(), snapshot ? WireSnapshot{stream, snapshot->version,
                                                      snapshot->schema_version, snapshot->state}
                                       : WireSnapshot{}});
  }
  throw MalformedMessage(WireFault::unprocessable, "unknown method '" + printable(name) + "'");
}

void StoreService::receive_requests(std::vector<PendingAppend>& group) {
  // Take everything that is waiting: reads are answered at once, appends gathered.
  std::vector<zmq::message_t> frames;
  while (group.size() < options_.max_group) {
    const std::size_t count =
        receive_frames(socket_, frames, tagged_request_frames, zmq::recv_flags::dontwait);
    if (count == 0) break;
    const bool tagged = count == tagged_request_frames;
    Caller caller{std::move(frames[0]), {}};
    if (tagged) caller.tag = std::move(frames[2]);
    if ((count != request_frames && !tagged) || frames[1].size() != 0) {
      ++stats_.bad_requests;
      if (count >= 2 && frames[1].size() == 0) {
        caller.tag.reset();  // a malformed request's frames say nothing sure about a tag
        reply(caller, "bad_request", "a request is [method, body] or [tag, method, body]");
      }
      continue;  // without the REQ delimiter there is no way to answer
    }
    const std::string_view name = view_of(frames[tagged ? 3 : 2]);
    const std::string_view body = view_of(frames[tagged ? 4 : 3]);
    try {
      if (name == method::append) {
        auto a = decode_value<AppendBody>(body, "Append body");
        AppendRequest request{
            std::move(a.stream), ExpectedVersion::from(a.expected_kind, a.expected_version), {}};
        request.events.reserve(a.events.size());
        for (WireEvent& e : a.events) {
          request.events.push_back(
              EventData{std::move(e.event_id), std::move(e.type), std::move(e.envelope)});
        }
        group.push_back(PendingAppend{std::move(caller), std::move(request)});
      } else {
        const std::string answer = answer_read(name, body);
        ++stats_.reads;
        reply(caller, "ok", answer);
      }
    } catch (const CorruptEvent& e) {
      reply(caller, "corrupt", e.what());  // the store's data, not the request, is bad
    } catch (const MalformedMessage& e) {
      ++stats_.bad_requests;
      reply(caller, "bad_request", e.what());
    } catch (const std::invalid_argument& e) {
      ++stats_.bad_requests;
      reply(caller, "rejected", e.what());
    } catch (const std::exception& e) {
      reply(caller, "error", e.what());
    }
  }
}

std::vector<AppendOutcome> StoreService::commit(std::vector<PendingAppend>& group) {
  std::vector<AppendRequest> requests;
  requests.reserve(group.size());
  for (PendingAppend& pending : group) requests.push_back(std::move(pending.request));
  try {
    return store_.append_all(requests);  // one commit
  } catch (const std::exception& e) {
    // A store's append_all() reports failures as values; should one throw anyway, every
    // append of the group has failed, and each writer is told.
    std::vector<AppendOutcome> outcomes(requests.size());
    for (std::size_t i = 0; i < requests.size(); ++i) {
      AppendFailure failure;
      failure.message = e.what();
      failure.stream = requests[i].stream;
      failure.expected = requests[i].expected;
      outcomes[i].failure = std::move(failure);
    }
    return outcomes;
  }
}

void StoreService::answer_group(const std::vector<PendingAppend>& group,
                                const std::vector<AppendOutcome>& outcomes) {
  ++stats_.groups;
  for (std::size_t i = 0; i < group.size(); ++i) {
    ++stats_.appends;
    if (outcomes[i].result) {
      const AppendResult& r = *outcomes[i].result;
      reply(group[i].caller, "ok",
            encode_value(AppendReply{r.first_version, r.last_version, r.first_position,
                                     r.last_position, r.already_stored}));
      continue;
    }
    const AppendFailure& failure = *outcomes[i].failure;
    switch (failure.kind) {
      case AppendFailure::Kind::conflict:
        reply(group[i].caller, "conflict",
              encode_value(ConflictBody{failure.stream, failure.actual_version, failure.message}));
        break;
      case AppendFailure::Kind::rejected:
        reply(group[i].caller, "rejected", failure.message);
        break;
      case AppendFailure::Kind::failed:
      case AppendFailure::Kind::unknown:  // a store behind a store: its answer was lost
        reply(group[i].caller, "error", failure.message);
        break;
    }
  }
}

bool StoreService::serve_once(std::chrono::milliseconds wait) {
  if (!wait_readable(socket_, wait)) {
    return false;
  }
  std::vector<PendingAppend> group;
  receive_requests(group);
  if (!group.empty()) answer_group(group, commit(group));
  return true;
}

void StoreService::serve_while(const std::function<bool()>& keep_going,
                               std::chrono::milliseconds tick) {
  while (keep_going()) {
    (void)serve_once(tick);
  }
}

RemoteEventStore::RemoteEventStore(zmq::context_t& context, RpcClientOptions options)
    : client_(context, std::move(options)) {}

AppendResult RemoteEventStore::append(std::string_view stream, const ExpectedVersion& expected,
                                      std::span<const EventData> events) {
  detail::check_batch(stream, events);  // refuse bad input here, before the network
  AppendBody body{
      std::string(stream), static_cast<std::uint8_t>(expected.kind()), expected.version(), {}};
  for (const EventData& e : events)
    body.events.push_back(WireEvent{e.event_id, e.type, e.envelope});
  try {
    const auto r =
        decode_value<AppendReply>(call(method::append, encode_value(body)), "Append reply");
    return AppendResult{r.first_version, r.last_version, r.first_position, r.last_position,
                        r.already_stored};
  } catch (const RpcError& e) {
    if (e.status() == "conflict") {
      const auto conflict = decode_value<ConflictBody>(e.body(), "conflict reply");
      throw ConcurrencyConflict(conflict.stream, expected, conflict.actual);
    }
    if (e.status() == "rejected") {
      throw std::invalid_argument(e.body());
    }
    throw;
  }
}

std::string RemoteEventStore::call(std::string_view method, const std::string& body) const {
  std::lock_guard lock(mutex_);
  try {
    return client_.call(method, body);
  } catch (const RpcError& e) {
    if (e.status() == "corrupt") {
      throw CorruptEvent(e.body());  // the same error a local store would have raised
    }
    throw;
  }
}

std::vector<RecordedEvent> RemoteEventStore::read_stream(std::string_view stream,
                                                         std::uint64_t from, std::size_t max_count,
                                                         Direction direction) const {
  return from_wire(
      call(method::read_stream, encode_value(ReadStreamBody{std::string(stream), from, max_count,
                                                            direction == Direction::backward})));
}

std::vector<RecordedEvent> RemoteEventStore::read_all(std::uint64_t from,
                                                      std::size_t max_count) const {
  return from_wire(call(method::read_all, encode_value(ReadAllBody{from, max_count})));
}

std::uint64_t RemoteEventStore::stream_version(std::string_view stream) const {
  return decode_value<std::uint64_t>(
      call(method::stream_version, encode_value(std::string(stream))), "version");
}

std::uint64_t RemoteEventStore::last_position() const {
  return decode_value<std::uint64_t>(
      call(method::last_position, encode_value(msgpack::type::nil_t())), "position");
}

void RemoteEventStore::save_snapshot(std::string_view stream, const Snapshot& snapshot) {
  (void)call(method::save_snapshot,
             encode_value(WireSnapshot{std::string(stream), snapshot.version,
                                       snapshot.schema_version, snapshot.state}));
}

std::optional<Snapshot> RemoteEventStore::load_snapshot(std::string_view stream) const {
  const auto [found, s] = decode_value<std::tuple<bool, WireSnapshot>>(
      call(method::load_snapshot, encode_value(std::string(stream))), "snapshot reply");
  if (!found) return std::nullopt;
  return Snapshot{s.version, s.schema_version, s.state};
}

}  // namespace eda::sourcing
