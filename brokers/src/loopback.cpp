// Free ports, temporary folders and the listening-socket check of the throw-away servers.
#include "eda/brokers/loopback.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

#include "eda/errors.hpp"

namespace eda::brokers {

std::uint16_t free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw TransportError(std::string("socket(): ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  const int error = errno;
  ::close(fd);
  if (!ok) throw TransportError("no free loopback port: " + std::string(std::strerror(error)));
  return ntohs(address.sin_port);
}

TemporaryFolder::TemporaryFolder(const std::string& name) {
  std::string pattern =
      (std::filesystem::temp_directory_path() / ("eda-" + name + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw StorageError("cannot create a temporary folder " + pattern + ": " + std::strerror(errno));
  }
  path_ = pattern;
}

TemporaryFolder::~TemporaryFolder() {
  if (!owned_) return;
  std::error_code ignored;  // a destructor cannot report; a folder left in /tmp is harmless
  std::filesystem::remove_all(path_, ignored);
}

std::filesystem::path TemporaryFolder::release() noexcept {
  owned_ = false;
  return path_;
}

namespace {

/// The socket inodes a process holds, read from the links in /proc/PID/fd (`socket:[123]`).
std::set<unsigned long> socket_inodes_of(pid_t pid) {
  std::set<unsigned long> inodes;
  std::error_code error;
  const std::filesystem::path folder = "/proc/" + std::to_string(pid) + "/fd";
  for (const auto& entry : std::filesystem::directory_iterator(folder, error)) {
    std::error_code link_error;
    const std::string target = std::filesystem::read_symlink(entry.path(), link_error).string();
    if (link_error || target.rfind("socket:[", 0) != 0) continue;
    inodes.insert(std::strtoul(target.c_str() + 8, nullptr, 10));
  }
  return inodes;
}

/// An address from /proc/net/tcp (hex, in the kernel's byte order) as text, and whether it is
/// on loopback.
std::pair<std::string, bool> decode_address(const std::string& hex, bool v6) {
  std::array<unsigned char, 16> bytes{};
  const std::size_t count = v6 ? 16 : 4;
  // The kernel prints each 32-bit word of the address as a native-endian number.
  for (std::size_t word = 0; word < count / 4; ++word) {
    const auto value = static_cast<std::uint32_t>(std::stoul(hex.substr(word * 8, 8), nullptr, 16));
    std::memcpy(bytes.data() + word * 4, &value, 4);
  }
  std::array<char, INET6_ADDRSTRLEN> text{};
  ::inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), text.data(), text.size());
  bool loopback = false;
  if (!v6) {
    loopback = bytes[0] == 127;
  } else {
    static constexpr std::array<unsigned char, 16> v6_loopback{0, 0, 0, 0, 0, 0, 0, 0,
                                                               0, 0, 0, 0, 0, 0, 0, 1};
    const bool v4_mapped_loopback =
        std::all_of(bytes.begin(), bytes.begin() + 10, [](unsigned char b) { return b == 0; }) &&
        bytes[10] == 0xff && bytes[11] == 0xff && bytes[12] == 127;
    loopback = bytes == v6_loopback || v4_mapped_loopback;
  }
  return {text.data(), loopback};
}

}  // namespace

std::vector<ListeningSocket> listening_sockets_of(const std::vector<pid_t>& pids) {
  std::vector<std::pair<pid_t, std::set<unsigned long>>> owners;
  owners.reserve(pids.size());
  for (pid_t pid : pids) owners.emplace_back(pid, socket_inodes_of(pid));
  std::vector<ListeningSocket> found;
  for (const bool v6 : {false, true}) {
    std::ifstream table(v6 ? "/proc/net/tcp6" : "/proc/net/tcp");
    std::string line;
    std::getline(table, line);  // the header
    while (std::getline(table, line)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout;
      unsigned long inode = 0;
      fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
          timeout >> inode;
      if (state != "0A") continue;  // TCP_LISTEN
      for (const auto& [pid, inodes] : owners) {
        if (inodes.count(inode) == 0) continue;
        const auto colon = local.find(':');
        auto [address, loopback] = decode_address(local.substr(0, colon), v6);
        found.push_back(
            {std::move(address),
             static_cast<std::uint16_t>(std::stoul(local.substr(colon + 1), nullptr, 16)), pid,
             loopback});
      }
    }
  }
  return found;
}

std::vector<pid_t> processes_with_environment(const std::string& variable,
                                              const std::string& value) {
  const std::string wanted = variable + "=" + value;
  std::vector<pid_t> found;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", error)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream environ(entry.path() / "environ", std::ios::binary);
    std::string item;
    while (std::getline(environ, item, '\0')) {
      if (item == wanted) {
        found.push_back(static_cast<pid_t>(std::stol(name)));
        break;
      }
    }
  }
  return found;
}

std::string tail_of_file(const std::filesystem::path& path, std::size_t max_bytes) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return {};
  std::ostringstream all;
  all << file.rdbuf();
  std::string text = all.str();
  if (text.size() > max_bytes) text.erase(0, text.size() - max_bytes);
  return text;
}

}  // namespace eda::brokers
