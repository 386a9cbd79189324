// The throw-away RabbitMQ node: started detached in a session of its own, found again through
// node.env, stopped with its own port mapper.
#include "eda/brokers/rabbitmq_node.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "eda/clock.hpp"

namespace eda::brokers {

namespace {

using namespace std::chrono_literals;

constexpr const char* rabbit_bin = "/usr/lib/rabbitmq/bin";

std::string ctl_program() { return std::string(rabbit_bin) + "/rabbitmqctl"; }

/// Whether a process has ended: reaped here when it is our child, else gone from /proc or a
/// zombie nobody reaped yet (its parent, now init, will).
bool process_gone(pid_t pid) {
  int status = 0;
  const pid_t waited = ::waitpid(pid, &status, WNOHANG);
  if (waited == pid) return true;
  if (waited == 0) return false;  // our child, still running
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string all;
  std::getline(stat, all);
  const auto paren = all.rfind(')');
  return paren == std::string::npos || paren + 2 >= all.size() || all[paren + 2] == 'Z';
}

bool wait_gone(pid_t pid, std::chrono::milliseconds within) {
  const Deadline deadline(within);
  while (!process_gone(pid)) {
    if (deadline.expired()) return false;
    std::this_thread::sleep_for(50ms);  // polling a process we cannot wait on: no signal exists
  }
  return true;
}

/// `env NAME=value... program args...`: ChildProcess passes our environment on, env adds the
/// node's to it.
std::vector<std::string> with_environment(const RabbitNodeAddress& node,
                                          std::vector<std::string> command) {
  std::vector<std::string> argv{"/usr/bin/env"};
  for (auto& item : node.environment()) argv.push_back(std::move(item));
  argv.insert(argv.end(), std::make_move_iterator(command.begin()),
              std::make_move_iterator(command.end()));
  return argv;
}

/// Starts the server in a new session with its output in `log`, detached from this process: it
/// holds none of our file descriptors (a CTest fixture's pipes would keep CTest waiting).
pid_t spawn_detached(const std::vector<std::string>& argv, const std::filesystem::path& log,
                     const std::filesystem::path& folder) {
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out < 0) throw StorageError("cannot open " + log.string() + ": " + std::strerror(errno));
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(out);
    throw SpawnError(argv.back(), std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    // Only async-signal-safe calls from here to exec.
    ::setsid();
    const int in = ::open("/dev/null", O_RDONLY);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::close_range(3, ~0U, 0);
    if (::chdir(folder.c_str()) != 0) ::_exit(126);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(out);
  return pid;
}

std::string random_suffix() {
  std::random_device device;
  return std::to_string(::getpid()) + "-" + std::to_string(device() % 1'000'000);
}

}  // namespace

std::optional<std::filesystem::path> find_rabbitmq_server() {
  const std::filesystem::path script = std::string(rabbit_bin) + "/rabbitmq-server";
  if (std::filesystem::exists(script) && std::filesystem::exists(ctl_program())) return script;
  return std::nullopt;
}

std::vector<std::string> RabbitNodeAddress::environment() const {
  const std::string dir = folder.string();
  const std::string loopback_only = "-kernel inet_dist_use_interface {127,0,0,1}";
  return {
      std::string(marker_variable) + "=" + node_name,
      "HOME=" + dir,  // the Erlang cookie is written here, not in the user's home
      "RABBITMQ_NODENAME=" + node_name,
      "RABBITMQ_NODE_IP_ADDRESS=127.0.0.1",
      "RABBITMQ_NODE_PORT=" + std::to_string(amqp_port),
      "RABBITMQ_DIST_PORT=" + std::to_string(dist_port),
      "RABBITMQ_CTL_DIST_PORT_MIN=" + std::to_string(cli_dist_port),
      "RABBITMQ_CTL_DIST_PORT_MAX=" + std::to_string(cli_dist_port),
      "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=" + loopback_only,
      "RABBITMQ_CTL_ERL_ARGS=" + loopback_only,
      "ERL_EPMD_ADDRESS=127.0.0.1",
      "ERL_EPMD_PORT=" + std::to_string(epmd_port),
      "RABBITMQ_MNESIA_BASE=" + dir + "/mnesia",
      "RABBITMQ_LOG_BASE=" + dir + "/log",
      "RABBITMQ_PID_FILE=" + dir + "/beam.pid",
      "ERL_CRASH_DUMP=" + dir + "/erl_crash.dump",  // not in the caller's working directory
      "RABBITMQ_ENABLED_PLUGINS_FILE=" + dir + "/enabled_plugins",
      // Files that do not exist: the system's /etc/rabbitmq settings must not apply.
      "RABBITMQ_CONFIG_FILE=" + dir + "/rabbitmq",
      "RABBITMQ_ADVANCED_CONFIG_FILE=" + dir + "/advanced.config",
      "RABBITMQ_CONF_ENV_FILE=" + dir + "/rabbitmq-env.conf",
  };
}

void RabbitNodeAddress::write() const {
  std::ofstream out(folder / "node.env", std::ios::trunc);
  out << "node_name=" << node_name << "\namqp_port=" << amqp_port << "\ndist_port=" << dist_port
      << "\nepmd_port=" << epmd_port << "\ncli_dist_port=" << cli_dist_port << "\npid=" << pid
      << "\n";
  if (!out.flush()) throw StorageError("cannot write " + (folder / "node.env").string());
}

RabbitNodeAddress RabbitNodeAddress::read(const std::filesystem::path& folder) {
  const auto path = folder / "node.env";
  std::ifstream in(path);
  if (!in) throw StorageError("no RabbitMQ node description at " + path.string());
  std::map<std::string, std::string> fields;
  std::string line;
  while (std::getline(in, line)) {
    const auto equals = line.find('=');
    if (equals != std::string::npos) fields[line.substr(0, equals)] = line.substr(equals + 1);
  }
  const auto number = [&](const char* name) -> unsigned long {
    const auto found = fields.find(name);
    if (found == fields.end() || found->second.empty() ||
        found->second.find_first_not_of("0123456789") != std::string::npos) {
      throw StorageError(path.string() + " has no valid '" + name + "'");
    }
    return std::stoul(found->second);
  };
  RabbitNodeAddress node;
  node.folder = folder;
  node.amqp_port = static_cast<std::uint16_t>(number("amqp_port"));
  node.dist_port = static_cast<std::uint16_t>(number("dist_port"));
  node.epmd_port = static_cast<std::uint16_t>(number("epmd_port"));
  node.cli_dist_port = static_cast<std::uint16_t>(number("cli_dist_port"));
  node.pid = static_cast<pid_t>(number("pid"));
  node.node_name = fields["node_name"];
  if (node.node_name.find('@') == std::string::npos) {
    throw StorageError(path.string() + " has no valid 'node_name'");
  }
  return node;
}

ChildResult rabbitmqctl(const RabbitNodeAddress& node, const std::vector<std::string>& args,
                        std::chrono::milliseconds deadline) {
  std::vector<std::string> command{ctl_program(), "-n", node.node_name};
  command.insert(command.end(), args.begin(), args.end());
  ChildProcess ctl(
      {.argv = with_environment(node, std::move(command)), .output = ChildOutput::capture});
  return ctl.wait(deadline);
}

RabbitNodeAddress start_rabbit_node(const std::filesystem::path& folder,
                                    std::chrono::milliseconds ready_within) {
  const auto script = find_rabbitmq_server();
  if (!script) throw BrokerStartError("rabbitmq-server is not installed (Debian: rabbitmq-server)");
  std::filesystem::create_directories(folder);
  RabbitNodeAddress node;
  node.folder = std::filesystem::absolute(folder);
  node.node_name = "eda-" + random_suffix() + "@localhost";
  node.amqp_port = free_loopback_port();
  node.dist_port = free_loopback_port();
  node.epmd_port = free_loopback_port();
  node.cli_dist_port = free_loopback_port();
  std::ofstream(node.folder / "enabled_plugins") << "[].\n";  // no plugins: no HTTP listener

  const auto log = node.folder / "server.log";
  node.pid = spawn_detached(with_environment(node, {script->string()}), log, node.folder);
  node.write();

  const Deadline deadline(ready_within);
  std::string last_answer;
  while (!deadline.expired()) {
    if (process_gone(node.pid)) {
      const std::string said = tail_of_file(log);
      stop_rabbit_node(node, 10s);  // its port mapper may still run
      throw BrokerStartError("rabbitmq-server exited at start; it said:\n" + said);
    }
    const ChildResult status = rabbitmqctl(node, {"status"}, std::max(deadline.remaining(), 1ms));
    if (status.succeeded()) return node;
    last_answer = status.output;
    std::this_thread::sleep_for(200ms);  // between attempts: each one boots an Erlang VM anyway
  }
  const std::string said = tail_of_file(log);
  stop_rabbit_node(node, 10s);
  throw BrokerStartError("RabbitMQ node " + node.node_name + " was not up within " +
                         std::to_string(ready_within.count()) + " ms; rabbitmqctl said:\n" +
                         last_answer + "\nthe server said:\n" + said);
}

void stop_rabbit_node(const RabbitNodeAddress& node, std::chrono::milliseconds within) {
  std::string trouble;
  if (!process_gone(node.pid)) {
    const ChildResult stopped = rabbitmqctl(node, {"stop"}, within);
    if (!wait_gone(node.pid, within)) {
      trouble = "rabbitmqctl stop did not end the node (" + stopped.ending() + ": " +
                stopped.output + "); its process group was killed. ";
      ::kill(-node.pid, SIGKILL);  // the node runs in a session (and group) of its own
      (void)wait_gone(node.pid, 5s);
    }
  }
  // The node's own port mapper (started by the node, on its own port): nothing else uses it.
  // It refuses to stop while a node is still registered with it, and a node that has just
  // ended may still be for a moment: ask until it is gone.
  const auto epmd = [&](const char* what) {
    ChildProcess run(
        {.argv = with_environment(node, {"epmd", what}), .output = ChildOutput::capture});
    return run.wait(10s);
  };
  const Deadline deadline(within);
  std::string epmd_said;
  for (;;) {
    const ChildResult killed = epmd("-kill");
    epmd_said = killed.output;
    if (!epmd("-names").succeeded()) break;  // nothing answers on its port any more
    if (deadline.expired()) {
      trouble += "its port mapper on 127.0.0.1:" + std::to_string(node.epmd_port) +
                 " would not stop (" + epmd_said + ")";
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  std::error_code ignored;
  std::filesystem::remove_all(node.folder, ignored);
  if (!trouble.empty()) throw BrokerStartError("RabbitMQ node " + node.node_name + ": " + trouble);
}

RabbitNode::RabbitNode(std::chrono::milliseconds ready_within) {
  TemporaryFolder folder("rabbitmq");
  address_ = start_rabbit_node(folder.path(), ready_within);
  (void)folder.release();  // stop_rabbit_node removes it
}

RabbitNode::~RabbitNode() {
  try {
    stop_rabbit_node(address_, std::chrono::seconds(30));
  } catch (...) {  // NOLINT(bugprone-empty-catch): nothing to report to from a destructor
  }
}

}  // namespace eda::brokers
