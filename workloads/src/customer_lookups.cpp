#include "eda/workloads/customer_lookups.hpp"

#include "eda/endpoint.hpp"

namespace eda::workloads {

using namespace std::chrono_literals;
using namespace eda::state_transfer;

CustomerServiceOptions customer_service_options() {
  return {.update_endpoints = {ephemeral_endpoint(Transport::tcp, "customer-updates")},
          .snapshot_endpoints = {ephemeral_endpoint(Transport::tcp, "customer-snapshots")}};
}

FollowingReplica::FollowingReplica(zmq::context_t& context, ReplicaOptions options)
    : replica_(context, std::move(options)),
      follower_([this](const std::stop_token& stop) { replica_.run(stop, 5ms); }) {}

void FollowingReplica::stop() {
  follower_.request_stop();
  if (follower_.joinable()) follower_.join();
}

bool is_live(const Replica& replica) { return replica.status().state == ReplicaState::live; }

std::uint64_t snapshots_served(CustomerServiceThread& source) {
  return source.call([](CustomerService& service) { return service.stats().snapshots_served; });
}

ShippingPlan::ShippingPlan(std::size_t customers) : customers_(plan_size) {
  CustomerGenerator random(7);
  for (CustomerId& id : customers_) id = random.below(customers) + 1;
}

std::vector<Customer> planned_moves(const CustomerTable& records, std::uint64_t count) {
  CustomerGenerator random(11);
  std::vector<Customer> moves;
  moves.reserve(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    moves.push_back(random.moved(records.at(random.below(records.size()) + 1)));
  }
  return moves;
}

}  // namespace eda::workloads
