#include "eda/cli.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <exception>
#include <iostream>

namespace eda::cli {

void add_common_options(CLI::App& app, CommonOptions& options, std::size_t max_count) {
  app.add_option_function<std::string>(
         "--transport",
         [&options](const std::string& name) { options.transport = parse_transport(name); },
         "Transport between roles run in this process: inproc, ipc or tcp (default inproc)")
      ->check(CLI::IsMember({"inproc", "ipc", "tcp"}));
  app.add_option("-n,--count", options.count, "How many events (or orders) to run")
      ->check(CLI::Range(std::size_t{1}, max_count))
      ->capture_default_str();
  app.add_flag_function(
      "-v,--verbose", [&options](std::int64_t n) { options.verbosity += static_cast<int>(n); },
      "Say more (repeat for every event in full as JSON)");
  app.add_flag_function(
      "-q,--quiet", [&options](std::int64_t) { options.verbosity = 0; },
      "Print only headings and the summary");
}

CLI::Option* add_endpoint_option(CLI::App& app, const std::string& flag, std::string& target,
                                 const std::string& description) {
  const CLI::Validator endpoint_check(
      [](std::string& value) -> std::string {
        try {
          validate_endpoint(value);
          return {};
        } catch (const std::invalid_argument& e) {
          return e.what();
        }
      },
      "");
  return app.add_option(flag, target, description)->check(endpoint_check)->type_name("ENDPOINT");
}

CLI::Option* add_curve_keys_option(CLI::App& app, std::string& directory) {
  return app.add_option("--curve-keys", directory, curve_keys_layout)
      ->check(CLI::ExistingDirectory.description(""))
      ->type_name("DIR");
}

CurveKeys load_curve_keys(const std::string& directory) {
  namespace fs = std::filesystem;
  const fs::path dir(directory);
  const fs::path server_secret = dir / "server.key_secret";
  const fs::path client_secret = dir / "clients" / "client.key_secret";
  std::error_code ec;
  CurveKeys keys;
  if (fs::exists(server_secret, ec)) {
    keys.server_keys = KeyPair::load(server_secret);
    keys.allowed_clients = AllowList::load(dir / "clients");
  }
  if (fs::exists(client_secret, ec)) {
    keys.client_keys = KeyPair::load(client_secret);
    keys.server_public_key = load_public_key(dir / "server.key");
  }
  if (!keys.server_keys && !keys.client_keys) {
    throw SecurityError("--curve-keys " + directory + " holds neither " + server_secret.string() +
                        " nor " + client_secret.string() + ": make them with eda-keys generate " +
                        directory + " server && eda-keys generate " + (dir / "clients").string() +
                        " client");
  }
  return keys;
}

CurveSetup curve_setup(zmq::context_t& context, const std::string& directory) {
  if (directory.empty()) return CurveSetup();
  return CurveSetup(context, load_curve_keys(directory));
}

namespace {

// Written by the signal handler, read by any thread: it must be lock-free to be both.
std::atomic<bool> stop_flag{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void on_stop_signal(int) { stop_flag.store(true); }

}  // namespace

struct StopOnSignals::Saved {
  struct sigaction interrupt {};
  struct sigaction terminate {};
};

StopOnSignals::StopOnSignals() : saved_(std::make_unique<Saved>()) {
  stop_flag.store(false);
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  // Why these two: see the class's documentation. SA_RESETHAND is the sign bit of an int.
  action.sa_flags = static_cast<int>(SA_RESTART | SA_RESETHAND);
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &saved_->interrupt);
  sigaction(SIGTERM, &action, &saved_->terminate);
}

StopOnSignals::~StopOnSignals() {
  sigaction(SIGINT, &saved_->interrupt, nullptr);
  sigaction(SIGTERM, &saved_->terminate, nullptr);
}

bool stop_requested() noexcept { return stop_flag.load(); }

bool interrupted_by_stop(const zmq::error_t& error) noexcept {
  return error.num() == EINTR && stop_requested();
}

int run(CLI::App& app, int argc, char** argv, const std::function<int()>& body) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 prints the help (exit 0) or the problem with a hint; any problem exits with 2.
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    return body();
  } catch (const zmq::error_t& e) {
    if (!interrupted_by_stop(e)) {
      std::cerr << app.get_name() << ": error: " << e.what() << '\n';
      return 1;
    }
    std::cout << "stopped: interrupted while waiting" << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << app.get_name() << ": error: " << e.what() << '\n';
    return 1;
  }
}

}  // namespace eda::cli
