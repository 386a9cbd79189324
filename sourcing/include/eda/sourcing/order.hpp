/// @file order.hpp
/// @brief The shop's Order as an event-sourced aggregate, in decide/evolve style: commands are
///        judged against the current state and turned into events; the state is a fold of
///        those events and nothing else.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <msgpack.hpp>

#include "eda/errors.hpp"

namespace eda::sourcing {

// ---- Events: what happened to an order (past tense) ------------------------------------------

/// @brief An order was opened for a customer.
struct OrderPlaced {
  static constexpr std::string_view event_type = "shop.order.placed";  ///< Type.
  static constexpr std::uint32_t schema_version = 1;                   ///< Payload shape version.
  std::string customer;                                                ///< Who ordered.
  MSGPACK_DEFINE(customer)
  /// @brief Field-by-field equality.
  friend bool operator==(const OrderPlaced&, const OrderPlaced&) = default;
};

/// @brief Items were added to an open order.
///
/// Version 2: the price is an exact number of cents. Version 1 (ItemAddedV1) carried it in
/// euros as a floating-point number; order_upcasters() turns those into this shape on read.
struct ItemAdded {
  static constexpr std::string_view event_type = "shop.order.item-added";  ///< Type.
  static constexpr std::uint32_t schema_version = 2;  ///< Payload shape version.
  std::string sku;                                    ///< What.
  std::uint32_t quantity = 0;                         ///< How many more.
  std::int64_t unit_price_cents = 0;                  ///< Price of one.
  MSGPACK_DEFINE(sku, quantity, unit_price_cents)
  /// @brief Field-by-field equality.
  friend bool operator==(const ItemAdded&, const ItemAdded&) = default;
};

/// @brief The first shape of ItemAdded, still found in old histories: the unit price in euros,
///        as a floating-point number (which cannot say 0.10 exactly: hence version 2).
struct ItemAddedV1 {
  static constexpr std::string_view event_type = ItemAdded::event_type;  ///< Same type.
  static constexpr std::uint32_t schema_version = 1;                     ///< The old shape.
  std::string sku;                                                       ///< What.
  std::uint32_t quantity = 0;                                            ///< How many more.
  double unit_price_euros = 0;  ///< Price of one, in euros.
  MSGPACK_DEFINE(sku, quantity, unit_price_euros)
};

/// @brief A line was removed from an open order.
struct ItemRemoved {
  static constexpr std::string_view event_type = "shop.order.item-removed";  ///< Type.
  static constexpr std::uint32_t schema_version = 1;  ///< Payload shape version.
  std::string sku;                                    ///< The line removed.
  MSGPACK_DEFINE(sku)
  /// @brief Field-by-field equality.
  friend bool operator==(const ItemRemoved&, const ItemRemoved&) = default;
};

/// @brief The order was paid in full.
struct OrderPaid {
  static constexpr std::string_view event_type = "shop.order.paid";  ///< Type.
  static constexpr std::uint32_t schema_version = 1;                 ///< Payload shape version.
  std::int64_t amount_cents = 0;                                     ///< What was paid.
  MSGPACK_DEFINE(amount_cents)
  /// @brief Field-by-field equality.
  friend bool operator==(const OrderPaid&, const OrderPaid&) = default;
};

/// @brief The paid order left the warehouse.
struct OrderShipped {
  static constexpr std::string_view event_type = "shop.order.shipped";  ///< Type.
  static constexpr std::uint32_t schema_version = 1;                    ///< Payload shape version.
  std::string carrier;                                                  ///< Who carries it.
  MSGPACK_DEFINE(carrier)
  /// @brief Field-by-field equality.
  friend bool operator==(const OrderShipped&, const OrderShipped&) = default;
};

/// @brief The order was cancelled before shipping.
struct OrderCancelled {
  static constexpr std::string_view event_type = "shop.order.cancelled";  ///< Type.
  static constexpr std::uint32_t schema_version = 1;  ///< Payload shape version.
  std::string reason;                                 ///< Why.
  MSGPACK_DEFINE(reason)
  /// @brief Field-by-field equality.
  friend bool operator==(const OrderCancelled&, const OrderCancelled&) = default;
};

/// @brief Any event of an order.
using OrderEvent =
    std::variant<OrderPlaced, ItemAdded, ItemRemoved, OrderPaid, OrderShipped, OrderCancelled>;

// ---- Commands: what someone asks for (imperative) --------------------------------------------

/// @brief Open an order.
struct PlaceOrder {
  std::string customer;  ///< Who orders.
};
/// @brief Add items to an open order.
struct AddItem {
  std::string sku;                    ///< What.
  std::uint32_t quantity = 1;         ///< How many (>= 1).
  std::int64_t unit_price_cents = 0;  ///< Price of one (>= 0).
};
/// @brief Remove a line from an open order.
struct RemoveItem {
  std::string sku;  ///< The line.
};
/// @brief Pay the order's total.
struct Pay {
  std::int64_t amount_cents = 0;  ///< Must equal the total.
};
/// @brief Ship a paid order.
struct Ship {
  std::string carrier = "post";  ///< Who carries it.
};
/// @brief Cancel an order that has not shipped.
struct Cancel {
  std::string reason;  ///< Why.
};

/// @brief Any command for an order.
using OrderCommand = std::variant<PlaceOrder, AddItem, RemoveItem, Pay, Ship, Cancel>;

// ---- State, decide, evolve --------------------------------------------------------------------

/// @brief Where an order is in its life.
enum class OrderStatus { none, open, paid, shipped, cancelled };

/// @brief `none`, `open`, `paid`, `shipped` or `cancelled`.
std::string_view to_string(OrderStatus status) noexcept;

/// @brief One line of an order.
struct OrderLine {
  std::uint32_t quantity = 0;         ///< How many.
  std::int64_t unit_price_cents = 0;  ///< Price of one.
  MSGPACK_DEFINE(quantity, unit_price_cents)
  /// @brief Field-by-field equality.
  friend bool operator==(const OrderLine&, const OrderLine&) = default;
};

/// @brief quantity x unit price. Throws std::overflow_error when that does not fit in 64 bits,
///        which decide()'s limits rule out: only events stored past the rules (appended by hand
///        or by a foreign writer) can carry such a line, and a wrapped total would be a lie.
[[nodiscard]] std::int64_t line_total_cents(const OrderLine& line);

/// @brief The sum of line_total_cents() over `lines` (std::overflow_error as there).
[[nodiscard]] std::int64_t total_of(const std::map<std::string, OrderLine>& lines);

/// @brief `a + b`, or std::overflow_error naming `what` when it does not fit in 64 bits.
[[nodiscard]] std::int64_t checked_add(std::int64_t a, std::int64_t b, const char* what);
/// @brief `a - b`, or std::overflow_error naming `what` when it does not fit in 64 bits.
[[nodiscard]] std::int64_t checked_subtract(std::int64_t a, std::int64_t b, const char* what);

/// @brief Version of OrderState's MessagePack shape in snapshots; a snapshot of another
///        shape is ignored (the order is replayed from its events instead).
inline constexpr std::uint32_t order_state_schema_version = 1;

/// @brief An order's state: everything decide() needs, rebuilt from its events.
struct OrderState {
  OrderStatus status = OrderStatus::none;  ///< Where it is.
  std::string customer;                    ///< Who ordered.
  std::map<std::string, OrderLine> lines;  ///< By sku.
  std::int64_t paid_cents = 0;             ///< What was paid.
  std::string carrier;                     ///< Who carries it, once shipped.
  MSGPACK_DEFINE(status, customer, lines, paid_cents, carrier)

  /// @brief The sum of the lines (total_of(); std::overflow_error past 64 bits).
  [[nodiscard]] std::int64_t total_cents() const;
  /// @brief Field-by-field equality.
  friend bool operator==(const OrderState&, const OrderState&) = default;
};

/// @brief The most units one line of an order may hold.
inline constexpr std::uint32_t max_line_quantity = 1'000'000;
/// @brief The highest unit price, in cents (ten million in the shop's currency).
inline constexpr std::int64_t max_unit_price_cents = 1'000'000'000;
/// @brief The most lines (distinct skus) an order may have. With the two limits above, every
///        total, and every sum of totals a read model keeps, fits in 64 bits with room to spare.
inline constexpr std::size_t max_order_lines = 1'000;

/// @brief A command the current state does not allow, with the reason in words. Category:
///        ErrorCategory::application (a domain rule said no).
class CommandRejected : public Error {
 public:
  /// @brief A rejection with the reason in words.
  explicit CommandRejected(const std::string& reason) : Error(ErrorCategory::application, reason) {}
};

/// @brief Judges `command` against `state`: the events it results in, or CommandRejected
///        saying why not. Pure: no I/O, no clock, no randomness.
std::vector<OrderEvent> decide(const OrderCommand& command, const OrderState& state);

/// @brief The state after `event`. Pure, and total: it never fails on an event decide() made.
OrderState evolve(OrderState state, const OrderEvent& event);

/// @brief The state after all of `events`, in order, from nothing.
OrderState replay(const std::vector<OrderEvent>& events);

}  // namespace eda::sourcing

// OrderStatus travels as its number in snapshots (a macro of msgpack-cxx, not an API).
/// @cond
MSGPACK_ADD_ENUM(eda::sourcing::OrderStatus);
/// @endcond
