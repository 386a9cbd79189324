// scaling-demo's settings and its runs: the three designs all in one process (scenes.cpp),
// and each role of the partitioned group as a process of its own (roles.cpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "eda/cli.hpp"
#include "eda/narrator.hpp"
#include "eda/scaling/billing.hpp"
#include "eda/scaling/keyed_producer.hpp"

namespace eda::scaling::demo {

/// What the command line asked for.
struct Settings {
  cli::CommonOptions common;           // --count: orders (three events each)
  bool baseline = false;               // --baseline
  bool trace = false;                  // --trace (the partitioned group, all in one process)
  std::string design = "partitioned";  // --design partitioned|unkeyed
  std::string role = "all";            // --role all|coordinator|member|producer|report
  std::string coordinator = "tcp://127.0.0.1:5570";        // --coordinator (roles)
  std::string log_file = "scaling-orders.db";              // --log (roles)
  std::string checkpoint_file = "scaling-checkpoints.db";  // --checkpoints (roles)
  std::string gateway_file = "scaling-gateway.db";         // --gateway (roles)
  std::string gateway_endpoint;  // --gateway-endpoint: a GatewayService (--role member)
  std::size_t turn = 1;          // --turn: events of one partition per turn (--role member)
  std::size_t fetch = 32;        // --fetch: events of one partition per log read (--role member)
  std::uint32_t partitions = 16;                           // --partitions
  int gateway_ms = 1;                                      // --gateway-ms: time per gateway call
  int rate = 2000;                      // --rate: events per second the producer writes
  int members = 3;                      // --members: unkeyed workers, baseline servers
  std::string member_name = "billing";  // --name (--role member)
  int run_for_s = 0;                    // --run-for: seconds a service role runs (0: until Ctrl-C)
  std::string self;                     // this program's path (the all-in-one run starts a member
                                        // as a child process of itself, to kill it)
};

/// The partitioned group, narrated: one member falls behind, two join and the lag drains, one
/// is killed (SIGKILL) and its partitions move; every charge checked at the end.
int run_partitioned(const Settings& s, Narrator& say);
/// Competing consumers, unkeyed, on the same events: the reorderings detected.
int run_unkeyed(const Settings& s, Narrator& say);
/// The synchronous baseline: the Order service calls a pool of Billing servers round-robin.
int run_baseline(const Settings& s, Narrator& say);
/// One role of the partitioned group as its own process (or the report on its gateway).
int run_role(const Settings& s, Narrator& say);

/// The three events of one order's life, as every design of the demo sends them.
struct OrderLife {
  OrderPlaced placed;        ///< Step 1: charge the amount.
  OrderAmended amended;      ///< Step 2: a new amount (negative for the poison order).
  OrderCancelled cancelled;  ///< Step 3: refund.
};

/// Order `n`'s life; with `poison`, its amendment asks for a negative amount (the gateway
/// declines it every time).
OrderLife order_life(std::uint64_t n, bool poison);

/// Adds order `n`'s three events to `producer`, keyed by its id.
void add_order_events(KeyedProducer& producer, std::uint64_t n, bool poison);

}  // namespace eda::scaling::demo
