// The synchronous baseline: the Order service calls every downstream service in turn, so a
// stopped one turns into a failed order.
#include <atomic>
#include <thread>

#include <catch2/catch.hpp>

#include "eda/notification/baseline.hpp"

using namespace eda::notification;
using namespace eda::notification::baseline;
using namespace std::chrono_literals;

namespace {

/// A downstream service answering on its own thread until destroyed.
class DownstreamThread {
 public:
  DownstreamThread(zmq::context_t& context, std::string role)
      : service_(context, {.role = std::move(role)}),
        thread_([this] { service_.serve_while([this] { return !stop_.load(); }, 5ms); }) {}
  ~DownstreamThread() {
    stop_ = true;
    thread_.join();
  }
  DownstreamThread(const DownstreamThread&) = delete;
  DownstreamThread& operator=(const DownstreamThread&) = delete;
  [[nodiscard]] const std::string& endpoint() const { return service_.endpoint(); }
  [[nodiscard]] std::uint64_t handled() const { return service_.handled(); }

 private:
  DownstreamService service_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace

TEST_CASE("the baseline places an order only after every downstream service answered",
          "[baseline]") {
  zmq::context_t context;
  DownstreamThread inventory(context, "inventory");
  DownstreamThread shipping(context, "shipping");
  DownstreamThread billing(context, "billing");
  SyncOrderService orders(context, {.downstream = {{"inventory", inventory.endpoint()},
                                                   {"shipping", shipping.endpoint()},
                                                   {"billing", billing.endpoint()}}});
  for (std::uint64_t n = 1; n <= 10; ++n) {
    CHECK(orders.place(sample_order(n)) == n);
  }
  CHECK(orders.stats().orders == 10);
  CHECK(orders.stats().downstream_calls == 30);
  CHECK(inventory.handled() == 10);
  CHECK(shipping.handled() == 10);
  CHECK(billing.handled() == 10);
}

TEST_CASE("in the baseline a stopped downstream service surfaces as a failed order", "[baseline]") {
  zmq::context_t context;
  DownstreamThread inventory(context, "inventory");
  std::string billing_endpoint;
  {
    DownstreamThread billing(context, "billing");
    billing_endpoint = billing.endpoint();
  }  // billing is stopped
  SyncOrderService orders(
      context, {.downstream = {{"inventory", inventory.endpoint()}, {"billing", billing_endpoint}},
                .call_timeout = 200ms});
  try {
    (void)orders.place(sample_order(1));
    FAIL("expected the order to fail");
  } catch (const std::runtime_error& e) {
    CHECK_THAT(e.what(), Catch::Contains("billing failed"));
    CHECK_THAT(e.what(), Catch::Contains("no reply"));
  }
  CHECK(orders.stats().failed_orders == 1);
  CHECK(orders.stats().orders == 0);
}

TEST_CASE("the baseline refuses unknown roles and empty orders", "[baseline]") {
  zmq::context_t context;
  CHECK_THROWS_WITH(DownstreamService(context, {.role = "marketing"}),
                    Catch::Contains("unknown role"));
  SyncOrderService orders(context, {});
  auto empty = sample_order(1);
  empty.quantity = 0;
  CHECK_THROWS_WITH(orders.place(empty), Catch::Contains("quantity"));
}
