#include "eda/workloads/wire_bytes.hpp"

#include <algorithm>

#include "eda/codec.hpp"
#include "eda/envelope.hpp"
#include "eda/state_transfer/baseline.hpp"
#include "eda/state_transfer/customer_service.hpp"

namespace eda::workloads {

using namespace eda::state_transfer;

namespace {

/// Bytes of the message that publishes `payload` as change number `sequence`: its one frame,
/// the record (type, zero byte, envelope), encoded as the Publisher encodes it.
template <class Payload>
std::size_t message_bytes(const Payload& payload, std::uint64_t sequence) {
  Event<Payload> event{make_metadata<Payload>(CustomerServiceOptions{}.source), payload};
  event.meta.sequence = sequence;  // the Publisher stamps it; its size depends on the value
  return encode_event(event).size();
}

}  // namespace

std::size_t rpc_bytes(const Customer& customer) {
  constexpr std::string_view reply_status = "ok";  // the status frame of a successful reply
  const std::size_t request =
      baseline::method::get_customer.size() + encode_value(customer.id).size();
  const std::size_t reply =
      reply_status.size() +
      encode_value(baseline::CustomerReply{.found = true, .customer = customer}).size();
  return request + reply;
}

double mean_rpc_bytes(const CustomerTable& table) {
  double total = 0;
  for (const auto& [id, customer] : table) total += static_cast<double>(rpc_bytes(customer));
  return table.empty() ? 0.0 : total / static_cast<double>(table.size());
}

ChangeBytes::ChangeBytes(std::size_t sample_customers)
    : table_(CustomerGenerator().table(sample_customers)) {
  for (const auto& [id, customer] : table_) sample_.push_back(customer);
}

void ChangeBytes::add_next() {
  const Customer& customer = sample_[changes_ % sample_.size()];
  ++changes_;
  fat_ += message_bytes(CustomerUpdated{new_incarnation(), customer}, changes_);
  thin_ += message_bytes(CustomerChanged{customer.id}, changes_);
}

double ChangeBytes::fat_bytes_per_change() const {
  return static_cast<double>(fat_) / static_cast<double>(std::max<std::uint64_t>(changes_, 1));
}

double ChangeBytes::thin_bytes_per_change() const {
  return static_cast<double>(thin_) / static_cast<double>(std::max<std::uint64_t>(changes_, 1));
}

}  // namespace eda::workloads
