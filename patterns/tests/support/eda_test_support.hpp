// Test helpers shared by every module's tests: publishers driven by hand, temporary databases.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "eda/envelope.hpp"
#include "eda/pubsub.hpp"
#include "eda/security.hpp"

namespace eda::test {

/// Drives a publisher and a subscriber living in the same thread through the handshake.
bool handshake(Publisher& publisher, Subscriber& subscriber,
               std::chrono::milliseconds timeout = std::chrono::seconds(10));

/// An XPUB socket that answers handshakes by hand and sends whatever frames a test wants:
/// the way to put malformed messages and duplicates on the wire.
class RawPublisher {
 public:
  explicit RawPublisher(zmq::context_t& context);
  [[nodiscard]] const std::string& endpoint() const { return endpoint_; }
  /// Answers handshakes until `subscriber` completed its own.
  bool handshake(Subscriber& subscriber,
                 std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// Answers whatever handshake messages are waiting (for subscribers driven elsewhere).
  void answer_handshakes();
  void send(const std::vector<std::string>& frames);

 private:
  zmq::socket_t socket_;
  std::string endpoint_;
};

/// The keys of a CURVE test: a server, an allow-listed client, and a stranger (a valid key
/// nobody allowed).
struct CurveTestKeys {
  KeyPair server = KeyPair::generate();    ///< The servers' pair.
  KeyPair client = KeyPair::generate();    ///< On the allow-list.
  KeyPair stranger = KeyPair::generate();  ///< Not on it.
  /// The allow-list: the client's public key only.
  [[nodiscard]] AllowList allowed() const {
    AllowList list;
    list.allow(client.public_key);
    return list;
  }
  /// What a server socket is given: the server's pair, its clients checked by `zap`.
  [[nodiscard]] Security server_side(const ZapHandler& zap) const {
    return Security::server(zap, server);
  }
  /// What the allow-listed client's sockets are given.
  [[nodiscard]] Security client_side() const { return Security::client(client, server.public_key); }
  /// What the stranger's sockets are given (it trusts the right server, but is not let in).
  [[nodiscard]] Security stranger_side() const {
    return Security::client(stranger, server.public_key);
  }
};

/// A fresh file name in the temp directory; the file (with SQLite's WAL files) is removed
/// afterwards.
class TempDatabase {
 public:
  TempDatabase()
      : path_(std::filesystem::temp_directory_path() /
              ("eda-test-" + eda::new_event_id() + ".db")) {}
  ~TempDatabase() {
    // The file and every file made beside it under its name (SQLite's -wal and -shm, and any
    // companion file a test's code keeps next to its database).
    const std::string name = path_.filename().string();
    std::error_code ignored;
    for (const auto& entry : std::filesystem::directory_iterator(path_.parent_path(), ignored)) {
      if (entry.path().filename().string().starts_with(name)) {
        std::filesystem::remove(entry.path(), ignored);
      }
    }
  }
  TempDatabase(const TempDatabase&) = delete;
  TempDatabase& operator=(const TempDatabase&) = delete;
  [[nodiscard]] std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace eda::test
