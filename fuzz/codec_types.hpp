// The types the `codec` target decodes, in a fixed order: the first byte of an input picks one
// (byte % count). The seed generator uses the same list, so seeds land on the type they were
// made of.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "eda/codec.hpp"
#include "eda/cqrs/command_service.hpp"
#include "eda/cqrs/projector.hpp"
#include "eda/cqrs/read_models.hpp"
#include "eda/notification/shop.hpp"
#include "eda/sourcing/order.hpp"
#include "eda/sourcing/store_service.hpp"
#include "eda/sourcing/subscription.hpp"
#include "eda/state_transfer/customer.hpp"
#include "eda/state_transfer/snapshot_protocol.hpp"

namespace eda::fuzz::codec_types {

namespace s = eda::sourcing;
namespace c = eda::cqrs;
namespace n = eda::notification;
namespace st = eda::state_transfer;

// The request bodies of the CQRS services (the same tuples their .cpp files decode).
using PlaceOrderBody = std::tuple<std::uint64_t, std::string>;
using AddItemBody = std::tuple<std::uint64_t, std::string, std::uint32_t, std::int64_t>;
using PayBody = std::tuple<std::uint64_t, std::int64_t>;
using CustomerOrdersRequest = std::tuple<std::uint64_t, std::uint32_t, std::string>;
using SalesByDayRequest = std::tuple<std::uint64_t, std::uint32_t, std::string, std::string>;
using AwaitingShipmentRequest = std::tuple<std::uint64_t, std::uint32_t, std::uint64_t>;

template <class... T>
struct TypeList {};

using Types = TypeList<
    // plain values (RPC bodies such as a stream name, an order id, a version)
    std::string, std::uint64_t, std::int64_t, bool, double, std::vector<std::string>,
    std::map<std::string, std::int64_t>, std::vector<std::vector<char>>, msgpack::type::nil_t,
    // sourcing: store service requests and replies, order events, state, snapshots
    s::AppendBody, s::AppendReply, s::ConflictBody, s::ReadStreamBody, s::ReadAllBody,
    std::vector<s::WireRecord>, s::WireSnapshot, std::tuple<bool, s::WireSnapshot>, s::OrderState,
    s::OrderPlaced, s::ItemAdded, s::ItemAddedV1, s::ItemRemoved, s::OrderPaid, s::OrderShipped,
    s::OrderCancelled, s::EventsAppended, std::map<std::string, s::OrderLine>,
    // cqrs: command and query bodies, replies, progress announcements
    PlaceOrderBody, AddItemBody, PayBody, CustomerOrdersRequest, SalesByDayRequest,
    AwaitingShipmentRequest, c::CommandAccepted, c::Reflecting<std::vector<c::OrderSummary>>,
    c::Reflecting<std::vector<c::ProductDaySales>>, c::Reflecting<std::vector<c::AwaitingShipment>>,
    c::ProjectionAdvanced,
    // notification: the Order service's API and events
    n::OrderRequest, n::Order, n::ReplayRequest, n::ReplayReply, n::OrderPlaced, n::StockReserved,
    n::ShipmentScheduled, n::PaymentCharged,
    // state transfer: records, fat events, the snapshot protocol
    st::Customer, st::CustomerUpdated, st::CustomerRemoved, st::SourceHeartbeat,
    st::SnapshotRequest, st::SnapshotEnd, st::SnapshotChunk>;

/// How many types the list holds.
template <class... T>
constexpr std::size_t count(TypeList<T...>) {
  return sizeof...(T);
}

/// Calls `f.template operator()<T>(index)` for every type of the list, in order.
template <class F, class... T>
void for_each_type(TypeList<T...>, F&& f) {
  std::size_t index = 0;
  (f.template operator()<T>(index++), ...);
}

}  // namespace eda::fuzz::codec_types
