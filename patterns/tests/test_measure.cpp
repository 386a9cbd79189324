// The small helpers: sequence tracking, endpoints, the latency recorder and the shared CLI.
#include <cerrno>
#include <csignal>
#include <functional>
#include <iostream>
#include <sstream>

#include <catch2/catch.hpp>

#include "eda/cli.hpp"
#include "eda/endpoint.hpp"
#include "eda/latency.hpp"
#include "eda/sequence.hpp"

TEST_CASE("the sequence tracker judges each number per source", "[sequence]") {
  eda::SequenceTracker tracker;
  CHECK(tracker.observe("a", 5).continuity == eda::Continuity::first);
  CHECK(tracker.observe("a", 6).continuity == eda::Continuity::in_order);
  CHECK(tracker.observe("b", 1).continuity == eda::Continuity::first);
  const auto gap = tracker.observe("a", 10);
  CHECK(gap.continuity == eda::Continuity::gap);
  CHECK(gap.missed == 3);
  CHECK(tracker.observe("a", 10).continuity == eda::Continuity::duplicate);
  CHECK(tracker.observe("a", 2).continuity == eda::Continuity::duplicate);
  CHECK(tracker.observe("a", 11).continuity == eda::Continuity::in_order);
  CHECK(tracker.observe("a", 20, false).continuity == eda::Continuity::later);
  CHECK(tracker.gaps() == 1);
  CHECK(tracker.missed() == 3);
  CHECK(tracker.duplicates() == 2);
  CHECK(tracker.last("a") == 20U);
  tracker.forget("a");
  CHECK_FALSE(tracker.last("a"));
  CHECK(tracker.observe("a", 1).continuity == eda::Continuity::first);
}

TEST_CASE("endpoints are validated with messages that say what would work", "[endpoint]") {
  CHECK_NOTHROW(eda::validate_endpoint("inproc://orders"));
  CHECK_NOTHROW(eda::validate_endpoint("ipc:///tmp/orders.sock"));
  CHECK_NOTHROW(eda::validate_endpoint("tcp://127.0.0.1:5556"));
  CHECK_NOTHROW(eda::validate_endpoint("tcp://*:5556"));
  CHECK_NOTHROW(eda::validate_endpoint("tcp://127.0.0.1:*"));
  CHECK_THROWS_WITH(eda::validate_endpoint("127.0.0.1:5556"), Catch::Contains("must start with"));
  CHECK_THROWS_WITH(eda::validate_endpoint("tcp://127.0.0.1"), Catch::Contains("host:port"));
  CHECK_THROWS_WITH(eda::validate_endpoint("tcp://127.0.0.1:99999"), Catch::Contains("port"));
  CHECK_THROWS_WITH(eda::validate_endpoint("tcp://127.0.0.1:http"),
                    Catch::Contains("invalid port"));
  CHECK_THROWS_WITH(eda::validate_endpoint("inproc://"), Catch::Contains("needs a name"));
  CHECK_THROWS_WITH(eda::validate_endpoint("ipc://" + std::string(200, 'x')),
                    Catch::Contains("107"));
}

TEST_CASE("binding an ephemeral endpoint reports the real one", "[endpoint]") {
  zmq::context_t context;
  zmq::socket_t a(context, zmq::socket_type::rep);
  zmq::socket_t b(context, zmq::socket_type::rep);
  const std::string first =
      eda::bind_endpoint(a, eda::ephemeral_endpoint(eda::Transport::tcp, "x"));
  const std::string second =
      eda::bind_endpoint(b, eda::ephemeral_endpoint(eda::Transport::tcp, "x"));
  CHECK(first.rfind("tcp://127.0.0.1:", 0) == 0);
  CHECK(first.find('*') == std::string::npos);
  CHECK(first != second);
  CHECK(eda::ephemeral_endpoint(eda::Transport::ipc, "x") !=
        eda::ephemeral_endpoint(eda::Transport::ipc, "x"));
  CHECK(eda::ephemeral_endpoint(eda::Transport::inproc, "x") !=
        eda::ephemeral_endpoint(eda::Transport::inproc, "x"));
  CHECK(eda::connectable_endpoint("tcp://0.0.0.0:5556") == "tcp://127.0.0.1:5556");
  CHECK(eda::connectable_endpoint("tcp://[::]:5556") == "tcp://[::1]:5556");
  zmq::socket_t c(context, zmq::socket_type::rep);
  CHECK_THROWS_WITH(eda::bind_endpoint(c, first), Catch::Contains("cannot bind " + first));
}

TEST_CASE("the latency recorder reports nearest-rank percentiles", "[latency]") {
  eda::LatencyRecorder recorder;
  for (int i = 100; i >= 1; --i) recorder.record(std::int64_t{i} * 1000);
  const auto s = recorder.summary();
  CHECK(s.count == 100);
  CHECK(s.min_ns == 1000);
  CHECK(s.p50_ns == 50'000);
  CHECK(s.p90_ns == 90'000);
  CHECK(s.p99_ns == 99'000);
  CHECK(s.max_ns == 100'000);
  CHECK(s.mean_ns == Approx(50'500));
  CHECK(s.to_string() == "n=100 p50=50.0us p90=90.0us p99=99.0us max=100.0us");
  recorder.reset();
  CHECK(recorder.summary().count == 0);
}

TEST_CASE("the latency recorder stays bounded and keeps exact extremes", "[latency]") {
  eda::LatencyRecorder recorder(1000);
  for (int i = 1; i <= 100'000; ++i) recorder.record(std::chrono::microseconds(i % 100 + 1));
  const auto s = recorder.summary();
  CHECK(s.count == 100'000);
  CHECK(s.min_ns == 1000);
  CHECK(s.max_ns == 100'000);
  CHECK(s.p50_ns == Approx(50'000).margin(10'000));  // a sample of the uniform 1..100 us
  CHECK(eda::format_duration(850) == "850ns");
  CHECK(eda::format_duration(4'560'000) == "4.56ms");
  CHECK(eda::format_duration(1'200'000'000) == "1.20s");
}

TEST_CASE("merging recorders keeps count, extremes and mean exact, and weighs both runs",
          "[latency]") {
  // Two threads' recorders, each past its capacity of 100 samples: one saw 10 000 latencies of
  // 1 us and a single outlier of 500 us, the other 10 000 of 3 us.
  eda::LatencyRecorder fast(100);
  for (int i = 0; i < 10'000; ++i) fast.record(std::chrono::microseconds(1));
  fast.record(std::chrono::microseconds(500));
  eda::LatencyRecorder slow(100);
  for (int i = 0; i < 10'000; ++i) slow.record(std::chrono::microseconds(3));

  eda::LatencyRecorder all(100);
  all.merge(fast);
  all.merge(slow);
  const auto s = all.summary();
  CHECK(s.count == 20'001);
  CHECK(s.min_ns == 1'000);
  CHECK(s.max_ns == 500'000);  // exact, whether or not the outlier was among the kept samples
  CHECK(s.mean_ns == Approx((10'000.0 * 1'000 + 500'000 + 10'000.0 * 3'000) / 20'001));
  CHECK(s.p90_ns == 3'000);  // half of the run was 3 us: it must not be drowned by the other half
  CHECK(s.p50_ns >= 1'000);

  // Recorders that never overflowed merge sample for sample.
  eda::LatencyRecorder a(10), b(10);
  for (int i = 1; i <= 4; ++i) a.record(std::int64_t{i});
  for (int i = 5; i <= 8; ++i) b.record(std::int64_t{i});
  a.merge(b);
  CHECK(a.count() == 8);
  CHECK(a.summary().p50_ns == 4);
  CHECK(a.summary().max_ns == 8);
  a.merge(eda::LatencyRecorder{});  // an empty recorder changes nothing
  CHECK(a.count() == 8);
}

TEST_CASE("the shared CLI parses the common flags and rejects bad values", "[cli]") {
  const auto parse = [](std::vector<std::string> args, eda::cli::CommonOptions& options,
                        std::string* endpoint = nullptr) {
    CLI::App app{"test"};
    eda::cli::add_common_options(app, options, 1000);
    std::string ignored;
    eda::cli::add_endpoint_option(app, "--events", endpoint ? *endpoint : ignored, "events");
    std::reverse(args.begin(), args.end());
    app.parse(args);
  };
  eda::cli::CommonOptions options;
  std::string endpoint;
  parse({"--transport", "tcp", "--count", "12", "-vv", "--events", "tcp://127.0.0.1:5556"}, options,
        &endpoint);
  CHECK(options.transport == eda::Transport::tcp);
  CHECK(options.count == 12);
  CHECK(options.verbosity == 3);
  CHECK(endpoint == "tcp://127.0.0.1:5556");

  eda::cli::CommonOptions quiet;
  parse({"-q"}, quiet);
  CHECK(quiet.verbosity == 0);

  eda::cli::CommonOptions bad;
  CHECK_THROWS_AS(parse({"--transport", "udp"}, bad), CLI::ValidationError);
  CHECK_THROWS_AS(parse({"--count", "0"}, bad), CLI::ValidationError);
  CHECK_THROWS_AS(parse({"--count", "1001"}, bad), CLI::ValidationError);
  CHECK_THROWS_AS(parse({"--events", "localhost:1"}, bad), CLI::ValidationError);
}

namespace {

/// The handler installed for `signal` now.
void (*handler_of(int signal))(int) {
  struct sigaction current {};
  sigaction(signal, nullptr, &current);
  return current.sa_handler;
}

/// What cppzmq throws when a signal ends a ZeroMQ wait.
[[noreturn]] void throw_interrupted_wait() {
  errno = EINTR;
  throw zmq::error_t();
}

/// eda::cli::run() on `body` with no arguments: its exit code, and what it printed.
struct RunResult {
  int code;
  std::string out;
  std::string err;
};
RunResult run_cli(const std::function<int()>& body) {
  CLI::App app{"test", "stopper"};
  std::ostringstream out, err;
  auto* const old_out = std::cout.rdbuf(out.rdbuf());
  auto* const old_err = std::cerr.rdbuf(err.rdbuf());
  char name[] = "stopper";
  char* argv[] = {name, nullptr};
  const int code = eda::cli::run(app, 1, argv, body);
  std::cout.rdbuf(old_out);
  std::cerr.rdbuf(old_err);
  return {code, out.str(), err.str()};
}

}  // namespace

TEST_CASE("Ctrl-C and SIGTERM ask the program to stop, the handlers before are put back", "[cli]") {
  const auto interrupt_before = handler_of(SIGINT);
  const auto terminate_before = handler_of(SIGTERM);
  {
    const eda::cli::StopOnSignals stop_on_signals;
    CHECK_FALSE(eda::cli::stop_requested());
    CHECK(handler_of(SIGTERM) != terminate_before);
    REQUIRE(std::raise(SIGTERM) == 0);      // the process lives on...
    CHECK(eda::cli::stop_requested());      // ...asked to stop
    CHECK(handler_of(SIGTERM) == SIG_DFL);  // a second SIGTERM would end it at once
    CHECK(handler_of(SIGINT) != interrupt_before);
  }
  CHECK(handler_of(SIGINT) == interrupt_before);
  CHECK(handler_of(SIGTERM) == terminate_before);
  {
    const eda::cli::StopOnSignals again;
    CHECK_FALSE(eda::cli::stop_requested());  // each one starts afresh
    REQUIRE(std::raise(SIGINT) == 0);
    CHECK(eda::cli::stop_requested());
  }
}

TEST_CASE(
    "a ZeroMQ wait cut short by a stop request ends the run cleanly, without one it is an error",
    "[cli]") {
  // Without a stop request, EINTR is an error like any other: exit 1, saying what happened.
  const RunResult failed = run_cli([]() -> int {
    const eda::cli::StopOnSignals stop_on_signals;
    throw_interrupted_wait();
  });
  CHECK(failed.code == 1);
  CHECK(failed.err == "stopper: error: Interrupted system call\n");

  // After one, it is the stop that was asked for: exit 0, and the last line says so.
  const RunResult stopped = run_cli([]() -> int {
    const eda::cli::StopOnSignals stop_on_signals;
    REQUIRE(std::raise(SIGTERM) == 0);
    throw_interrupted_wait();
  });
  CHECK(stopped.code == 0);
  CHECK(stopped.out == "stopped: interrupted while waiting\n");
  CHECK(stopped.err.empty());

  // unless_stopped() takes the interruption for an answer, and nothing else.
  const eda::cli::StopOnSignals stop_on_signals;
  CHECK(eda::cli::unless_stopped([] {}));
  CHECK_THROWS_AS(eda::cli::unless_stopped(throw_interrupted_wait), zmq::error_t);  // no stop yet
  REQUIRE(std::raise(SIGINT) == 0);
  CHECK_FALSE(eda::cli::unless_stopped(throw_interrupted_wait));
  CHECK_THROWS_AS(eda::cli::unless_stopped([] {
                    errno = EAGAIN;
                    throw zmq::error_t();
                  }),
                  zmq::error_t);
}
