/// @file loopback.hpp
/// @brief What a throw-away server needs from the machine: a free port on 127.0.0.1, a temporary
///        folder removed afterwards, and a way to check that nothing of it listens beyond
///        loopback.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace eda::brokers {

/// @brief A TCP port on 127.0.0.1 that nobody listens on right now.
///
/// The kernel picks it and it is released at once, so in principle another program could take it
/// before the server does; the server then fails to start and says so.
[[nodiscard]] std::uint16_t free_loopback_port();

/// @brief A fresh folder in the system's temporary folder, removed with everything in it when
///        the object goes (unless release() handed it over).
class TemporaryFolder {
 public:
  /// @brief Creates the folder, its name starting with `eda-<name>-`. Throws eda::StorageError.
  explicit TemporaryFolder(const std::string& name);
  ~TemporaryFolder();
  TemporaryFolder(const TemporaryFolder&) = delete;             ///< Owns the folder.
  TemporaryFolder& operator=(const TemporaryFolder&) = delete;  ///< Owns the folder.

  /// @brief The folder's path.
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  /// @brief Gives the folder up: it is no longer removed by this object (someone else will).
  std::filesystem::path release() noexcept;

 private:
  std::filesystem::path path_;
  bool owned_ = true;
};

/// @brief One listening TCP socket, as the kernel lists it in `/proc/net/tcp` and `tcp6`.
struct ListeningSocket {
  std::string address;     ///< The bound address as text: `127.0.0.1`, `0.0.0.0`, `::1`, `::`.
  std::uint16_t port = 0;  ///< The bound port.
  pid_t pid = -1;          ///< The process holding it.
  bool loopback = false;   ///< Whether the address is on loopback (127.0.0.0/8 or ::1).
};

/// @brief Every listening TCP socket held by one of `pids`, read from `/proc` (needs the right to
///        read those processes' file descriptors: the same user, or root).
[[nodiscard]] std::vector<ListeningSocket> listening_sockets_of(const std::vector<pid_t>& pids);

/// @brief The processes whose environment holds `variable=value` exactly (read from
///        `/proc/PID/environ`): every process a server started inherits the marker its starter
///        set, whatever it was re-parented to.
[[nodiscard]] std::vector<pid_t> processes_with_environment(const std::string& variable,
                                                            const std::string& value);

/// @brief The last `max_bytes` of a text file (a server's log, for an error message); empty
///        when it cannot be read.
[[nodiscard]] std::string tail_of_file(const std::filesystem::path& path,
                                       std::size_t max_bytes = 4000);

}  // namespace eda::brokers
