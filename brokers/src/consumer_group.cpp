// What both brokers' consumer groups share: the options' check and the Billing loop.
#include "eda/brokers/consumer_group.hpp"

#include <stdexcept>

#include "eda/brokers/transport.hpp"

namespace eda::brokers {

GroupOptions checked_group_options(GroupOptions options) {
  check_name(options.name, "group name");
  if (options.partitions == 0 || options.partitions > 64) {
    throw std::invalid_argument(
        "a group on a broker has 1..64 partitions (each is a consumer "
        "or a queue of its own)");
  }
  if (options.redeliver_after <= std::chrono::milliseconds(0) || options.prefetch == 0) {
    throw std::invalid_argument("a group needs a positive redelivery time and prefetch");
  }
  return options;
}

BillingTally run_billing(GroupMember& member, scaling::PaymentGateway& gateway,
                         const std::string& member_name, const std::stop_token& stop,
                         std::chrono::milliseconds tick) {
  BillingTally tally;
  while (!stop.stop_requested()) {
    const std::optional<KeyedDelivery> delivery = member.next(tick);
    if (!delivery) continue;
    try {
      if (scaling::bill(gateway, delivery->envelope, member_name) ==
          scaling::BillingOutcome::charged) {
        ++tally.charged;
      } else {
        ++tally.already_charged;
      }
    } catch (const MalformedMessage&) {
      ++tally.unreadable;
    } catch (const scaling::ChargeDeclined&) {
      ++tally.unreadable;
    }
    // After the gateway recorded it: a member killed in between leaves the event
    // unacknowledged, and the next member's charge of it is answered "already charged".
    member.ack(*delivery);
  }
  return tally;
}

}  // namespace eda::brokers
