/// @file customer.hpp
/// @brief The shop's vocabulary for event-carried state transfer: the customer record the
///        Customer service owns, the fat events that carry it whole, and sample data.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>

#include <msgpack.hpp>

namespace eda::state_transfer {

/// @brief Identifies a customer (assigned by the Customer service, from 1).
using CustomerId = std::uint64_t;

/// @brief A customer record, exactly as the Customer service owns it.
struct Customer {
  CustomerId id = 0;     ///< The customer's id.
  std::string name;      ///< Full name, e.g. `Alice Martin`.
  std::string email;     ///< Contact address.
  std::string street;    ///< Street and house number.
  std::string postcode;  ///< Postal code.
  std::string city;      ///< City.
  std::string country;   ///< ISO 3166 country code, e.g. `FR`.
  std::string tier;      ///< `standard`, `silver` or `gold` (gold ships express).
  MSGPACK_DEFINE(id, name, email, street, postcode, city, country, tier)
  /// @brief Field-by-field equality.
  friend bool operator==(const Customer&, const Customer&) = default;
};

/// @brief A set of customer records by id: the source's data, a replica's copy of it.
using CustomerTable = std::unordered_map<CustomerId, Customer>;

/// @brief A fingerprint of a whole table (16 hex digits), the same for equal tables whatever
///        their order: two processes print theirs to show that a replica equals its source.
std::string fingerprint(const CustomerTable& table);

/// @brief Identifies one run of the Customer service: random, never 0, new on every start.
///
/// Sequence numbers are only comparable within one run: a restarted source counts from 1
/// again. Every message carries the run it comes from, so a replica tells a restart from
/// stale or lost messages at the first message of the new run.
using Incarnation = std::uint64_t;

/// @brief A fresh random incarnation (never 0).
Incarnation new_incarnation();

/// @brief An incarnation as 16 hex digits, for people.
std::string to_hex(Incarnation incarnation);

/// @brief Converts one record from its MessagePack form, checking its shape completely
///        (every field present and of the right type, a non-zero id); throws MalformedMessage
///        naming `what`. Used for records from the wire: a record with missing fields must
///        never blank a replica's copy.
Customer customer_from(const msgpack::object& object, std::string_view what);

/// @brief The fat event: a customer record changed (or was created), and here is all of it.
///
/// Carrying the whole record, not just what changed, is what makes the pattern work: a
/// replica applies it by replacing its copy, without knowing the previous state and without
/// calling anyone back.
struct CustomerUpdated {
  static constexpr std::string_view event_type = "shop.customer.updated";  ///< Topic.
  static constexpr std::uint32_t schema_version = 1;  ///< Payload shape version.
  Incarnation incarnation = 0;  ///< The run of the source that made the change.
  Customer customer;            ///< The complete new record.
  MSGPACK_DEFINE(incarnation, customer)
};

/// @brief The tombstone: a customer record was deleted; replicas remove their copy.
struct CustomerRemoved {
  static constexpr std::string_view event_type = "shop.customer.removed";  ///< Topic.
  static constexpr std::uint32_t schema_version = 1;  ///< Payload shape version.
  Incarnation incarnation = 0;  ///< The run of the source that made the change.
  CustomerId customer_id = 0;   ///< The record that is gone.
  MSGPACK_DEFINE(incarnation, customer_id)
};

/// @brief "I am alive, and this is how far I am": sent by the Customer service every
///        heartbeat interval, busy or not.
///
/// It takes a sequence number like every update, so a replica that lost the last updates
/// before a quiet period notices the gap at the next heartbeat instead of never.
struct SourceHeartbeat {
  static constexpr std::string_view event_type = "shop.customer.heartbeat";  ///< Topic.
  static constexpr std::uint32_t schema_version = 1;  ///< Payload shape version.
  Incarnation incarnation = 0;    ///< The run of the source; changes on restart.
  std::uint64_t records = 0;      ///< How many records the source holds.
  std::uint32_t interval_ms = 0;  ///< The source's heartbeat interval.
  MSGPACK_DEFINE(incarnation, records, interval_ms)
};

/// @brief Topic prefix every Customer service message starts with (a replica subscribes to it).
inline constexpr std::string_view customer_topic_prefix = "shop.customer.";

/// @brief The one-line address label Shipping prints, e.g. `Alice Martin, 3 Quai Nord, 69001
///        Lyon, FR`.
std::string address_label(const Customer& customer);

/// @brief Makes sample customers and believable changes to them, reproducibly from a seed.
///
/// Demos, tests and benchmarks use it to stand in for customers using the shop: people sign
/// up, move house, change tier, close their account.
class CustomerGenerator {
 public:
  /// @brief A generator whose output depends only on `seed`.
  explicit CustomerGenerator(std::uint64_t seed = 42) : random_(seed) {}

  /// @brief A new customer with id `id`.
  Customer make(CustomerId id);

  /// @brief `customer` after moving house (new street, postcode and city).
  Customer moved(Customer customer);

  /// @brief `customer` with another tier.
  Customer retiered(Customer customer);

  /// @brief `count` customers with ids 1..count.
  CustomerTable table(std::size_t count);

  /// @brief A number in [0, bound) from the same random stream (bound > 0).
  std::uint64_t below(std::uint64_t bound);

 private:
  std::mt19937_64 random_;
};

/// @brief Makes one believable change through `service` and says what it was, e.g.
///        `customer 12 moved to Lyon`.
///
/// `service` is anything with `records()`, `upsert()` and `remove()`: the pattern's Customer
/// service and the baseline's. Ids are drawn from 1..(records + 16): an id that is free means
/// a sign-up; one that is taken means a move (60%), a tier change (30%) or a closed account.
template <class Service>
std::string make_random_change(Service& service, CustomerGenerator& generator) {
  const CustomerId id = generator.below(service.records().size() + 16) + 1;
  const auto existing = service.records().find(id);
  if (existing == service.records().end()) {
    const Customer customer = generator.make(id);
    service.upsert(customer);
    return "customer " + std::to_string(id) + " signed up (" + customer.city + ")";
  }
  const std::uint64_t roll = generator.below(100);
  if (roll < 60) {
    const Customer customer = generator.moved(existing->second);
    service.upsert(customer);
    return "customer " + std::to_string(id) + " moved to " + customer.city;
  }
  if (roll < 90) {
    const Customer customer = generator.retiered(existing->second);
    service.upsert(customer);
    return "customer " + std::to_string(id) + " is now " + customer.tier;
  }
  service.remove(id);
  return "customer " + std::to_string(id) + " closed their account";
}

}  // namespace eda::state_transfer
