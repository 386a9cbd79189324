#include "eda/keys.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include <zmq.h>

#include "eda/security.hpp"

namespace eda {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view z85_alphabet =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/// Key files are tiny; anything bigger is not a key file.
constexpr std::uintmax_t max_key_file_bytes = std::uintmax_t{64} * 1024;

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

}  // namespace

void check_z85_key(std::string_view key, const std::string& what) {
  if (!is_z85_key(key)) {
    throw SecurityError(what + " is not a CURVE key of 40 Z85 characters");
  }
}

void KeyPair::check(const std::string& what) const {
  check_z85_key(public_key, what + "'s public key");
  check_z85_key(secret_key, what + "'s secret key");
}

void require_curve() {
  if (!curve_available()) {
    throw SecurityError(
        "this libzmq was built without CURVE support (zmq_has(\"curve\") is "
        "false): install a libzmq built with libsodium");
  }
}

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
  check("the key pair to save");
  std::error_code ec;
  fs::create_directories(directory, ec);
  if (ec) {
    throw SecurityError("cannot create directory " + quoted(directory) + ": " + ec.message());
  }
  fs::path public_file = directory / (std::string(name) + ".key");
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
  check_z85_key(public_key, "an allow-listed key");
  keys_.emplace(public_key);
}

bool AllowList::allows(std::string_view public_key) const { return keys_.contains(public_key); }

}  // namespace eda
