// What every one-service-per-process role of saga-demo shares (roles.cpp for the orchestrated
// checkout and the baseline, choreography_roles.cpp for the choreographed one): how long it runs,
// where its database is, and the participant named by --role, opened on it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "demo.hpp"
#include "eda/clock.hpp"
#include "eda/saga/checkout_messages.hpp"
#include "eda/saga/checkout_orchestrator.hpp"
#include "eda/saga/inventory.hpp"
#include "eda/saga/payment.hpp"
#include "eda/saga/shipping.hpp"

namespace eda::saga::demo {

/// How long a service role runs: --run-for seconds, or until Ctrl-C (bounded by a day).
inline Deadline role_deadline(const Settings& s) {
  return Deadline(s.run_for_s > 0 ? std::chrono::seconds(s.run_for_s) : std::chrono::hours(24));
}

/// Checks out orders --first-order onwards (--count of them) with `place` (the orchestrator's
/// start, the Order desk's place): 1 to 3 units each, every 4th card declined. An order that
/// was checked out before is refused, and `who` says so.
template <class Place>
void place_role_orders(const Settings& s, Narrator& say, std::string_view who, Place&& place) {
  for (std::uint64_t n = s.first_order; n < s.first_order + s.common.count; ++n) {
    CheckoutRequest request = sample_checkout(n, 1 + n % 3);
    if (n % 4 == 0) request.card = std::string(declined_card);  // every 4th card is declined
    try {
      place(request);
    } catch (const CheckoutRefused& refused) {
      say.say(std::string(who), refused.what());
    }
  }
}

/// The database file of service `name` in --dir (the current folder by default).
inline std::string database_of(const Settings& s, const std::string& name) {
  const std::string folder = s.dir.empty() ? "." : s.dir;
  return folder + "/" + name + ".db";
}

/// Shipping as --carrier-delay-ms asks: a carrier that takes that long per booking (a remote API
/// that hangs), accepting every parcel with an address.
inline ShippingOptions shipping_options_of(const Settings& s) {
  ShippingOptions options;
  if (s.carrier_delay_ms > 0) {
    options.carrier = [delay = std::chrono::milliseconds(s.carrier_delay_ms)](
                          const BookParcel& booking) -> std::optional<std::string> {
      std::this_thread::sleep_for(delay);
      if (booking.address.empty()) return "no address to ship to";
      return std::nullopt;
    };
  }
  return options;
}

/// The participant `s.role`, opened on its database, and what handles its commands.
struct OpenParticipant {
  std::optional<Inventory> inventory;
  std::optional<Payment> payment;
  std::optional<Shipping> shipping;
  std::function<CommandOutcome(const DecodedEvent&)> handle;
  const Outbox* outbox = nullptr;
  const CommandLog* commands = nullptr;
  std::string path;
  std::string reply_endpoint;
  std::string_view command_topic;

  /// Opens the participant `s.role` on its database in --dir; `shipping_options` for Shipping.
  explicit OpenParticipant(const Settings& s, ShippingOptions shipping_options = {}) {
    const std::string file = database_of(s, s.role);
    if (s.role == "inventory") {
      inventory.emplace(file);
      const std::uint64_t on_shelf = inventory->ledger().available("SKU-1");
      if (on_shelf < 100) inventory->stock_up("SKU-1", 100 - on_shelf);
      handle = [this](const DecodedEvent& c) { return inventory->handle(c); };
      outbox = &inventory->outbox();
      commands = &inventory->commands();
      path = inventory->path();
      reply_endpoint = s.inventory;
      command_topic = inventory_commands;
    } else if (s.role == "payment") {
      payment.emplace(file);
      handle = [this](const DecodedEvent& c) { return payment->handle(c); };
      outbox = &payment->outbox();
      commands = &payment->commands();
      path = payment->path();
      reply_endpoint = s.payment;
      command_topic = payment_commands;
    } else {
      shipping.emplace(file, std::move(shipping_options));
      handle = [this](const DecodedEvent& c) { return shipping->handle(c); };
      outbox = &shipping->outbox();
      commands = &shipping->commands();
      path = shipping->path();
      reply_endpoint = s.shipping;
      command_topic = shipping_commands;
    }
  }
};

}  // namespace eda::saga::demo
