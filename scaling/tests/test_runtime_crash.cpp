// Members that die: a member runs as a program of its own (scaling-test-member) and is killed
// with SIGKILL. Its partitions move after the session timeout, resume from the last committed
// checkpoint, and the events it charged after that checkpoint are delivered again but not
// charged again. Then a longer run of joins, clean stops and kills while events flow: every
// event charged once, every order in order.
#include <signal.h>

#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "eda/child_process.hpp"
#include "scaling_test_support.hpp"

using namespace eda::scaling;
using namespace std::chrono_literals;
using scaling_test::eventually;
using scaling_test::MemberThread;
using scaling_test::Shop;

namespace {

/// A member in a child process, its output kept for failure messages.
class ChildMember {
 public:
  ChildMember(const Shop& shop, const std::string& endpoint, const std::string& name,
              std::vector<std::string> extra = {})
      : child_(eda::ChildSpec{.argv = arguments(shop, endpoint, name, std::move(extra)),
                              .output = eda::ChildOutput::capture,
                              .grace = 2000ms}) {}

  /// Kills it with SIGKILL, as a crash would; true when it was killed by it.
  bool kill() {
    child_.signal(SIGKILL);
    const auto result = child_.wait(10s, keep());
    return result.signal == SIGKILL;
  }

  /// Whether it owns partitions now, by the last line it printed (`member ID owns N ...`);
  /// false once it has ended.
  bool owns_some() {
    // (1 ms, not 0: a wait of 0 returns before it reads what the child wrote.)
    if (child_.wait_for(1ms, keep()).has_value()) return false;
    const auto owns = output_.rfind(" owns ");
    return owns != std::string::npos && output_.compare(owns, 8, " owns 0 ") != 0;
  }

  /// Sends `number` (SIGSTOP, SIGCONT) to it.
  void signal(int number) { child_.signal(number); }

  /// How many times it printed `text` (reading what it printed meanwhile).
  std::size_t times_printed(std::string_view text) {
    (void)child_.wait_for(1ms, keep());
    std::size_t count = 0;
    for (std::size_t at = output_.find(text); at != std::string::npos;
         at = output_.find(text, at + 1)) {
      ++count;
    }
    return count;
  }

  [[nodiscard]] const std::string& output() const { return output_; }

 private:
  static std::vector<std::string> arguments(const Shop& shop, const std::string& endpoint,
                                            const std::string& name,
                                            std::vector<std::string> extra) {
    std::vector<std::string> argv{EDA_SCALING_MEMBER,
                                  "--coordinator",
                                  endpoint,
                                  "--log",
                                  shop.log_file.path(),
                                  "--checkpoints",
                                  shop.checkpoint_file.path(),
                                  "--gateway",
                                  shop.gateway_file.path(),
                                  "--partitions",
                                  std::to_string(shop.partition_count),
                                  "--name",
                                  name};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }
  eda::LineHandler keep() {
    return [this](std::string_view line) { (output_ += line) += '\n'; };
  }

  eda::ChildProcess child_;
  std::string output_;
};

/// The sum of the committed offsets of every partition: the events committed as done.
std::uint64_t committed(const Shop& shop) {
  CheckpointStore store(shop.checkpoint_file.path(), eda::sqlite::Durability::normal);
  std::uint64_t done = 0;
  for (const auto& checkpoint : store.read_all("billing")) done += checkpoint.offset;
  return done;
}

/// Charges recorded by members named `name`.
std::uint64_t charges_by(const Shop& shop, const std::string& name) {
  return shop.gateway().charges_by(name);
}

}  // namespace

TEST_CASE(
    "crash: a SIGKILLed member's partitions move after the session timeout and resume "
    "from its checkpoint, re-delivered events not charged again",
    "[scaling][runtime][crash]") {
  Shop shop(8);
  zmq::context_t context;
  CoordinatorService coordinator(context, shop.coordinator());
  MemberThread survivor(context, shop.member(coordinator.endpoint()));
  REQUIRE(eventually([&] { return survivor.status().owned.size() == 8; }));
  // The child never commits on its own (every event and interval too large): everything it
  // charges before its death is after its last checkpoint, and must be delivered again.
  ChildMember doomed(shop, coordinator.endpoint(), "doomed",
                     {"--commit-every", "1000000", "--commit-interval-ms", "600000"});
  REQUIRE(eventually([&] { return survivor.status().owned.size() == 4; }));
  std::uint64_t events = shop.produce(1, 400, 3);
  REQUIRE(eventually([&] { return charges_by(shop, "doomed") > 0; }));
  INFO(doomed.output());
  REQUIRE(doomed.kill());
  const std::uint64_t charged_by_doomed = charges_by(shop, "doomed");
  CHECK(survivor.status().owned.size() == 4);  // nothing moves before the session timeout...
  events += shop.produce(1000, 100, 3);
  REQUIRE(eventually([&] { return survivor.status().owned.size() == 8; }));  // ...then all do
  REQUIRE(eventually([&] { return survivor.status().processed == events; }));
  auto gateway = shop.gateway();
  CHECK(gateway.charges() == events);
  CHECK(gateway.double_charges() == 0);
  CHECK(gateway.order_violations() == 0);
  // Every event the dead member charged came round again to the survivor, which was told
  // "already charged" by the gateway for each.
  CHECK(survivor.status().already_charged == charged_by_doomed);
  REQUIRE(eventually([&] { return coordinator.status().group.deaths == 1; }));
  const auto status = coordinator.status();
  CHECK(status.group.deaths == 1);
  CHECK(status.fences_failed == 0);
}

TEST_CASE(
    "crash: a member frozen past the session timeout (a zombie) is fenced when it wakes: "
    "its partitions moved on, it rejoins, nothing is charged twice",
    "[scaling][runtime][crash]") {
  Shop shop(8);
  zmq::context_t context;
  CoordinatorService coordinator(context, shop.coordinator());
  MemberThread survivor(context, shop.member(coordinator.endpoint()));
  REQUIRE(eventually([&] { return survivor.status().owned.size() == 8; }));
  ChildMember zombie(shop, coordinator.endpoint(), "zombie");
  REQUIRE(eventually([&] { return survivor.status().owned.size() == 4; }));
  std::uint64_t events = shop.produce(1, 300, 3);
  REQUIRE(eventually([&] { return charges_by(shop, "zombie") > 0; }));
  // Frozen once idle, with everything committed: a process frozen inside a write would hold
  // the stand-in gateway's SQLite lock and stall every member (a real gateway is a service).
  REQUIRE(eventually([&] { return committed(shop) == events; }));
  zombie.signal(SIGSTOP);  // alive, but silent: a long pause, a stalled VM
  REQUIRE(eventually([&] { return survivor.status().owned.size() == 8; }));
  events += shop.produce(1000, 300, 3);
  REQUIRE(eventually([&] { return survivor.status().processed >= events / 2; }));
  zombie.signal(SIGCONT);
  // It goes on where it was until its next heartbeat is refused (its commits fenced), then
  // joins again under a new id and is given partitions back.
  REQUIRE(eventually([&] { return zombie.times_printed("member zombie-") >= 3; }));
  INFO(zombie.output());
  REQUIRE(eventually([&] { return survivor.status().owned.size() == 4; }));
  events += shop.produce(2000, 100, 3);
  auto gateway = shop.gateway();
  REQUIRE(eventually([&] { return gateway.charges() >= events; }));
  CHECK(gateway.charges() == events);
  CHECK(gateway.double_charges() == 0);
  CHECK(gateway.order_violations() == 0);
  REQUIRE(eventually([&] { return coordinator.status().group.deaths == 1; }));
  CHECK(coordinator.status().members.size() == 2);
}

TEST_CASE(
    "crash: without idempotency keys, the events re-delivered after a kill are charged "
    "twice, and the double-charge check finds them",
    "[scaling][runtime][crash]") {
  Shop shop(4);
  zmq::context_t context;
  CoordinatorService coordinator(context, shop.coordinator());
  auto options = shop.member(coordinator.endpoint());
  options.idempotent = false;
  MemberThread survivor(context, options);
  REQUIRE(eventually([&] { return survivor.status().owned.size() == 4; }));
  ChildMember doomed(shop, coordinator.endpoint(), "doomed",
                     {"--commit-every", "1000000", "--commit-interval-ms", "600000"});
  REQUIRE(eventually([&] { return survivor.status().owned.size() == 2; }));
  const std::uint64_t events = shop.produce(1, 200, 3);
  REQUIRE(eventually([&] { return charges_by(shop, "doomed") > 0; }));
  REQUIRE(doomed.kill());
  REQUIRE(eventually([&] { return survivor.status().processed == events; }));
  auto gateway = shop.gateway();
  // The survivor's member keys charges itself, so it still charges the re-delivered ones: the
  // check sees exactly the dead member's charges twice.
  CHECK(gateway.double_charges() == charges_by(shop, "doomed"));
  CHECK(gateway.double_charges() > 0);
}

TEST_CASE(
    "crash: 20000 events through joins, clean stops and SIGKILLs: 0 order violations, "
    "0 double charges, none lost",
    "[scaling][runtime][crash]") {
  Shop shop(32);
  zmq::context_t context;
  CoordinatorService coordinator(context, shop.coordinator());
  std::uint64_t events = 0;
  std::uint64_t next_order = 1;
  const auto produce = [&](std::uint64_t orders) {
    events += shop.produce(next_order, orders, 4);  // placed, amended, amended, cancelled
    next_order += orders;
  };
  auto first = std::make_unique<MemberThread>(context, shop.member(coordinator.endpoint()));
  produce(500);
  auto second = std::make_unique<MemberThread>(context, shop.member(coordinator.endpoint()));
  produce(500);
  std::optional<ChildMember> child(std::in_place, shop, coordinator.endpoint(), "child");
  REQUIRE(eventually([&] { return child->owns_some(); }));
  produce(500);
  REQUIRE(eventually([&] { return charges_by(shop, "child") > 0; }));
  produce(500);
  REQUIRE(child->kill());  // a crash mid-flow
  produce(500);
  second->stop();  // a clean stop
  produce(500);
  std::optional<ChildMember> another(std::in_place, shop, coordinator.endpoint(), "another");
  auto third = std::make_unique<MemberThread>(context, shop.member(coordinator.endpoint()));
  REQUIRE(eventually([&] { return another->owns_some(); }));
  produce(500);
  REQUIRE(eventually([&] { return charges_by(shop, "another") > 0; }));
  produce(500);
  REQUIRE(another->kill());
  produce(500);
  first->stop();
  produce(500);
  REQUIRE(events == 20'000);
  REQUIRE(eventually([&] { return third->status().owned.size() == 32; }, 30s));
  auto gateway = shop.gateway();
  REQUIRE(eventually([&] { return gateway.charges() >= events; }, 60s));
  CHECK(gateway.charges() == events);
  CHECK(gateway.double_charges() == 0);
  CHECK(gateway.order_violations() == 0);
  CHECK(gateway.orders() == 5000);
  REQUIRE(eventually([&] { return coordinator.status().group.leaves == 2; }));
  const auto status = coordinator.status();
  CHECK(status.group.deaths == 2);
  CHECK(status.group.leaves == 2);
  CHECK(status.fences_failed == 0);
}
