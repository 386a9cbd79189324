// The throw-away nats-server with JetStream.
#include "eda/brokers/jetstream_server.hpp"

#include <nats/nats.h>

#include <csignal>

#include "eda/clock.hpp"

namespace eda::brokers {

std::optional<std::string> find_nats_server() {
  if (auto found = find_on_path("nats-server")) return found;
  // Debian installs it in /usr/sbin, which is not on every user's PATH.
  if (std::filesystem::exists("/usr/sbin/nats-server")) return "/usr/sbin/nats-server";
  return std::nullopt;
}

namespace {

/// The server's command line: JetStream on, client port on 127.0.0.1, no monitoring or cluster
/// port (none is opened unless asked for), store and log in `folder`.
std::vector<std::string> command_line(const std::string& program, std::uint16_t port,
                                      const std::filesystem::path& store,
                                      const std::filesystem::path& log,
                                      const std::vector<std::string>& extra_arguments) {
  std::vector<std::string> argv{
      program, "-js",          "-a", "127.0.0.1", "-p", std::to_string(port),
      "-sd",   store.string(), "-l", log.string()};
  argv.insert(argv.end(), extra_arguments.begin(), extra_arguments.end());
  return argv;
}

}  // namespace

JetStreamServer::JetStreamServer(const std::string& program, std::chrono::milliseconds ready_within,
                                 const std::vector<std::string>& extra_arguments)
    : folder_("jetstream"),
      port_(free_loopback_port()),
      url_("nats://127.0.0.1:" + std::to_string(port_)),
      argv_(command_line(program, port_, store_directory(), log_file(), extra_arguments)) {
  server_.emplace(spec());
  wait_until_ready(ready_within);
}

ChildSpec JetStreamServer::spec() const {
  return {.argv = argv_, .output = ChildOutput::capture, .end_with_owner = true};
}

void JetStreamServer::crash_and_restart(std::chrono::milliseconds ready_within) {
  server_->signal(SIGKILL);
  (void)server_->wait(std::chrono::seconds(10));
  server_.emplace(spec());
  wait_until_ready(ready_within);
}

void JetStreamServer::wait_until_ready(std::chrono::milliseconds ready_within) {
  using namespace std::chrono_literals;
  const Deadline deadline(ready_within);
  while (!deadline.expired()) {
    natsConnection* probe = nullptr;
    if (natsConnection_ConnectTo(&probe, url_.c_str()) == NATS_OK) {
      natsConnection_Destroy(probe);
      return;
    }
    // Paces the attempts and notices a server that failed at start.
    if (const auto ended = server_->wait_for(20ms)) {
      throw BrokerStartError("nats-server exited at start (" + ended->ending() + "); it said:\n" +
                             ended->output + tail_of_file(log_file()));
    }
  }
  throw BrokerStartError("nats-server did not accept connections on " + url_ + " within " +
                         std::to_string(ready_within.count()) + " ms; its log says:\n" +
                         tail_of_file(log_file()));
}

}  // namespace eda::brokers
