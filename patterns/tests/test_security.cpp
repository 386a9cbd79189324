// CURVE and ZAP: key files, the allow-list, and the kit's sockets refusing every client that is
// not allow-listed (unknown key, wrong server key, plaintext), never running CURVE without a
// ZAP handler, and serving legitimate clients while an idle raw TCP connection is open.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include <catch2/catch.hpp>

#include "eda/cli.hpp"
#include "eda/clock.hpp"
#include "eda/endpoint.hpp"
#include "eda/pubsub.hpp"
#include "eda/rpc.hpp"
#include "eda/security.hpp"
#include "raw_tcp.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

/// A scratch directory, removed afterwards.
class TempDir {
 public:
  TempDir() : path_(fs::temp_directory_path() / ("eda-keys-" + eda::new_event_id())) {
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write_file(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary);
  out << text;
}

/// Serves `publisher` until its peer watch saw a handshake refused, at most 10 s; the last
/// refusal (kind 0 if there was none).
eda::PeerEvent refusal_seen_by(eda::Publisher& publisher) {
  const eda::Deadline deadline(10s);
  while (publisher.peers().refused == 0 && !deadline.expired()) {
    (void)publisher.serve(20ms);
  }
  return publisher.peers().last_refusal;
}

/// The keys of one test: a server, an allow-listed client, and a client nobody allowed.
using Keys = eda::test::CurveTestKeys;

/// Publishes until the subscriber has received `count` events or `timeout` passes; how many
/// it received. Bounded in count and time.
std::size_t deliver(eda::Publisher& publisher, eda::Subscriber& subscriber, std::size_t count,
                    std::chrono::milliseconds timeout) {
  std::size_t received = 0;
  const eda::Deadline deadline(timeout);
  for (std::uint64_t id = 1; id <= count; ++id)
    (void)publisher.publish(eda::test::sample_order(id));
  while (received < count && !deadline.expired()) {
    if (subscriber.receive(std::min<std::chrono::milliseconds>(deadline.remaining(), 100ms)))
      ++received;
  }
  return received;
}

}  // namespace

TEST_CASE("a key pair is saved as two Z85 files, the secret one 0600, and loads back",
          "[security]") {
  TempDir dir;
  const eda::KeyPair keys = eda::KeyPair::generate();
  CHECK(eda::is_z85_key(keys.public_key));
  CHECK(eda::is_z85_key(keys.secret_key));
  CHECK(keys.public_key != keys.secret_key);
  const fs::path public_file = keys.save(dir.path(), "billing");
  CHECK(public_file == dir.path() / "billing.key");
  const fs::path secret_file = dir.path() / "billing.key_secret";
  struct stat info {};
  REQUIRE(::stat(secret_file.c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);
  CHECK(eda::load_public_key(public_file) == keys.public_key);
  const eda::KeyPair loaded = eda::KeyPair::load(secret_file);
  CHECK(loaded.public_key == keys.public_key);
  CHECK(loaded.secret_key == keys.secret_key);

  SECTION("it never overwrites a key") {
    const eda::KeyPair other = eda::KeyPair::generate();
    CHECK_THROWS_WITH(other.save(dir.path(), "billing"), Catch::Contains("refusing to overwrite"));
    CHECK(eda::KeyPair::load(secret_file).secret_key == keys.secret_key);
  }
  SECTION("a secret file others can read is refused, saying how to fix it") {
    fs::permissions(secret_file, fs::perms::group_read, fs::perm_options::add);
    CHECK_THROWS_AS(eda::KeyPair::load(secret_file), eda::SecurityError);
    CHECK_THROWS_WITH(eda::KeyPair::load(secret_file), Catch::Contains("chmod 600"));
  }
  SECTION("a public file of another pair is refused") {
    fs::remove(public_file);
    write_file(public_file, eda::KeyPair::generate().public_key + "\n");
    CHECK_THROWS_WITH(eda::KeyPair::load(secret_file), Catch::Contains("not one key pair"));
  }
  SECTION("a name with a path in it is refused") {
    CHECK_THROWS_AS(keys.save(dir.path(), "../escape"), eda::SecurityError);
  }
}

TEST_CASE("an allow-list loads from a directory or a file, and names the bad line", "[security]") {
  TempDir dir;
  const eda::KeyPair a = eda::KeyPair::generate();
  const eda::KeyPair b = eda::KeyPair::generate();
  (void)a.save(dir.path() / "clients", "a");
  (void)b.save(dir.path() / "clients", "b");
  const eda::AllowList from_directory = eda::AllowList::load(dir.path() / "clients");
  CHECK(from_directory.size() == 2);  // the *.key_secret files are not public keys
  CHECK(from_directory.allows(a.public_key));
  CHECK(from_directory.allows(b.public_key));
  CHECK_FALSE(from_directory.allows(a.secret_key));

  write_file(dir.path() / "allowed.txt",
             "# billing\n" + a.public_key + "\n\n" + b.public_key + "\n");
  CHECK(eda::AllowList::load(dir.path() / "allowed.txt").size() == 2);

  write_file(dir.path() / "bad.txt", "# billing\n" + a.public_key + "\nnot-a-key\n");
  CHECK_THROWS_WITH(eda::AllowList::load(dir.path() / "bad.txt"),
                    Catch::Contains("bad.txt:3") && Catch::Contains("40 Z85 characters"));
  // 39 characters; not cut from a random key, whose second character could be '#'.
  write_file(dir.path() / "short.txt", std::string(39, 'k') + "\n");
  CHECK_THROWS_WITH(eda::AllowList::load(dir.path() / "short.txt"), Catch::Contains("short.txt:1"));
  CHECK_THROWS_AS(eda::AllowList::load(dir.path() / "missing"), eda::SecurityError);
  CHECK_FALSE(eda::is_z85_key(std::string(40, '"')));
  CHECK_FALSE(
      eda::is_z85_key(std::string(40, '#')));  // in the alphabet, but 5 of them overflow 32 bits
  // '#' is the last Z85 character, so a group of five starting with it overflows 32 bits: no
  // key starts with '#', and reading such lines as comments never hides a key.
  CHECK_FALSE(eda::is_z85_key("#" + a.public_key.substr(1)));
}

TEST_CASE("an allow-listed client receives events over CURVE", "[security]") {
  const auto transport = GENERATE(eda::Transport::tcp, eda::Transport::ipc);
  INFO("transport: " << eda::to_string(transport));
  const Keys keys;
  zmq::context_t context;
  eda::ZapHandler zap(context, keys.allowed());
  eda::Publisher publisher(context, {.source = "order-service",
                                     .endpoints = {eda::ephemeral_endpoint(transport, "curve")},
                                     .security = eda::Security::server(zap, keys.server)});
  eda::Subscriber subscriber(
      context, {.endpoints = publisher.endpoints(),
                .security = eda::Security::client(keys.client, keys.server.public_key)});
  REQUIRE(eda::test::handshake(publisher, subscriber));
  CHECK(deliver(publisher, subscriber, 20, 10s) == 20);
  CHECK(zap.stats().allowed >= 1);
  CHECK(zap.stats().denied == 0);
}

TEST_CASE("an allow-listed RPC client is answered over CURVE", "[security]") {
  const auto transport = GENERATE(eda::Transport::tcp, eda::Transport::ipc);
  INFO("transport: " << eda::to_string(transport));
  const Keys keys;
  zmq::context_t context;
  eda::ZapHandler zap(context, keys.allowed());
  eda::RpcServer server(context, {.endpoints = {eda::ephemeral_endpoint(transport, "curve-rpc")},
                                  .security = eda::Security::server(zap, keys.server)});
  server.handle("Echo", [](std::string_view body) { return std::string(body); });
  std::atomic<bool> stop{false};
  std::thread serving([&] { server.serve_while([&] { return !stop.load(); }, 10ms); });
  eda::RpcClient client(context,
                        {.endpoint = server.endpoints().front(),
                         .timeout = 5s,
                         .security = eda::Security::client(keys.client, keys.server.public_key)});
  CHECK(client.call("Echo", "hello") == "hello");
  stop = true;
  serving.join();
}

TEST_CASE("an unknown client key is refused by ZAP: the monitor shows it, nothing is delivered",
          "[security]") {
  const auto transport = GENERATE(eda::Transport::tcp, eda::Transport::ipc);
  INFO("transport: " << eda::to_string(transport));
  const Keys keys;
  zmq::context_t context;
  eda::ZapHandler zap(context, keys.allowed());
  eda::Publisher publisher(context, {.source = "order-service",
                                     .endpoints = {eda::ephemeral_endpoint(transport, "curve")},
                                     .security = eda::Security::server(zap, keys.server)});
  eda::Subscriber stranger(
      context, {.endpoints = publisher.endpoints(),
                .security = eda::Security::client(keys.stranger, keys.server.public_key)});
  const eda::PeerEvent refusal = refusal_seen_by(publisher);
  REQUIRE(refusal.kind == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
  CHECK(refusal.value == 400);  // the ZAP handler's answer
  CHECK(zap.stats().denied >= 1);
  CHECK(zap.stats().allowed == 0);
  CHECK_FALSE(eda::test::handshake(publisher, stranger, 500ms));
  CHECK(deliver(publisher, stranger, 5, 300ms) == 0);
  CHECK(publisher.subscriber_count() == 0);
}

TEST_CASE("an unknown client key gets no RPC answer", "[security]") {
  const Keys keys;
  zmq::context_t context;
  eda::ZapHandler zap(context, keys.allowed());
  eda::RpcServer server(context, {.endpoints = {"tcp://127.0.0.1:*"},
                                  .security = eda::Security::server(zap, keys.server)});
  server.handle("Echo", [](std::string_view body) { return std::string(body); });
  eda::PeerWatch monitor(context, server.socket());
  std::atomic<bool> stop{false};
  std::thread serving([&] { server.serve_while([&] { return !stop.load(); }, 10ms); });
  eda::RpcClient stranger(
      context, {.endpoint = server.endpoints().front(),
                .timeout = 300ms,
                .attempts = 1,
                .security = eda::Security::client(keys.stranger, keys.server.public_key)});
  CHECK_THROWS_AS(stranger.call("Echo", "hello"), eda::RpcTimeout);
  stop = true;
  serving.join();
  const auto refusal = monitor.wait_for(ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, 10s);
  REQUIRE(refusal);
  CHECK(refusal->value == 400);
  CHECK(server.stats().served == 0);
}

TEST_CASE("a client trusting the wrong server key is refused, nothing is delivered", "[security]") {
  const auto transport = GENERATE(eda::Transport::tcp, eda::Transport::ipc);
  INFO("transport: " << eda::to_string(transport));
  const Keys keys;
  const eda::KeyPair impostor = eda::KeyPair::generate();
  zmq::context_t context;
  eda::ZapHandler zap(context, keys.allowed());
  eda::Publisher publisher(context, {.source = "order-service",
                                     .endpoints = {eda::ephemeral_endpoint(transport, "curve")},
                                     .security = eda::Security::server(zap, keys.server)});
  // An allow-listed client, but it expects another server: its HELLO cannot be opened.
  eda::Subscriber confused(context,
                           {.endpoints = publisher.endpoints(),
                            .security = eda::Security::client(keys.client, impostor.public_key)});
  REQUIRE(refusal_seen_by(publisher).kind == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL);
  CHECK_FALSE(eda::test::handshake(publisher, confused, 500ms));
  CHECK(deliver(publisher, confused, 5, 300ms) == 0);
  CHECK(zap.stats().allowed == 0);
}

TEST_CASE("a plaintext client cannot talk to a CURVE server", "[security]") {
  const auto transport = GENERATE(eda::Transport::tcp, eda::Transport::ipc);
  INFO("transport: " << eda::to_string(transport));
  const Keys keys;
  zmq::context_t context;
  eda::ZapHandler zap(context, keys.allowed());
  eda::Publisher publisher(context, {.source = "order-service",
                                     .endpoints = {eda::ephemeral_endpoint(transport, "curve")},
                                     .security = eda::Security::server(zap, keys.server)});
  eda::Subscriber plaintext(
      context, {.endpoints = publisher.endpoints(), .security = eda::Security::plaintext()});
  REQUIRE(refusal_seen_by(publisher).kind ==
          ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL);  // NULL against CURVE
  CHECK_FALSE(eda::test::handshake(publisher, plaintext, 500ms));
  CHECK(deliver(publisher, plaintext, 5, 300ms) == 0);
  CHECK(zap.stats().allowed == 0);
}

TEST_CASE("the kit never runs a CURVE server without a running ZAP handler in its context",
          "[security]") {
  const Keys keys;
  zmq::context_t context;
  {
    // A handler in another context does not count: libzmq asks the socket's own context.
    zmq::context_t other;
    eda::ZapHandler elsewhere(other, keys.allowed());
    CHECK(elsewhere.guards(other));
    CHECK_FALSE(elsewhere.guards(context));
    CHECK_THROWS_WITH(
        eda::Publisher(context, {.source = "order-service",
                                 .endpoints = {"tcp://127.0.0.1:*"},
                                 .security = eda::Security::server(elsewhere, keys.server)}),
        Catch::Contains("without a running ZAP handler"));
  }
  {
    // A server Security outliving its handler is refused, not run unauthenticated.
    std::optional<eda::Security> orphan;
    {
      eda::ZapHandler gone(context, keys.allowed());
      orphan = eda::Security::server(gone, keys.server);
    }
    REQUIRE(orphan->authenticator() != nullptr);
    CHECK_FALSE(orphan->authenticator()->guards(context));
    CHECK_THROWS_AS(
        eda::RpcServer(context, {.endpoints = {"tcp://127.0.0.1:*"}, .security = *orphan}),
        eda::SecurityError);
  }
  // A side missing from a CURVE Security is an error, never a silent fallback to plaintext.
  eda::ZapHandler zap(context, keys.allowed());
  CHECK(zap.guards(context));
  CHECK_THROWS_WITH(eda::Publisher(context, {.source = "order-service",
                                             .endpoints = {"tcp://127.0.0.1:*"},
                                             .security = eda::Security::client(
                                                 keys.client, keys.server.public_key)}),
                    Catch::Contains("needs the server half"));
  CHECK_THROWS_WITH(eda::Subscriber(context, {.endpoints = {"tcp://127.0.0.1:5999"},
                                              .security = eda::Security::server(zap, keys.server)}),
                    Catch::Contains("needs client keys"));
  CHECK_THROWS_AS(eda::Security::client(keys.client, "not-a-key"), eda::SecurityError);
}

TEST_CASE("a CURVE server whose ZAP handler has stopped lets nobody in", "[security]") {
  const Keys keys;
  zmq::context_t context;
  auto zap = std::make_unique<eda::ZapHandler>(context, keys.allowed());
  eda::Publisher publisher(context, {.source = "order-service",
                                     .endpoints = {"tcp://127.0.0.1:*"},
                                     .security = eda::Security::server(*zap, keys.server)});
  zap.reset();  // the mistake the class documentation warns about
  eda::Subscriber subscriber(
      context, {.endpoints = publisher.endpoints(),
                .security = eda::Security::client(keys.client, keys.server.public_key)});
  REQUIRE(refusal_seen_by(publisher).kind == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL);
  CHECK_FALSE(eda::test::handshake(publisher, subscriber, 500ms));
  CHECK(deliver(publisher, subscriber, 5, 300ms) == 0);
}

TEST_CASE("one ZAP handler per context: a second one is refused, a later one starts",
          "[security]") {
  const Keys keys;
  zmq::context_t context;
  {
    eda::ZapHandler first(context, keys.allowed());
    CHECK_THROWS_WITH(eda::ZapHandler(context, keys.allowed()), Catch::Contains("one per context"));
    CHECK(first.guards(context));
  }
  eda::ZapHandler again(context, keys.allowed());
  CHECK(again.guards(context));
  eda::Publisher publisher(context, {.source = "order-service",
                                     .endpoints = {"tcp://127.0.0.1:*"},
                                     .security = eda::Security::server(again, keys.server)});
  CHECK(publisher.socket().get(zmq::sockopt::mechanism) == ZMQ_CURVE);
}

TEST_CASE(
    "why the rule exists: libzmq alone lets an unknown CURVE client in when no ZAP handler runs",
    "[security]") {
  // Raw libzmq sockets, no kit: this is the hazard secure_server_socket() refuses to create.
  const Keys keys;
  zmq::context_t context;
  zmq::socket_t server(context, zmq::socket_type::rep);
  server.set(zmq::sockopt::curve_server, true);
  server.set(zmq::sockopt::curve_secretkey, keys.server.secret_key);
  const std::string endpoint = eda::bind_endpoint(server, "tcp://127.0.0.1:*");
  zmq::socket_t stranger(context, zmq::socket_type::req);
  stranger.set(zmq::sockopt::linger, 0);
  stranger.set(zmq::sockopt::curve_serverkey, keys.server.public_key);
  stranger.set(zmq::sockopt::curve_publickey, keys.stranger.public_key);
  stranger.set(zmq::sockopt::curve_secretkey, keys.stranger.secret_key);
  stranger.connect(endpoint);
  (void)stranger.send(zmq::str_buffer("let me in"), zmq::send_flags::none);
  server.set(zmq::sockopt::rcvtimeo, 10'000);
  zmq::message_t request;
  CHECK(server.recv(request));  // nobody checked who the stranger is
}

TEST_CASE("legitimate clients are served while idle raw TCP connections are open", "[security]") {
  const Keys keys;
  zmq::context_t context;
  eda::ZapHandler zap(context, keys.allowed());
  eda::Publisher publisher(context, {.source = "order-service",
                                     .endpoints = {"tcp://127.0.0.1:*"},
                                     .security = eda::Security::server(zap, keys.server)});
  eda::RpcServer server(context, {.endpoints = {"tcp://127.0.0.1:*"},
                                  .security = eda::Security::server(zap, keys.server)});
  server.handle("Echo", [](std::string_view body) { return std::string(body); });
  // One connection that never says anything, one that stops in the middle of the greeting.
  const std::string half_greeting("\xff\0\0\0\0\0\0\0\x01\x7f\x03", 11);
  const eda::test::RawConnection silent_events(publisher.endpoints().front());
  const eda::test::RawConnection stalled_events(publisher.endpoints().front());
  stalled_events.send(half_greeting);
  const eda::test::RawConnection silent_rpc(server.endpoints().front());
  const eda::test::RawConnection stalled_rpc(server.endpoints().front());
  stalled_rpc.send(half_greeting);

  eda::Subscriber subscriber(
      context, {.endpoints = publisher.endpoints(),
                .security = eda::Security::client(keys.client, keys.server.public_key)});
  REQUIRE(eda::test::handshake(publisher, subscriber));
  CHECK(deliver(publisher, subscriber, 20, 10s) == 20);

  std::atomic<bool> stop{false};
  std::thread serving([&] { server.serve_while([&] { return !stop.load(); }, 10ms); });
  eda::RpcClient client(context,
                        {.endpoint = server.endpoints().front(),
                         .timeout = 5s,
                         .security = eda::Security::client(keys.client, keys.server.public_key)});
  for (int i = 0; i < 5; ++i) CHECK(client.call("Echo", std::to_string(i)) == std::to_string(i));
  stop = true;
  serving.join();
}

TEST_CASE("a --curve-keys DIR gives a process the halves of the layout it holds", "[security]") {
  TempDir dir;
  CHECK_THROWS_WITH(eda::cli::load_curve_keys(dir.path().string()),
                    Catch::Contains("eda-keys generate"));
  const eda::KeyPair server = eda::KeyPair::generate();
  (void)server.save(dir.path(), "server");
  const eda::KeyPair client = eda::KeyPair::generate();
  (void)client.save(dir.path() / "clients", "client");

  const eda::CurveKeys both = eda::cli::load_curve_keys(dir.path().string());
  REQUIRE(both.server_keys);
  REQUIRE(both.client_keys);
  CHECK(both.server_keys->public_key == server.public_key);
  CHECK(both.client_keys->public_key == client.public_key);
  CHECK(both.server_public_key == server.public_key);
  CHECK(both.allowed_clients.allows(client.public_key));
  CHECK(both.allowed_clients.size() == 1);

  fs::remove(dir.path() / "server.key_secret");  // a machine that only connects
  const eda::CurveKeys client_only = eda::cli::load_curve_keys(dir.path().string());
  CHECK_FALSE(client_only.server_keys);
  CHECK(client_only.client_keys);
}
