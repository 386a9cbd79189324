// The baseline: Shipping asks the Customer service for every label, so it cannot ship while
// that service is down.
#include <thread>

#include <catch2/catch.hpp>

#include "eda/state_transfer/baseline.hpp"
#include "eda/state_transfer/shipping.hpp"
#include "replica_fixture.hpp"

using namespace eda::state_transfer;
using namespace eda::state_transfer::test;

namespace {
/// The baseline Customer service, answering on its own thread until stopped.
class BaselineThread {
 public:
  BaselineThread(zmq::context_t& context, CustomerTable records)
      : service_(context, {.endpoints = {"tcp://127.0.0.1:*"}}, std::move(records)),
        thread_([this](const std::stop_token& stop) {
          service_.serve_while([&] { return !stop.stop_requested(); }, 5ms);
        }) {}
  [[nodiscard]] const std::string& endpoint() const { return service_.endpoints().front(); }
  baseline::CustomerService& service() { return service_; }
  void stop() {
    thread_.request_stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  baseline::CustomerService service_;
  std::jthread thread_;
};
}  // namespace

TEST_CASE("the baseline ships with one call per label, the same label as the replica's",
          "[baseline]") {
  zmq::context_t context;
  const CustomerTable records = CustomerGenerator(1).table(10);
  BaselineThread owner(context, records);
  baseline::SyncShipping shipping(context, {.endpoint = owner.endpoint()});

  const auto label = shipping.label_for({.order_id = 77, .customer_id = 4});
  REQUIRE(label);
  const ShippingLabel expected = make_label({77, 4}, records.at(4), 0, 0ns);
  CHECK(label->address == expected.address);
  CHECK(label->express == expected.express);
  CHECK(label->order_id == 77);
  CHECK_FALSE(shipping.label_for({.order_id = 78, .customer_id = 999}));
  CHECK(shipping.calls() == 2);
  owner.stop();
  CHECK(owner.service().lookups_served() == 2);  // the owner did the work of every shipment
}

TEST_CASE("the baseline cannot ship while the Customer service is down", "[baseline]") {
  zmq::context_t context;
  BaselineThread owner(context, CustomerGenerator(1).table(10));
  baseline::SyncShipping shipping(context,
                                  {.endpoint = owner.endpoint(), .timeout = 100ms, .attempts = 2});
  REQUIRE(shipping.label_for({.order_id = 1, .customer_id = 1}));
  owner.stop();
  CHECK_THROWS_AS(shipping.label_for({.order_id = 2, .customer_id = 1}), eda::RpcTimeout);
}

TEST_CASE("the baseline Customer service numbers its changes", "[baseline]") {
  zmq::context_t context;
  baseline::CustomerService service(context, {.endpoints = {"tcp://127.0.0.1:*"}},
                                    CustomerGenerator(1).table(3));
  Customer customer = service.records().at(1);
  customer.city = "Roma";
  CHECK(service.upsert(customer) == 1);
  CHECK(service.remove(2) == std::optional<std::uint64_t>(2));
  CHECK_FALSE(service.remove(2));
  CHECK_THROWS_AS(service.upsert(Customer{}), std::invalid_argument);
  CHECK(service.records().size() == 2);
}
