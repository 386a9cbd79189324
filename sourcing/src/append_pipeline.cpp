#include "eda/sourcing/append_pipeline.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <utility>

#include <msgpack.hpp>

#include "eda/clock.hpp"
#include "eda/endpoint.hpp"
#include "eda/sourcing/store_service.hpp"
#include "eda/sourcing/store_support.hpp"
#include "eda/wire.hpp"

namespace eda::sourcing {
namespace {

constexpr std::size_t most_in_flight = 10'000;

/// Frames of a reply as the DEALER sees them: empty delimiter, tag, status, body.
constexpr std::size_t reply_frames = 4;

/// A ticket as a tag frame: eight bytes, least significant first.
void write_tag(std::uint64_t ticket, unsigned char (&tag)[8]) {
  for (std::size_t i = 0; i < 8; ++i) tag[i] = static_cast<unsigned char>(ticket >> (8 * i));
}

/// The ticket in a tag frame, or 0 (no append's ticket) when the frame is not a tag.
std::uint64_t read_tag(const zmq::message_t& frame) {
  if (frame.size() != 8) return 0;
  const auto* bytes = static_cast<const unsigned char*>(frame.data());
  std::uint64_t ticket = 0;
  for (std::size_t i = 0; i < 8; ++i) ticket |= std::uint64_t{bytes[i]} << (8 * i);
  return ticket;
}

void pack_string(msgpack::packer<msgpack::sbuffer>& packer, std::string_view text) {
  packer.pack_str(static_cast<std::uint32_t>(text.size()));
  packer.pack_str_body(text.data(), static_cast<std::uint32_t>(text.size()));
}

/// An AppendBody, packed straight from the caller's events (the same bytes as
/// encode_value(AppendBody{...}), without copying every event into a WireEvent first).
void pack_append(msgpack::sbuffer& buffer, std::string_view stream, const ExpectedVersion& expected,
                 std::span<const EventData> events) {
  buffer.clear();
  msgpack::packer packer(buffer);
  packer.pack_array(4);
  pack_string(packer, stream);
  packer.pack(static_cast<std::uint8_t>(expected.kind()));
  packer.pack(expected.version());
  packer.pack_array(static_cast<std::uint32_t>(events.size()));
  for (const EventData& e : events) {
    packer.pack_array(3);
    pack_string(packer, e.event_id);
    pack_string(packer, e.type);
    pack_string(packer, e.envelope);
  }
}

AppendFailure failure(AppendFailure::Kind kind, ErrorCategory category, std::string message,
                      std::string_view stream, const ExpectedVersion& expected) {
  AppendFailure f;
  f.kind = kind;
  f.category = category;
  f.message = std::move(message);
  f.stream = std::string(stream);
  f.expected = expected;
  return f;
}

}  // namespace

AppendPipeline::AppendPipeline(zmq::context_t& context, AppendPipelineOptions options,
                               OutcomeHandler on_outcome)
    : context_(context), options_(std::move(options)), on_outcome_(std::move(on_outcome)) {
  validate_endpoint(options_.endpoint);
  if (options_.max_in_flight < 1 || options_.max_in_flight > most_in_flight) {
    throw std::invalid_argument("an append pipeline keeps 1 to 10000 appends in flight, not " +
                                std::to_string(options_.max_in_flight));
  }
  if (options_.timeout.count() <= 0) {
    throw std::invalid_argument("an append pipeline's timeout must be positive");
  }
  if (!on_outcome_) {
    throw std::invalid_argument("an append pipeline needs a handler for its outcomes");
  }
  connect();
}

void AppendPipeline::connect() {
  socket_ = zmq::socket_t(context_, zmq::socket_type::dealer);
  socket_.set(zmq::sockopt::linger, 0);
  // Room for every append in flight, so that sending never blocks, even while the service
  // is down (the appends then wait in the queue, and time out).
  const int room = static_cast<int>(std::max<std::size_t>(options_.max_in_flight + 1, 1000));
  socket_.set(zmq::sockopt::sndhwm, room);
  socket_.set(zmq::sockopt::rcvhwm, room);
  if (options_.max_reply_bytes > 0) socket_.set(zmq::sockopt::maxmsgsize, options_.max_reply_bytes);
  const std::string what = "append pipeline to " + options_.endpoint;
  apply_heartbeat(socket_, options_.heartbeat, what);
  (void)secure_client_socket(socket_, options_.security, what);
  socket_.connect(options_.endpoint);
  receive_timeout_ms_ = -1;
}

std::uint64_t AppendPipeline::append(std::string_view stream, const ExpectedVersion& expected,
                                     std::span<const EventData> events) {
  detail::check_batch(stream, events);  // refuse bad input here, before the network
  while (in_flight_.size() >= options_.max_in_flight) await_oldest();
  pack_append(body_, stream, expected, events);
  const std::uint64_t ticket = next_ticket_++;
  unsigned char tag[8];
  write_tag(ticket, tag);
  constexpr std::string_view method = "Append";
  (void)socket_.send(zmq::const_buffer(nullptr, 0), zmq::send_flags::sndmore);
  (void)socket_.send(zmq::const_buffer(tag, sizeof tag), zmq::send_flags::sndmore);
  (void)socket_.send(zmq::const_buffer(method.data(), method.size()), zmq::send_flags::sndmore);
  (void)socket_.send(zmq::const_buffer(body_.data(), body_.size()), zmq::send_flags::none);
  in_flight_.push_back(Sent{ticket, std::string(stream), expected, std::nullopt});
  ++stats_.sent;
  return ticket;
}

std::size_t AppendPipeline::poll() {
  const std::uint64_t before = stats_.answered;
  while (!in_flight_.empty() && receive_one(std::chrono::milliseconds(0))) {
  }
  return static_cast<std::size_t>(stats_.answered - before);
}

void AppendPipeline::flush() {
  while (!in_flight_.empty()) await_oldest();
}

bool AppendPipeline::receive_one(std::chrono::milliseconds wait) {
  const std::size_t count =
      receive_frames_within(socket_, frames_, reply_frames, wait, receive_timeout_ms_);
  if (count == 0) return false;
  const std::uint64_t ticket =
      count == reply_frames && frames_[0].size() == 0 ? read_tag(frames_[1]) : 0;
  // Tickets in flight are consecutive, oldest first, so a ticket's place is its distance
  // from the oldest.
  if (in_flight_.empty() || ticket < in_flight_.front().ticket ||
      ticket - in_flight_.front().ticket >= in_flight_.size()) {
    ++stats_.stray_replies;
    return true;
  }
  Sent& sent = in_flight_[static_cast<std::size_t>(ticket - in_flight_.front().ticket)];
  if (sent.answer) {
    ++stats_.stray_replies;  // answered twice: keep the first answer
    return true;
  }
  sent.answer = outcome_of(sent, view_of(frames_[2]), view_of(frames_[3]));
  ++stats_.answered;
  // Answers may come out of order (a request the service cannot read is refused at once,
  // ahead of the appends waiting for their commit), outcomes may not.
  while (!in_flight_.empty() && in_flight_.front().answer) {
    const Sent done = std::move(in_flight_.front());
    in_flight_.pop_front();
    on_outcome_(PipelinedOutcome{done.ticket, *done.answer});
  }
  return true;
}

void AppendPipeline::await_oldest() {
  if (in_flight_.empty()) return;
  const std::uint64_t oldest = in_flight_.front().ticket;
  // A signal ends a wait early; the loop waits again for what is left of the time.
  const Deadline deadline(options_.timeout);
  while (!in_flight_.empty() && in_flight_.front().ticket == oldest && !deadline.expired()) {
    (void)receive_one(std::max(deadline.remaining(), std::chrono::milliseconds(1)));
  }
  if (in_flight_.empty() || in_flight_.front().ticket != oldest) return;
  // No answer in time: the service is gone or the connection broke. Whatever is in flight
  // may or may not be stored; say so, and start a new connection so that a late answer
  // cannot be taken for a later append's.
  std::deque<Sent> lost;
  lost.swap(in_flight_);
  connect();
  ++stats_.reconnects;
  const std::string why = "no answer from the store service at " + options_.endpoint + " within " +
                          std::to_string(options_.timeout.count()) +
                          " ms: the append may be stored or not (append it again to know)";
  for (Sent& sent : lost) {
    AppendOutcome outcome;
    if (sent.answer) {
      outcome = std::move(*sent.answer);  // answered, only waiting for an older one
    } else {
      ++stats_.unknown;
      outcome.failure = failure(AppendFailure::Kind::unknown, ErrorCategory::timeout, why,
                                sent.stream, sent.expected);
    }
    on_outcome_(PipelinedOutcome{sent.ticket, std::move(outcome)});
  }
}

AppendOutcome AppendPipeline::outcome_of(const Sent& sent, std::string_view status,
                                         std::string_view body) const {
  AppendOutcome outcome;
  try {
    if (status == "ok") {
      const auto r = decode_value<AppendReply>(body, "Append reply");
      outcome.result = AppendResult{r.first_version, r.last_version, r.first_position,
                                    r.last_position, r.already_stored};
    } else if (status == "conflict") {
      const auto c = decode_value<ConflictBody>(body, "conflict reply");
      outcome.failure = failure(AppendFailure::Kind::conflict, ErrorCategory::conflict, c.message,
                                sent.stream, sent.expected);
      outcome.failure->actual_version = c.actual;
    } else if (status == "rejected") {
      outcome.failure = failure(AppendFailure::Kind::rejected, ErrorCategory::application,
                                std::string(body), sent.stream, sent.expected);
    } else if (status == "error") {
      outcome.failure = failure(AppendFailure::Kind::failed, ErrorCategory::storage,
                                std::string(body), sent.stream, sent.expected);
    } else {
      // corrupt, bad_request, or not this protocol: the exchange itself went wrong.
      outcome.failure =
          failure(AppendFailure::Kind::failed, ErrorCategory::wire,
                  "the store service answered '" + printable(status) + "': " + printable(body),
                  sent.stream, sent.expected);
    }
  } catch (const MalformedMessage& e) {
    outcome.failure = failure(AppendFailure::Kind::failed, ErrorCategory::wire, e.what(),
                              sent.stream, sent.expected);
  }
  return outcome;
}

}  // namespace eda::sourcing
