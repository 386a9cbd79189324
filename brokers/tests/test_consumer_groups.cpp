// Partitioned consumer groups on the brokers, checked with the scaling module's own handler and
// ordering check: the Order service's events (scaling's keyed producer, into its log) are
// relayed to the broker; members run scaling's Billing handler; scaling's gateway counts the
// charges applied out of order. The same tests run on JetStream and on RabbitMQ.
#include <signal.h>

#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <random>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "broker_fixtures.hpp"
#include "eda/brokers/jetstream_group.hpp"
#include "eda/brokers/rabbitmq_group.hpp"
#include "eda/child_process.hpp"
#include "scaling_test_support.hpp"

namespace {

using namespace std::chrono_literals;
using eda::brokers::GroupMember;
using eda::brokers::GroupOptions;
using eda::brokers::KeyedPublisher;
using scaling_test::eventually;
using scaling_test::Shop;

/// A group on one broker: its server (JetStream's is the test's own; RabbitMQ's node is the
/// run's, so each test names its group afresh) and how to reach it.
class GroupTarget {
 public:
  /// The target for `broker`, or null when its server is not installed (the test is skipped
  /// and says why).
  static std::unique_ptr<GroupTarget> make(const std::string& broker, GroupOptions options) {
    auto target = std::unique_ptr<GroupTarget>(new GroupTarget(broker, std::move(options)));
    if (broker == "jetstream") {
      const auto program = eda::brokers::testing::nats_server_or_skip();
      if (!program) return nullptr;
      target->jetstream_ =
          std::make_unique<eda::brokers::PartitionedJetStreamServer>(*program, target->options_);
    } else {
      const eda::brokers::RabbitNodeAddress* node = eda::brokers::testing::rabbit_node_or_skip();
      if (node == nullptr) return nullptr;
      target->amqp_.port = node->amqp_port;
    }
    return target;
  }

  [[nodiscard]] std::unique_ptr<KeyedPublisher> publisher() const {
    if (jetstream_) {
      return std::make_unique<eda::brokers::JetStreamKeyedPublisher>(jetstream_->url(), options_);
    }
    return std::make_unique<eda::brokers::RabbitKeyedPublisher>(amqp_, options_);
  }

  [[nodiscard]] std::unique_ptr<GroupMember> member() const {
    if (jetstream_) {
      return std::make_unique<eda::brokers::JetStreamGroupMember>(jetstream_->url(), options_);
    }
    return std::make_unique<eda::brokers::RabbitGroupMember>(amqp_, options_);
  }

  /// brokers-group-member's command line for a member named `name` billing at `gateway`.
  [[nodiscard]] std::vector<std::string> member_command(const std::string& name,
                                                        const std::string& gateway,
                                                        std::int64_t call_us) const {
    std::vector<std::string> argv{EDA_BROKERS_GROUP_MEMBER,
                                  "--broker",
                                  broker_,
                                  "--name",
                                  name,
                                  "--gateway",
                                  gateway,
                                  "--group",
                                  options_.name,
                                  "--partitions",
                                  std::to_string(options_.partitions),
                                  "--redeliver-ms",
                                  std::to_string(options_.redeliver_after.count()),
                                  "--call-us",
                                  std::to_string(call_us)};
    if (jetstream_) {
      argv.insert(argv.end(), {"--url", jetstream_->url()});
    } else {
      argv.insert(argv.end(), {"--amqp-port", std::to_string(amqp_.port)});
    }
    return argv;
  }

 private:
  GroupTarget(std::string broker, GroupOptions options)
      : broker_(std::move(broker)), options_(std::move(options)) {
    // A fresh name: RabbitMQ's node is shared by the whole run.
    options_.name += "_" + std::to_string(std::random_device{}() % 1'000'000);
  }

  std::string broker_;
  GroupOptions options_;
  std::unique_ptr<eda::brokers::PartitionedJetStreamServer> jetstream_;
  eda::brokers::AmqpEndpoint amqp_;
};

/// Relays the events of orders `first` .. `first + count - 1` (3 steps each), written to the
/// shop's log by scaling's keyed producer, to the broker; returns how many.
std::uint64_t produce_and_relay(const Shop& shop, KeyedPublisher& publisher, std::uint64_t first,
                                std::uint64_t count) {
  const std::uint64_t events = shop.produce(first, count);
  const eda::scaling::PartitionLog log(shop.log_file.path(), shop.partition_count);
  std::uint64_t relayed = 0;
  for (eda::scaling::PartitionId partition = 0; partition < shop.partition_count; ++partition) {
    // Only this call's orders: the log keeps the earlier ones too.
    for (const auto& logged : log.read(partition, 0, 1'000'000)) {
      const auto event = eda::DecodedEvent::decode(logged.envelope);
      const std::uint64_t order = std::stoull(logged.key.substr(logged.key.find('-') + 1));
      if (order < first || order >= first + count) continue;
      publisher.publish(logged.key, event.event_id(), logged.envelope);
      ++relayed;
    }
  }
  publisher.wait_for_acks();
  REQUIRE(relayed == events);
  return relayed;
}

/// A member in a process of its own (brokers-group-member), its output kept for messages.
class ChildMember {
 public:
  explicit ChildMember(std::vector<std::string> argv)
      : child_(eda::ChildSpec{
            .argv = std::move(argv), .output = eda::ChildOutput::capture, .grace = 2000ms}) {}

  /// Whether it printed `ready` (subscribed to every partition) within the bound.
  bool await_ready() {
    return eventually([&] {
      (void)child_.wait_for(1ms, keep());
      return output_.find("ready\n") != std::string::npos;
    });
  }
  /// Kills it with SIGKILL, as a crash would; true when that is how it ended.
  bool kill() {
    child_.signal(SIGKILL);
    return child_.wait(10s, keep()).signal == SIGKILL;
  }
  /// Stops it with SIGTERM; true when it exited cleanly.
  bool stop() {
    child_.signal(SIGTERM);
    return child_.wait(10s, keep()).succeeded();
  }
  [[nodiscard]] const std::string& output() const { return output_; }

 private:
  eda::LineHandler keep() {
    return [this](std::string_view line) { (output_ += line) += '\n'; };
  }
  eda::ChildProcess child_;
  std::string output_;
};

}  // namespace

TEST_CASE(
    "consumer group on a broker: three members, every event charged once, no order applied "
    "out of order",
    "[brokers][group]") {
  const std::string broker = GENERATE(as<std::string>{}, "jetstream", "rabbitmq");
  INFO("broker: " << broker);
  const auto target = GroupTarget::make(broker, {.partitions = 4});
  if (!target) return;
  const Shop shop;
  const std::uint64_t events = produce_and_relay(shop, *target->publisher(), 1, 200);

  std::vector<std::jthread> members;
  std::vector<eda::brokers::BillingTally> tallies(3);
  for (std::size_t i = 0; i < tallies.size(); ++i) {
    members.emplace_back([&, i, member = target->member()](const std::stop_token& stop) {
      eda::scaling::BillingGateway gateway(shop.gateway_file.path());
      tallies[i] = eda::brokers::run_billing(*member, gateway, "billing-" + std::to_string(i + 1),
                                             stop, 20ms);
    });
  }
  const bool all_charged = eventually([&] { return shop.gateway().charges() == events; }, 60s);
  for (auto& member : members) member.request_stop();
  members.clear();  // joined: the tallies are theirs no more

  INFO("charged by member: " << tallies[0].charged << ", " << tallies[1].charged << ", "
                             << tallies[2].charged);
  CHECK(all_charged);
  const auto gateway = shop.gateway();
  CHECK(gateway.charges() == events);
  CHECK(gateway.orders() == 200);
  CHECK(gateway.order_violations() == 0);
  CHECK(gateway.double_charges() == 0);
  CHECK(tallies[0].unreadable + tallies[1].unreadable + tallies[2].unreadable == 0);
  if (broker == "jetstream") {
    // Every member fetches every partition: the work is shared. (RabbitMQ's single active
    // consumer gives each queue to the member that subscribed first: the first member here.)
    const int working =
        (tallies[0].charged > 0) + (tallies[1].charged > 0) + (tallies[2].charged > 0);
    CHECK(working >= 2);
  }
}

TEST_CASE("consumer group on a broker: every event of a key comes from one partition",
          "[brokers][group]") {
  const std::string broker = GENERATE(as<std::string>{}, "jetstream", "rabbitmq");
  INFO("broker: " << broker);
  const auto target = GroupTarget::make(broker, {.partitions = 4});
  if (!target) return;
  const Shop shop;
  const std::uint64_t events = produce_and_relay(shop, *target->publisher(), 1, 60);

  const auto member = target->member();
  std::map<std::string, std::set<eda::scaling::PartitionId>> partitions_of_order;
  std::uint64_t received = 0;
  const eda::Deadline deadline(60s);
  while (received < events && !deadline.expired()) {
    const auto delivery = member->next(100ms);
    if (!delivery) continue;
    const auto step = eda::scaling::order_step_of(eda::DecodedEvent::decode(delivery->envelope));
    partitions_of_order[step.order_id].insert(delivery->partition);
    member->ack(*delivery);
    ++received;
  }
  REQUIRE(received == events);
  REQUIRE(partitions_of_order.size() == 60);
  std::set<eda::scaling::PartitionId> used;
  for (const auto& [order, partitions] : partitions_of_order) {
    INFO(order);
    CHECK(partitions.size() == 1);
    used.insert(partitions.begin(), partitions.end());
  }
  CHECK(used.size() > 1);  // 60 keys over 4 partitions: spread, not all on one
}

TEST_CASE(
    "consumer group on a broker: a member killed mid-stream, its partitions taken over, "
    "nothing lost, nothing out of order",
    "[brokers][group][crash]") {
  const std::string broker = GENERATE(as<std::string>{}, "jetstream", "rabbitmq");
  INFO("broker: " << broker);
  const auto target =
      GroupTarget::make(broker, {.partitions = 4, .redeliver_after = 1000ms, .prefetch = 10});
  if (!target) return;
  const Shop shop;
  // The victim subscribes first: on RabbitMQ it is then the active consumer of every queue,
  // and the survivor waits on all of them.
  ChildMember victim(target->member_command("victim-1", shop.gateway_file.path(), 2000));
  REQUIRE(victim.await_ready());
  ChildMember survivor(target->member_command("survivor-1", shop.gateway_file.path(), 2000));
  REQUIRE(survivor.await_ready());

  const auto publisher = target->publisher();
  std::uint64_t events = produce_and_relay(shop, *publisher, 1, 100);
  // Killed in the middle of its work, holding unacknowledged events.
  REQUIRE(eventually([&] { return shop.gateway().charges_by("victim") >= 30; }, 60s));
  REQUIRE(victim.kill());
  const std::uint64_t by_victim = shop.gateway().charges_by("victim");
  events += produce_and_relay(shop, *publisher, 101, 50);

  const bool all_charged = eventually([&] { return shop.gateway().charges() == events; }, 60s);
  INFO("victim: " << victim.output() << "survivor: " << survivor.output());
  CHECK(all_charged);
  CHECK(survivor.stop());
  const auto gateway = shop.gateway();
  CHECK(gateway.charges() == events);
  CHECK(gateway.order_violations() == 0);
  CHECK(gateway.double_charges() == 0);
  CHECK(gateway.charges_by("victim") == by_victim);  // dead: charged nothing after the kill
  CHECK(gateway.charges_by("survivor") == events - by_victim);
}

TEST_CASE("JetStream without the partition mapping: publishing to the group is a clear error",
          "[brokers][group]") {
  CHECK_THAT(
      eda::brokers::partition_mapping_config({.name = "orders", .partitions = 8}),
      Catch::Matchers::Contains(R"("orders.*": "orders.{{partition(8,1)}}.{{wildcard(1)}}")"));
  CHECK_THROWS_AS(eda::brokers::partition_mapping_config({.partitions = 0}), std::invalid_argument);

  const auto program = eda::brokers::testing::nats_server_or_skip();
  if (!program) return;
  const eda::brokers::JetStreamServer plain(*program);  // no configuration: no mapping
  eda::brokers::JetStreamKeyedPublisher publisher(plain.url());
  CHECK_THROWS_WITH(publisher.publish("order-1", "id-1", "bytes"),
                    Catch::Matchers::Contains("partition mapping"));
  CHECK_THROWS_AS(publisher.publish("order.1", "id-2", "bytes"), std::invalid_argument);
}
