// Shipping: parcel bookings and their cancellations, decided once per order, answered through
// the outbox.
#include "eda/saga/shipping.hpp"

#include <array>
#include <utility>

namespace eda::saga {
namespace {

constexpr std::array<std::string_view, 3> status_names{"booked", "refused", "cancelled"};

ParcelStatus status_from(std::string_view name) {
  return status_named<ParcelStatus>(status_names, name, "parcels");
}

}  // namespace

Shipping::Shipping(const std::string& path, ShippingOptions options)
    : options_(std::move(options)), parts_(path, options_.durability, "shipping database") {
  parts_.db.exec(
      "CREATE TABLE IF NOT EXISTS parcels ("
      " order_id INTEGER PRIMARY KEY, parcel_id TEXT NOT NULL, status TEXT NOT NULL,"
      " reason TEXT NOT NULL);");
  if (!options_.carrier) {
    options_.carrier = [](const BookParcel& booking) -> std::optional<std::string> {
      if (booking.address.empty()) return "no address to ship to";
      return std::nullopt;
    };
  }
}

CommandOutcome Shipping::handle(const DecodedEvent& command) {
  return handle_command<BookParcel, CancelParcel>(
      parts_.commands, command, options_.source,
      [this](sqlite::Transaction& tx, const BookParcel& asked, const Cause& cause) {
        return book(tx, asked, cause);
      },
      [this](sqlite::Transaction& tx, const CancelParcel& asked, const Cause& cause) {
        return cancel(tx, asked.order_id, cause);
      },
      options_.replied);
}

std::uint64_t Shipping::book(sqlite::Transaction& open, const BookParcel& booking,
                             const Cause& cause) {
  std::optional<ParcelRecord> earlier = find(booking.order_id);
  if (!earlier) {
    const std::optional<std::string> refusal = options_.carrier(booking);
    sqlite::Statement insert(parts_.db.handle(),
                             "INSERT INTO parcels (order_id, parcel_id, status, reason) "
                             "VALUES (?, ?, ?, ?)");
    // Bound text is not copied (SQLITE_STATIC): every string lives until run().
    const std::string parcel_id = refusal ? "" : "PCL-" + std::to_string(booking.order_id);
    const std::string reason = refusal.value_or("");
    insert.bind(booking.order_id, parcel_id, std::string_view(refusal ? "refused" : "booked"),
                reason);
    insert.run();
    earlier = find(booking.order_id);
  }
  if (earlier->status == ParcelStatus::booked) {
    return parts_.outbox.add(
        open, make_metadata<ParcelBooked>(options_.source, cause),
        ParcelBooked{.order_id = booking.order_id, .parcel_id = earlier->parcel_id});
  }
  return parts_.outbox.add(open, make_metadata<ParcelRefused>(options_.source, cause),
                           ParcelRefused{.order_id = booking.order_id, .reason = earlier->reason});
}

std::uint64_t Shipping::cancel(sqlite::Transaction& open, std::uint64_t order_id,
                               const Cause& cause) {
  const std::optional<ParcelRecord> earlier = find(order_id);
  const bool was_booked = earlier && !earlier->parcel_id.empty();
  if (!earlier) {
    // Cancelled before it was booked: the booking is late or lost, and is refused when it comes.
    sqlite::Statement fence(parts_.db.handle(),
                            "INSERT INTO parcels (order_id, parcel_id, status, reason) "
                            "VALUES (?, '', 'cancelled', 'the checkout was cancelled')");
    fence.bind(order_id);
    fence.run();
  } else if (earlier->status == ParcelStatus::booked) {
    sqlite::Statement update(parts_.db.handle(),
                             "UPDATE parcels SET status = 'cancelled', reason = 'the checkout "
                             "was cancelled' WHERE order_id = ?");
    update.bind(order_id);
    update.run();
  }
  return parts_.outbox.add(open, make_metadata<ParcelCancelled>(options_.source, cause),
                           ParcelCancelled{.order_id = order_id, .was_booked = was_booked});
}

std::optional<ParcelRecord> Shipping::find(std::uint64_t order_id) const {
  sqlite::Statement query(parts_.db.handle(),
                          "SELECT parcel_id, status, reason FROM parcels WHERE order_id = ?");
  query.bind(order_id);
  std::optional<ParcelRecord> found;
  if (query.step()) {
    found = ParcelRecord{.order_id = order_id,
                         .parcel_id = std::string(query.text(0)),
                         .status = status_from(query.text(1)),
                         .reason = std::string(query.text(2))};
  }
  query.done();
  return found;
}

std::uint64_t Shipping::booked_count() const {
  sqlite::Statement query(parts_.db.handle(),
                          "SELECT COUNT(*) FROM parcels WHERE status = 'booked'");
  return static_cast<std::uint64_t>(query.single_integer());
}

}  // namespace eda::saga
