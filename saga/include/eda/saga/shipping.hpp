/// @file shipping.hpp
/// @brief Shipping, the checkout saga's participant that books parcels with a carrier, with its
///        replies in an outbox in its own SQLite database.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "eda/codec.hpp"
#include "eda/saga/checkout_messages.hpp"
#include "eda/saga/participant_database.hpp"

namespace eda::saga {

/// @brief The carrier's answer to a booking: empty to accept it, or why it is refused.
using Carrier = std::function<std::optional<std::string>(const BookParcel&)>;

/// @brief How a Shipping service is set up.
struct ShippingOptions {
  std::string source = "shipping";                           ///< Source name of its events.
  sqlite::Durability durability = sqlite::Durability::full;  ///< How commits are kept.
  /// Bookings: by default every parcel with an address is accepted.
  Carrier carrier{};
  /// Called after each command handled has committed its reply (ring the relay's doorbell).
  std::function<void()> replied{};
};

/// @brief Where an order's parcel stands.
enum class ParcelStatus {
  booked,     ///< Booked with the carrier.
  refused,    ///< The carrier refused it.
  cancelled,  ///< Cancelled (booked before, or never): a booking arriving later is refused.
};

/// @brief One order's parcel, as Shipping keeps it.
struct ParcelRecord {
  std::uint64_t order_id = 0;                     ///< The order.
  std::string parcel_id{};                        ///< The carrier's reference (empty: none).
  ParcelStatus status = ParcelStatus::cancelled;  ///< Where it stands.
  std::string reason{};                           ///< Why refused or cancelled.
};

/// @brief Shipping: handles BookParcel and CancelParcel once per command id, and decides once
///        per order.
///
/// Tables (created if missing): `parcels(order_id, parcel_id, status, reason)`, the outbox and
/// the command log.
///
/// @par Thread safety
/// One thread at a time (it owns one SQLite connection).
class Shipping {
 public:
  /// @brief Opens (creating if needed) the database at `path`. Throws eda::StorageError.
  explicit Shipping(const std::string& path, ShippingOptions options = {});

  /// @brief Handles BookParcel or CancelParcel, replying with ParcelBooked, ParcelRefused or
  ///        ParcelCancelled. Throws UnknownCommand for another command and
  ///        eda::MalformedMessage for a payload that does not decode; nothing changes then.
  CommandOutcome handle(const DecodedEvent& command);

  /// @brief The order's parcel, if Shipping has heard of the order.
  [[nodiscard]] std::optional<ParcelRecord> find(std::uint64_t order_id) const;

  /// @brief How many parcels are booked (and not cancelled).
  [[nodiscard]] std::uint64_t booked_count() const;

  /// @brief The outbox.
  [[nodiscard]] const Outbox& outbox() const noexcept { return parts_.outbox; }
  /// @brief The commands handled.
  [[nodiscard]] const CommandLog& commands() const noexcept { return parts_.commands; }
  /// @brief The database file.
  [[nodiscard]] const std::string& path() const noexcept { return parts_.db.path(); }

 private:
  std::uint64_t book(sqlite::Transaction& open, const BookParcel& booking, const Cause& cause);
  std::uint64_t cancel(sqlite::Transaction& open, std::uint64_t order_id, const Cause& cause);

  ShippingOptions options_;
  ParticipantDatabase parts_;
};

}  // namespace eda::saga
