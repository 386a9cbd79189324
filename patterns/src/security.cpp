#include "eda/security.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <vector>

#include "eda/endpoint.hpp"

namespace eda {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view z85_alphabet =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/// ZMQ_ZAP_ENFORCE_DOMAIN, declared by zmq.h only for draft builds.
constexpr int zap_enforce_domain_option = 93;

/// Key files are tiny; anything bigger is not a key file.
constexpr std::uintmax_t max_key_file_bytes = 64 * 1024;

/// Which contexts have a kit ZapHandler, and which a default Security (ContextSecurity).
struct Registry {
  std::mutex mutex;
  std::set<void*> handlers;
  std::map<void*, Security> defaults;
};

Registry& registry() {
  static Registry instance;
  return instance;
}

std::atomic<unsigned> next_control_number{0};

std::string quoted(const fs::path& path) { return "'" + path.string() + "'"; }

std::string errno_text() { return std::strerror(errno); }

/// The lines of a small text file, for key files and allow-lists.
std::vector<std::string> read_lines(const fs::path& file) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) {
    throw SecurityError("key file " + quoted(file) +
                        (fs::exists(file, ec) ? " is not a regular file" : " does not exist") +
                        " (make key files with: eda-keys generate DIR NAME)");
  }
  if (fs::file_size(file, ec) > max_key_file_bytes) {
    throw SecurityError("key file " + quoted(file) + " is larger than 64 KiB: not a key file");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw SecurityError("cannot read key file " + quoted(file) + ": " + errno_text());
  }
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
      line.pop_back();
    }
    lines.push_back(line);
  }
  return lines;
}

bool is_comment_or_blank(std::string_view line) {
  const auto first = line.find_first_not_of(" \t");
  return first == std::string_view::npos || line[first] == '#';
}

/// The keys of a key file, one per non-comment line; `secret` keeps the text out of messages.
std::vector<std::string> read_keys(const fs::path& file, bool secret) {
  const std::vector<std::string> lines = read_lines(file);
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (is_comment_or_blank(lines[i])) continue;
    if (!is_z85_key(lines[i])) {
      throw SecurityError(file.string() + ":" + std::to_string(i + 1) +
                          ": expected a CURVE key of 40 Z85 characters, found " +
                          (secret ? std::to_string(lines[i].size()) + " characters"
                                  : "'" + lines[i].substr(0, 60) + "'") +
                          " (make key files with: eda-keys generate DIR NAME)");
    }
    keys.push_back(lines[i]);
  }
  return keys;
}

std::string single_key(const fs::path& file, bool secret) {
  const std::vector<std::string> keys = read_keys(file, secret);
  if (keys.size() != 1) {
    throw SecurityError("key file " + quoted(file) + " holds " + std::to_string(keys.size()) +
                        " keys; a " + (secret ? "secret" : "public") +
                        " key file holds exactly one");
  }
  return keys.front();
}

void check_name(std::string_view name) {
  const bool ok = !name.empty() && name.size() <= 100 && name.front() != '.' &&
                  name.find_first_not_of(
                      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                      "0123456789._-") == std::string_view::npos;
  if (!ok) {
    throw SecurityError("key name '" + std::string(name) +
                        "' must be 1..100 letters, digits, '.', '_' or '-', not starting with '.'");
  }
}

/// Writes `content` to a temporary file created with `mode`, then links it to `target`, which
/// fails if `target` exists: the file appears whole, with its mode, or not at all.
void write_new_file(const fs::path& target, const std::string& content, mode_t mode) {
  const fs::path temporary = target.parent_path() / ("." + target.filename().string() + ".tmp-" +
                                                     std::to_string(::getpid()));
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    throw SecurityError("cannot create " + quoted(temporary) + ": " + errno_text());
  }
  bool written = ::fchmod(fd, mode) == 0;
  std::size_t done = 0;
  while (written && done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    written = n > 0;
    if (written) done += static_cast<std::size_t>(n);
  }
  written = written && ::fsync(fd) == 0;
  const std::string write_error = written ? std::string() : errno_text();
  ::close(fd);
  if (!written) {
    ::unlink(temporary.c_str());
    throw SecurityError("cannot write " + quoted(temporary) + ": " + write_error);
  }
  if (::link(temporary.c_str(), target.c_str()) != 0) {
    const int error = errno;
    ::unlink(temporary.c_str());
    throw SecurityError(error == EEXIST
                            ? "refusing to overwrite " + quoted(target) +
                                  ": remove it first if you really mean to replace that key"
                            : "cannot create " + quoted(target) + ": " + std::strerror(error));
  }
  ::unlink(temporary.c_str());
}

void check_key(std::string_view key, const std::string& what) {
  if (!is_z85_key(key)) {
    throw SecurityError(what + " is not a CURVE key of 40 Z85 characters");
  }
}

void check_pair(const KeyPair& keys, const std::string& what) {
  check_key(keys.public_key, what + "'s public key");
  check_key(keys.secret_key, what + "'s secret key");
}

void check_security(const Security& security) {
  if (security.server_keys) check_pair(*security.server_keys, "the server key pair");
  if (security.client_keys) {
    check_pair(*security.client_keys, "the client key pair");
    check_key(security.server_public_key, "the server public key a client trusts");
  }
}

void require_curve() {
  if (!curve_available()) {
    throw SecurityError(
        "this libzmq was built without CURVE support (zmq_has(\"curve\") is "
        "false): install a libzmq built with libsodium");
  }
}

std::optional<Security> chosen(zmq::context_t& context, const std::optional<Security>& security) {
  return security.has_value() ? security : ContextSecurity::default_of(context);
}

std::string text_of(const zmq::message_t& message) {
  return {static_cast<const char*>(message.data()), message.size()};
}

}  // namespace

bool curve_available() noexcept { return zmq_has("curve") != 0; }

bool is_z85_key(std::string_view text) noexcept {
  if (text.size() != curve_key_text_size) return false;
  for (const char c : text) {
    if (z85_alphabet.find(c) == std::string_view::npos) return false;
  }
  // Every group of 5 characters must also encode a value that fits in 32 bits.
  const std::string terminated(text);
  std::array<std::uint8_t, 32> bytes{};
  return zmq_z85_decode(bytes.data(), terminated.c_str()) != nullptr;
}

KeyPair KeyPair::generate() {
  require_curve();
  std::array<char, curve_key_text_size + 1> public_key{};
  std::array<char, curve_key_text_size + 1> secret_key{};
  if (zmq_curve_keypair(public_key.data(), secret_key.data()) != 0) {
    throw SecurityError(std::string("cannot generate a CURVE key pair: ") +
                        zmq_strerror(zmq_errno()));
  }
  return KeyPair{public_key.data(), secret_key.data()};
}

KeyPair KeyPair::load(const fs::path& secret_file) {
  struct stat info {};
  if (::stat(secret_file.c_str(), &info) != 0) {
    throw SecurityError("secret key file " + quoted(secret_file) + ": " + errno_text() +
                        " (make one with: eda-keys generate DIR NAME)");
  }
  if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(info.st_mode & 07777));
    throw SecurityError("secret key file " + quoted(secret_file) + " has mode " + mode +
                        ": group or others can read it, so it is no secret; run chmod 600 " +
                        secret_file.string() +
                        " (and make a new key pair if others may have read it)");
  }
  require_curve();
  KeyPair keys;
  keys.secret_key = single_key(secret_file, true);
  std::array<char, curve_key_text_size + 1> public_key{};
  if (zmq_curve_public(public_key.data(), keys.secret_key.c_str()) != 0) {
    throw SecurityError("cannot derive the public key of " + quoted(secret_file));
  }
  keys.public_key = public_key.data();
  fs::path public_file = secret_file;
  if (public_file.extension() == ".key_secret") {
    public_file.replace_extension(".key");
    std::error_code ec;
    if (fs::exists(public_file, ec) && load_public_key(public_file) != keys.public_key) {
      throw SecurityError("public key file " + quoted(public_file) + " does not belong to " +
                          quoted(secret_file) + ": they are not one key pair");
    }
  }
  return keys;
}

fs::path KeyPair::save(const fs::path& directory, std::string_view name) const {
  check_name(name);
  check_pair(*this, "the key pair to save");
  std::error_code ec;
  fs::create_directories(directory, ec);
  if (ec) {
    throw SecurityError("cannot create directory " + quoted(directory) + ": " + ec.message());
  }
  const fs::path public_file = directory / (std::string(name) + ".key");
  const fs::path secret_file = directory / (std::string(name) + ".key_secret");
  for (const fs::path& file : {public_file, secret_file}) {
    if (fs::exists(fs::symlink_status(file, ec))) {
      throw SecurityError("refusing to overwrite " + quoted(file) +
                          ": remove it first if you really mean to replace that key");
    }
  }
  const std::string who = "'" + std::string(name) + "'";
  write_new_file(secret_file,
                 "# CURVE secret key " + who + " (Z85). Keep it private: whoever holds it is " +
                     who + ".\n" + secret_key + "\n",
                 0600);
  try {
    write_new_file(public_file,
                   "# CURVE public key " + who + " (Z85). Share it with the peers that must " +
                       "know " + who + ".\n" + public_key + "\n",
                   0644);
  } catch (...) {
    ::unlink(secret_file.c_str());  // never leave half a pair behind
    throw;
  }
  return public_file;
}

std::string load_public_key(const fs::path& file) { return single_key(file, false); }

AllowList AllowList::load(const fs::path& path) {
  AllowList list;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(path, ec)) {
      if (entry.path().extension() == ".key") files.push_back(entry.path());
    }
    if (ec) {
      throw SecurityError("cannot list allow-list directory " + quoted(path) + ": " + ec.message());
    }
    for (const fs::path& file : files) list.allow(load_public_key(file));
    return list;
  }
  if (!fs::exists(path, ec)) {
    throw SecurityError(
        "allow-list " + quoted(path) +
        " does not exist: give a directory of client *.key files or a file of keys");
  }
  for (const std::string& key : read_keys(path, false)) list.allow(key);
  return list;
}

void AllowList::allow(std::string_view public_key) {
  check_key(public_key, "an allow-listed key");
  keys_.emplace(public_key);
}

bool AllowList::allows(std::string_view public_key) const { return keys_.contains(public_key); }

ZapHandler::ZapHandler(zmq::context_t& context, AllowList allowed)
    : context_handle_(context.handle()), allowed_(std::move(allowed)) {
  Registry& r = registry();
  const std::lock_guard lock(r.mutex);
  if (r.handlers.contains(context_handle_)) {
    throw SecurityError(
        "a ZAP handler already runs in this context, and libzmq allows one per "
        "context: share it (one eda::ContextSecurity per context)");
  }
  zmq::socket_t requests(context, zmq::socket_type::rep);
  requests.set(zmq::sockopt::linger, 0);
  try {
    (void)bind_endpoint(requests, zap_endpoint);
  } catch (const std::runtime_error& e) {
    throw SecurityError(std::string("cannot start the ZAP handler: ") + e.what() +
                        " (another ZAP handler is bound in this context)");
  }
  const std::string control_endpoint =
      "inproc://eda-zap-control-" + std::to_string(next_control_number++);
  zmq::socket_t control(context, zmq::socket_type::pair);
  control.bind(control_endpoint);
  stop_ = zmq::socket_t(context, zmq::socket_type::pair);
  stop_.set(zmq::sockopt::linger, 0);
  stop_.connect(control_endpoint);
  thread_ = std::thread(&ZapHandler::run, this, std::move(requests), std::move(control));
  r.handlers.insert(context_handle_);
}

ZapHandler::~ZapHandler() {
  try {
    (void)stop_.send(zmq::str_buffer("stop"), zmq::send_flags::none);
  } catch (const zmq::error_t&) {
    // The context is being terminated: the thread's poll fails and it ends by itself.
  }
  thread_.join();
  stop_.close();
  Registry& r = registry();
  const std::lock_guard lock(r.mutex);
  r.handlers.erase(context_handle_);
}

ZapStats ZapHandler::stats() const noexcept {
  return ZapStats{allowed_count_.load(), denied_count_.load()};
}

bool ZapHandler::running_in(zmq::context_t& context) noexcept {
  Registry& r = registry();
  const std::lock_guard lock(r.mutex);
  return r.handlers.contains(context.handle());
}

void ZapHandler::run(zmq::socket_t requests, zmq::socket_t control) {
  std::vector<zmq::message_t> frames;
  try {
    for (;;) {
      std::array<zmq::pollitem_t, 2> items{
          {{requests.handle(), 0, ZMQ_POLLIN, 0}, {control.handle(), 0, ZMQ_POLLIN, 0}}};
      (void)zmq::poll(items.data(), items.size(), std::chrono::milliseconds(-1));
      if ((items[1].revents & ZMQ_POLLIN) != 0) {
        // Unbinding takes the ZAP address away at once (closing would release it a moment
        // later, on libzmq's own thread): from now on libzmq finds no handler, and a server
        // socket with ZMQ_ZAP_ENFORCE_DOMAIN refuses every client instead of waiting for one.
        requests.unbind(std::string(zap_endpoint));
        return;
      }
      if ((items[0].revents & ZMQ_POLLIN) == 0) continue;
      // RFC 27 request: version, request id, domain, address, identity, mechanism, credentials.
      frames.clear();
      bool more = true;
      while (more) {
        zmq::message_t frame;
        (void)requests.recv(frame);
        more = frame.more();
        if (frames.size() < 16) frames.push_back(std::move(frame));  // more is never valid
      }
      std::string status = "400";
      std::string text = "only CURVE clients with an allow-listed public key are let in";
      std::string user;
      if (frames.size() < 6 || text_of(frames[0]) != "1.0") {
        status = "500";
        text = "malformed ZAP request";
      } else if (text_of(frames[5]) == "CURVE" && frames.size() == 7 && frames[6].size() == 32) {
        std::array<char, curve_key_text_size + 1> key{};
        if (zmq_z85_encode(key.data(), static_cast<const std::uint8_t*>(frames[6].data()), 32) !=
                nullptr &&
            allowed_.allows(key.data())) {
          status = "200";
          text = "OK";
          user = key.data();
        } else {
          text = "client public key is not on the allow-list";
        }
      }
      (status == "200" ? allowed_count_ : denied_count_).fetch_add(1);
      const std::string request_id = frames.size() > 1 ? text_of(frames[1]) : std::string();
      (void)requests.send(zmq::str_buffer("1.0"), zmq::send_flags::sndmore);
      (void)requests.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
      (void)requests.send(zmq::buffer(status), zmq::send_flags::sndmore);
      (void)requests.send(zmq::buffer(text), zmq::send_flags::sndmore);
      (void)requests.send(zmq::buffer(user), zmq::send_flags::sndmore);
      (void)requests.send(zmq::const_buffer("", 0), zmq::send_flags::none);
    }
  } catch (const zmq::error_t&) {
    // ETERM: the context is being shut down; the sockets close as this thread ends.
  }
}

Security Security::server(KeyPair keys) {
  Security security;
  security.server_keys = std::move(keys);
  return security;
}

Security Security::client(KeyPair keys, std::string server_public_key) {
  Security security;
  security.client_keys = std::move(keys);
  security.server_public_key = std::move(server_public_key);
  return security;
}

bool secure_server_socket(zmq::context_t& context, zmq::socket_t& socket,
                          const std::optional<Security>& security, std::string_view what) {
  const std::optional<Security> use = chosen(context, security);
  if (!use || use->is_plaintext()) return false;
  if (!use->server_keys) {
    throw SecurityError(std::string(what) +
                        " binds, so it is the CURVE server: its Security "
                        "needs server keys (eda::Security::server), not only client keys");
  }
  require_curve();
  check_pair(*use->server_keys, std::string(what));
  if (!ZapHandler::running_in(context)) {
    throw SecurityError(std::string(what) +
                        ": refusing to run CURVE without a ZAP handler in "
                        "its context, because libzmq would then let every client in; start "
                        "an eda::ContextSecurity (or eda::ZapHandler) in the context first");
  }
  socket.set(zmq::sockopt::zap_domain, std::string(zap_domain));
  // Belt and braces: ZMQ_ZAP_ENFORCE_DOMAIN (a draft option in libzmq 4.3, number 93, which
  // Debian's build has) makes libzmq itself refuse every handshake when no ZAP handler answers,
  // e.g. one stopped while this socket still runs. Where it is missing the call fails
  // harmlessly and the check above is the guard.
  const int enforce = 1;
  (void)zmq_setsockopt(socket.handle(), zap_enforce_domain_option, &enforce, sizeof enforce);
  socket.set(zmq::sockopt::curve_server, true);
  socket.set(zmq::sockopt::curve_secretkey, use->server_keys->secret_key);
  socket.set(zmq::sockopt::curve_publickey, use->server_keys->public_key);
  return true;
}

bool secure_client_socket(zmq::context_t& context, zmq::socket_t& socket,
                          const std::optional<Security>& security, std::string_view what) {
  const std::optional<Security> use = chosen(context, security);
  if (!use || use->is_plaintext()) return false;
  if (!use->client_keys) {
    throw SecurityError(std::string(what) +
                        " connects, so it is a CURVE client: its Security "
                        "needs client keys and the server's public key (eda::Security::client)");
  }
  require_curve();
  check_pair(*use->client_keys, std::string(what));
  check_key(use->server_public_key, std::string(what) + ": the server public key");
  socket.set(zmq::sockopt::curve_serverkey, use->server_public_key);
  socket.set(zmq::sockopt::curve_publickey, use->client_keys->public_key);
  socket.set(zmq::sockopt::curve_secretkey, use->client_keys->secret_key);
  return true;
}

ContextSecurity::ContextSecurity(zmq::context_t& context, Security security, AllowList allowed)
    : context_handle_(context.handle()) {
  check_security(security);
  if (!security.is_plaintext()) require_curve();
  {
    Registry& r = registry();
    const std::lock_guard lock(r.mutex);
    if (r.defaults.contains(context_handle_)) {
      throw SecurityError(
          "this context already has a default Security: one ContextSecurity per context");
    }
  }
  if (security.server_keys) {
    zap_ = std::make_unique<ZapHandler>(context, std::move(allowed));
  }
  Registry& r = registry();
  const std::lock_guard lock(r.mutex);
  if (!r.defaults.emplace(context_handle_, std::move(security)).second) {
    throw SecurityError(
        "this context already has a default Security: one ContextSecurity per context");
  }
}

ContextSecurity::~ContextSecurity() {
  {
    Registry& r = registry();
    const std::lock_guard lock(r.mutex);
    r.defaults.erase(context_handle_);
  }
  zap_.reset();
}

std::optional<Security> ContextSecurity::default_of(zmq::context_t& context) {
  Registry& r = registry();
  const std::lock_guard lock(r.mutex);
  const auto found = r.defaults.find(context.handle());
  if (found == r.defaults.end()) return std::nullopt;
  return found->second;
}

}  // namespace eda
