// fuzz-seeds: writes the seed corpus of every fuzz target, made of real encoded messages of
// each kind (plus a few near misses), into <dir>/<target>/<name>. Deterministic: event ids,
// timestamps and incarnations are fixed, so regenerating changes nothing that did not change.
//
//   build/<preset>/fuzz/fuzz-seeds fuzz/corpus
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <tuple>
#include <vector>

#include "codec_types.hpp"
#include "eda/cqrs/projector.hpp"
#include "eda/notification/shop.hpp"
#include "eda/scaling/group_protocol.hpp"
#include "eda/sourcing/order_repository.hpp"
#include "eda/sourcing/store_service.hpp"
#include "eda/sourcing/subscription.hpp"
#include "eda/state_transfer/customer.hpp"
#include "eda/state_transfer/snapshot_protocol.hpp"
#include "fuzz_support.hpp"
#include "shop_history.hpp"

namespace {

namespace fs = std::filesystem;
namespace s = eda::sourcing;
namespace n = eda::notification;
namespace st = eda::state_transfer;
using Frames = std::vector<std::string>;

fs::path root;
int written = 0;

void write(const std::string& target, const std::string& name, const std::string& bytes) {
  const fs::path dir = root / target;
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << bytes;
  ++written;
}

void write_frames(const std::string& target, const std::string& name, const Frames& frames) {
  const std::string joined = eda::fuzz::join_frames(frames);
  if (eda::fuzz::split_frames(joined).size() != frames.size()) {
    std::fprintf(stderr, "fuzz-seeds: %s/%s holds the frame separator; skipped\n", target.c_str(),
                 name.c_str());
    return;
  }
  write(target, name, joined);
}

/// Deterministic metadata for the `n`th seed event of type P.
template <class P>
eda::EventMetadata meta_for(std::uint64_t n, std::string source = "seed-service") {
  char id[33];
  std::snprintf(id, sizeof id, "%012llx%020llx", 0x19ab0000000ULL + n, 0xabcdef0000ULL + n);
  eda::EventMetadata meta;
  meta.event_id = id;
  meta.type = std::string(P::event_type);
  meta.source = std::move(source);
  meta.sequence = n;
  meta.timestamp_ns = eda::fuzz::history_time_ns + static_cast<std::int64_t>(n);
  meta.schema_version = P::schema_version;
  meta.correlation_id = id;
  meta.causation_id = n > 1 ? std::string(32, 'c') : std::string();
  return meta;
}

template <class P>
std::string envelope(std::uint64_t n, const P& payload, std::string source = "seed-service") {
  msgpack::sbuffer buffer;
  eda::encode_event(meta_for<P>(n, std::move(source)), payload, buffer);
  return std::string(buffer.data(), buffer.size());
}

/// The same event as a format 1 envelope (what publishers and stores wrote before the record):
/// the seeds keep the kit's reader of it covered.
std::string format1_envelope(std::string_view record) {
  const eda::DecodedEvent event = eda::DecodedEvent::decode(record);
  return eda::encode_format1_envelope(event.meta(), event.payload());
}

/// The stored form of an order event (the order's events, numbered from `n`).
std::string order_envelope(std::uint64_t n, const s::OrderEvent& event) {
  return std::visit([&](const auto& payload) { return envelope(n, payload, "order-service"); },
                    event);
}

constexpr std::uint64_t incarnation = 0x1234'5678'9abc'def0ULL;

std::vector<std::pair<std::string, std::string>> sample_envelopes() {
  std::vector<std::pair<std::string, std::string>> out;
  out.emplace_back("notification-order-placed", envelope(1, n::OrderPlaced{42}));
  out.emplace_back("notification-stock-reserved", envelope(2, n::StockReserved{42, "widget", 3}));
  out.emplace_back("notification-payment-charged",
                   envelope(3, n::PaymentCharged{42, "alice", 3750}));
  out.emplace_back("sourcing-order-placed", envelope(4, s::OrderPlaced{"alice"}));
  out.emplace_back("sourcing-item-added-v2", envelope(5, s::ItemAdded{"widget", 2, 1250}));
  out.emplace_back("sourcing-item-added-v1", envelope(6, s::ItemAddedV1{"widget", 2, 12.5}));
  out.emplace_back("sourcing-order-paid", envelope(7, s::OrderPaid{2500}));
  out.emplace_back("sourcing-store-appended", envelope(8, s::EventsAppended{17}));
  out.emplace_back("cqrs-projection-advanced", envelope(9, eda::cqrs::ProjectionAdvanced{17}));
  st::CustomerGenerator customers(7);
  out.emplace_back("state-customer-updated",
                   envelope(10, st::CustomerUpdated{incarnation, customers.make(5)}));
  out.emplace_back("state-customer-removed", envelope(11, st::CustomerRemoved{incarnation, 5}));
  out.emplace_back("state-heartbeat", envelope(12, st::SourceHeartbeat{incarnation, 25, 250}));
  return out;
}

void envelope_seeds() {
  for (const auto& [name, bytes] : sample_envelopes()) {
    write("envelope", name, bytes);
    write("wire_frames", name, eda::fuzz::join_frames({bytes}));
    const std::string format1 = format1_envelope(bytes);
    write("envelope", "format1-" + name, format1);
    write("wire_frames", "format1-" + name,
          eda::fuzz::join_frames({eda::DecodedEvent::decode(bytes).meta().type, format1}));
  }
  const std::string good = envelope(1, n::OrderPlaced{42});
  const std::size_t array_at = good.find('\0') + 1;  // the envelope array after the type
  write("envelope", "near-miss-truncated", good.substr(0, good.size() - 1));
  write("envelope", "near-miss-trailing-byte", good + '\x00');
  write("envelope", "near-miss-no-type-end", good.substr(0, array_at - 1));
  std::string eight_fields = good;
  eight_fields[array_at] = '\x98';
  write("envelope", "near-miss-eight-fields", eight_fields);
  std::string version3 = good;
  version3[array_at + 1] = '\x03';
  write("envelope", "near-miss-format-version-3", version3);
  const std::string format1 = format1_envelope(good);
  write("wire_frames", "near-miss-topic-mismatch",
        eda::fuzz::join_frames({"shop.order.paid", format1}));
  write("wire_frames", "near-miss-record-after-topic",
        eda::fuzz::join_frames({"shop.order.placed", good}));
  write("wire_frames", "near-miss-two-records", eda::fuzz::join_frames({good, good}));
  write("wire_frames", "near-miss-format1-alone", format1);
  write("wire_frames", "near-miss-three-frames",
        eda::fuzz::join_frames({"shop.order.placed", format1, ""}));
}

void codec_seeds() {
  using namespace eda::fuzz::codec_types;
  constexpr std::size_t count = eda::fuzz::codec_types::count(Types{});
  for_each_type(Types{}, [&]<class T>(std::size_t index) {
    const std::string bytes = eda::encode_value(T{});
    std::size_t json = index;
    while (json < 0x80) json += count;
    write("codec", "type-" + std::to_string(index) + "-default",
          std::string(1, static_cast<char>(index)) + bytes);
    if (json <= 0xff) {
      write("codec", "type-" + std::to_string(index) + "-default-json",
            std::string(1, static_cast<char>(json)) + bytes);
    }
  });
  // Values with content, for the types that matter most (the index is the type's place).
  const auto seed = [&](std::string name, const auto& value) {
    using T = std::decay_t<decltype(value)>;
    std::size_t found = count;
    for_each_type(Types{}, [&]<class U>(std::size_t index) {
      if (std::is_same_v<T, U>) found = index;
    });
    if (found == count) return;
    write("codec", name, std::string(1, static_cast<char>(found)) + eda::encode_value(value));
  };
  s::AppendBody append{"order-1", 2, 3, {}};
  append.events.push_back(
      s::WireEvent{"id-1", "shop.order.placed", order_envelope(1, s::OrderPlaced{"alice"})});
  seed("sourcing-append-body", append);
  seed("sourcing-read-reply",
       std::vector<s::WireRecord>{{"order-1", 1, 1, order_envelope(1, s::OrderPlaced{"alice"})}});
  s::OrderState state;
  state.status = s::OrderStatus::open;
  state.customer = "alice";
  state.lines["widget"] = s::OrderLine{2, 1250};
  seed("sourcing-order-state", state);
  seed("cqrs-command-accepted", eda::cqrs::CommandAccepted{1, 2, 3, {"shop.order.paid"}, 1});
  seed("cqrs-customer-orders", eda::cqrs::Reflecting<std::vector<eda::cqrs::OrderSummary>>{
                                   {{1, "alice", "open", 3, 3750}}, 7});
  seed("notification-order", n::Order{1, n::sample_order(1)});
  // One string for both ends: the begin and end of two temporaries are no range.
  const std::string replayed = envelope(1, n::OrderPlaced{1});
  seed("notification-replay-reply",
       n::ReplayReply{1, 2, {std::vector<char>(replayed.begin(), replayed.end())}});
  st::CustomerGenerator customers(7);
  seed("state-snapshot-chunk", st::SnapshotChunk{{customers.make(1), customers.make(2)}});
  seed("state-snapshot-end", st::SnapshotEnd{12, 2, incarnation, "customer-service"});
}

/// The `Typed` method's body in the rpc_server target.
struct TypedRequest {
  std::uint64_t id = 0;
  std::string name;
  std::vector<std::int32_t> values;
  MSGPACK_DEFINE(id, name, values)
};

void rpc_seeds() {
  write_frames("rpc_server", "echo", {"Echo", "hello"});
  write_frames("rpc_server", "typed",
               {"Typed", eda::encode_value(TypedRequest{7, "seven", {1, -2, 3}})});
  write_frames("rpc_server", "typed-wrong-shape",
               {"Typed", eda::encode_value(std::tuple<int, int>{1, 2})});
  write_frames("rpc_server", "fail", {"Fail", ""});
  write_frames("rpc_server", "unknown-method", {"Nope", "x"});
  write_frames("rpc_server", "one-frame", {"Echo"});
  write_frames("rpc_server", "three-frames", {"Echo", "a", "b"});
}

void store_seeds() {
  const std::string placed = order_envelope(1, s::OrderPlaced{"alice"});
  const std::string added = order_envelope(2, s::ItemAdded{"widget", 2, 1250});
  s::AppendBody append{"order-1", 1, 0, {}};
  append.events.push_back(
      s::WireEvent{eda::DecodedEvent::decode(placed).meta().event_id, "shop.order.placed", placed});
  append.events.push_back(s::WireEvent{eda::DecodedEvent::decode(added).meta().event_id,
                                       "shop.order.item-added", added});
  const auto request = [](const std::string& name, const std::string& method,
                          const std::string& body) {
    write_frames("store_service", name, {"", method, body});
  };
  request("append-new-stream", "Append", eda::encode_value(append));
  append.expected_kind = 2;
  append.expected_version = 2;
  request("append-exact-version", "Append", eda::encode_value(append));
  append.expected_kind = 7;
  request("append-bad-expectation", "Append", eda::encode_value(append));
  request("read-stream", "ReadStream",
          eda::encode_value(s::ReadStreamBody{"order-1", 1, 100, false}));
  request("read-stream-backward", "ReadStream",
          eda::encode_value(s::ReadStreamBody{"order-1", 0, 100, true}));
  request("read-all", "ReadAll", eda::encode_value(s::ReadAllBody{1, 1000}));
  request("stream-version", "StreamVersion", eda::encode_value(std::string("order-1")));
  request("last-position", "LastPosition", eda::encode_value(msgpack::type::nil_t()));
  request("save-snapshot", "SaveSnapshot",
          eda::encode_value(s::WireSnapshot{"order-1", 2, 1, eda::encode_value(s::OrderState{})}));
  request("load-snapshot", "LoadSnapshot", eda::encode_value(std::string("order-1")));
  request("unknown-method", "Truncate", "");
  write_frames("store_service", "no-delimiter", {"Append", eda::encode_value(append)});
  write_frames("store_service", "two-frames", {"", "LastPosition"});
}

void stored_event_seeds() {
  const Frames history{"", order_envelope(1, s::OrderPlaced{"alice"}),
                       order_envelope(2, s::ItemAdded{"widget", 2, 1250}),
                       envelope(3, s::ItemAddedV1{"gadget", 1, 9.99}, "order-service"),
                       order_envelope(4, s::ItemRemoved{"widget"})};
  write_frames("stored_events", "open-order", history);
  Frames paid = history;
  paid.push_back(order_envelope(5, s::OrderPaid{999}));
  paid.push_back(order_envelope(6, s::OrderShipped{"post"}));
  write_frames("stored_events", "shipped-order", paid);
  s::OrderState state;
  state.status = s::OrderStatus::open;
  state.customer = "alice";
  state.lines["widget"] = s::OrderLine{2, 1250};
  write_frames("stored_events", "snapshot-and-events",
               {eda::encode_value(state), order_envelope(1, s::OrderPlaced{"alice"}),
                order_envelope(2, s::ItemAdded{"gizmo", 1, 500})});
  write_frames("stored_events", "cancelled-order",
               {"", order_envelope(1, s::OrderPlaced{"bob"}),
                order_envelope(2, s::OrderCancelled{"changed my mind"})});
  write_frames("stored_events", "not-an-order-event",
               {"", envelope(1, n::StockReserved{1, "widget", 1})});
  // Edge values: a price far above what decide() allows (the store does not look at payloads).
  write_frames("stored_events", "price-2-pow-62",
               {"", order_envelope(1, s::OrderPlaced{"alice"}),
                order_envelope(2, s::ItemAdded{"gadget", 1, std::int64_t{1} << 62})});
}

void command_seeds() {
  using IdAndText = std::tuple<std::uint64_t, std::string>;
  write_frames("command_service", "place-order",
               {"PlaceOrder", eda::encode_value(IdAndText{1, "alice"})});
  write_frames("command_service", "add-item",
               {"AddItem", eda::encode_value(
                               std::tuple<std::uint64_t, std::string, std::uint32_t, std::int64_t>{
                                   1, "widget", 2, 1250})});
  write_frames("command_service", "remove-item",
               {"RemoveItem", eda::encode_value(IdAndText{1, "widget"})});
  write_frames("command_service", "pay",
               {"Pay", eda::encode_value(std::tuple<std::uint64_t, std::int64_t>{1, 2500})});
  write_frames("command_service", "ship", {"Ship", eda::encode_value(IdAndText{1, "post"})});
  write_frames("command_service", "cancel",
               {"Cancel", eda::encode_value(IdAndText{1, "changed my mind"})});
  write_frames("command_service", "unknown-method",
               {"Refund", eda::encode_value(IdAndText{1, "x"})});
  write_frames("command_service", "wrong-shape", {"Pay", eda::encode_value(IdAndText{1, "2500"})});
}

void query_seeds() {
  const auto query = [](const std::string& name, const std::string& method,
                        const std::string& body) {
    write_frames("query_service", name, {"", method, body});
  };
  const std::string day = eda::cqrs::utc_day(eda::fuzz::history_time_ns);
  query("customer-orders", "CustomerOrders",
        eda::encode_value(std::tuple<std::uint64_t, std::uint32_t, std::string>{0, 0, "alice"}));
  query("customer-orders-token", "CustomerOrders",
        eda::encode_value(
            std::tuple<std::uint64_t, std::uint32_t, std::string>{1'000'000, 100, "bob"}));
  query("sales-by-day", "SalesByDay",
        eda::encode_value(
            std::tuple<std::uint64_t, std::uint32_t, std::string, std::string>{0, 0, day, day}));
  query("sales-by-day-bad-day", "SalesByDay",
        eda::encode_value(std::tuple<std::uint64_t, std::uint32_t, std::string, std::string>{
            0, 0, "2026-02-30", day}));
  query("awaiting-shipment", "AwaitingShipment",
        eda::encode_value(std::tuple<std::uint64_t, std::uint32_t, std::uint64_t>{0, 0, 10}));
  query("unknown-method", "Everything", "");
  write_frames("query_service", "no-delimiter", {"CustomerOrders", ""});
  write_frames("query_service", "two-frames", {"", "CustomerOrders"});
}

void lines_seeds() {
  using Lines = std::map<std::string, s::OrderLine>;
  write("read_model_lines", "empty", "");
  write("read_model_lines", "no-lines", eda::encode_value(Lines{}));
  write("read_model_lines", "two-lines",
        eda::encode_value(Lines{{"widget", {2, 1250}}, {"gadget", {1, 999}}}));
  write("read_model_lines", "same-sku-as-the-item",
        eda::encode_value(Lines{{"widget", {1000, 100}}}));
  write("read_model_lines", "not-lines", eda::encode_value(std::vector<int>{1, 2, 3}));
  // Edge values: the largest price a line can hold without its total overflowing.
  write("read_model_lines", "price-2-pow-62",
        eda::encode_value(Lines{{"gadget", {1, std::int64_t{1} << 62}}}));
}

void notification_seeds() {
  write_frames("notification_api", "place-order",
               {"PlaceOrder", eda::encode_value(n::sample_order(3))});
  n::OrderRequest none = n::sample_order(4);
  none.quantity = 0;
  write_frames("notification_api", "place-order-quantity-0",
               {"PlaceOrder", eda::encode_value(none)});
  write_frames("notification_api", "get-order", {"GetOrder", eda::encode_value(std::uint64_t{2})});
  write_frames("notification_api", "get-unknown-order",
               {"GetOrder", eda::encode_value(std::uint64_t{999'999})});
  write_frames("notification_api", "replay-all",
               {"Replay", eda::encode_value(n::ReplayRequest{0, 1000})});
  write_frames("notification_api", "replay-page",
               {"Replay", eda::encode_value(n::ReplayRequest{2, 2})});
  write_frames("notification_api", "unknown-method", {"CancelOrder", ""});
}

void state_transfer_seeds() {
  write_frames(
      "snapshot_service", "request",
      {std::string(st::snapshot_request), eda::encode_value(st::SnapshotRequest{"replica-1"})});
  write_frames("snapshot_service", "request-bad-body",
               {std::string(st::snapshot_request), eda::encode_value(std::uint64_t{1})});
  write_frames("snapshot_service", "unknown-command",
               {"snapshot.please", eda::encode_value(st::SnapshotRequest{"replica-1"})});
  write_frames("snapshot_service", "one-frame", {std::string(st::snapshot_request)});

  for (const auto& [name, bytes] : sample_envelopes()) {
    if (name.starts_with("state-")) {
      write_frames("replica_input", name, {bytes});
    }
  }
  st::CustomerGenerator customers(7);
  write_frames("replica_input", "snapshot-chunk",
               {std::string(st::snapshot_chunk),
                eda::encode_value(st::SnapshotChunk{{customers.make(1), customers.make(2)}})});
  write_frames("replica_input", "snapshot-end",
               {std::string(st::snapshot_end),
                eda::encode_value(st::SnapshotEnd{12, 2, incarnation, "customer-service"})});
  st::Customer zero = customers.make(3);
  zero.id = 0;
  write_frames("replica_input", "snapshot-chunk-id-0",
               {std::string(st::snapshot_chunk), eda::encode_value(st::SnapshotChunk{{zero}})});
}

void scaling_seeds() {
  namespace sc = eda::scaling;
  const auto frames = [](const sc::GroupMessage& message) {
    const sc::GroupFrames encoded = sc::encode_group_message(message);
    return Frames{encoded.kind, encoded.body};
  };
  const auto sequence = [&frames](const std::vector<sc::GroupMessage>& messages) {
    Frames all;
    for (const auto& message : messages) {
      const Frames two = frames(message);
      all.insert(all.end(), two.begin(), two.end());
    }
    return all;
  };
  // One of each message.
  write_frames("group_protocol", "join", frames(sc::JoinGroup{"billing"}));
  write_frames("group_protocol", "heartbeat", frames(sc::Heartbeat{"billing-1", 1}));
  write_frames("group_protocol", "revoked",
               frames(sc::RevokedPartitions{"billing-1", 2, {{4, 120}, {5, 7}}}));
  write_frames("group_protocol", "leave", frames(sc::LeaveGroup{"billing-1", 2, {{0, 3}}}));
  write_frames("group_protocol", "assignment",
               frames(sc::MemberAssignment{"billing-1", 2, {0, 1, 2, 3, 4}, {4}, {}}));
  write_frames("group_protocol", "revoke", frames(sc::RevokeRequest{2, {4, 5, 6, 7}}));
  write_frames("group_protocol", "refused",
               frames(sc::GroupRefused{"unknown_member", "no live member is called 'billing-9'"}));
  // A group's life: two join, the first hands half over, beats, the second leaves.
  write_frames(
      "group_protocol", "rebalance",
      sequence({sc::JoinGroup{"billing"}, sc::JoinGroup{"billing"}, sc::Heartbeat{"billing-1", 2},
                sc::RevokedPartitions{"billing-1", 2, {{4, 10}, {5, 0}, {6, 3}, {7, 9}}},
                sc::Heartbeat{"billing-2", 2}, sc::LeaveGroup{"billing-2", 2, {}}}));
  // billing-1 falls silent while audit-2 beats (300 ms per message): past 1 s it is declared
  // dead. Then messages from a stranger and from a future generation.
  write_frames("group_protocol", "death-and-strangers",
               sequence({sc::JoinGroup{"billing"}, sc::JoinGroup{"audit"},
                         sc::Heartbeat{"audit-2", 2}, sc::Heartbeat{"audit-2", 2},
                         sc::Heartbeat{"audit-2", 2}, sc::Heartbeat{"audit-2", 2},
                         sc::Heartbeat{"billing-9", 1}, sc::Heartbeat{"audit-2", 99}}));
  // Near misses: an unknown kind, a body of the wrong shape, an out-of-order checkpoint list.
  write_frames("group_protocol", "unknown-kind",
               {"group.hello", eda::encode_value(sc::JoinGroup{"billing"})});
  write_frames("group_protocol", "heartbeat-one-field",
               {std::string(sc::group_heartbeat), eda::encode_value(std::make_tuple(1))});
  write_frames("group_protocol", "revoked-unordered",
               frames(sc::RevokedPartitions{"billing-1", 1, {{5, 1}, {4, 1}}}));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz-seeds <corpus directory>, e.g. fuzz-seeds fuzz/corpus\n");
    return 2;
  }
  root = argv[1];
  envelope_seeds();
  codec_seeds();
  rpc_seeds();
  store_seeds();
  stored_event_seeds();
  command_seeds();
  query_seeds();
  lines_seeds();
  notification_seeds();
  state_transfer_seeds();
  scaling_seeds();
  std::printf("fuzz-seeds: wrote %d seed files under %s\n", written, root.c_str());
  return 0;
}
