// Helpers the fuzz targets share: splitting an input into ZeroMQ frames, checking properties,
// and a raw peer that talks to a service over inproc:// from the fuzzing thread itself.
#pragma once

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <msgpack.hpp>
#include <zmq.hpp>

namespace eda::fuzz {

/// Any payload, packed as the MessagePack object it is: re-encodes a decoded event whose payload
/// type the target does not know (`eda::encode_event(event.meta(), ObjectPayload{event.payload()}, out)`).
struct ObjectPayload {
  static constexpr std::string_view event_type = "fuzz.any";
  static constexpr std::uint32_t schema_version = 1;
  msgpack::object object;
  template <class Packer>
  void msgpack_pack(Packer& packer) const {
    packer.pack(object);
  }
};

/// Separates frames in a fuzz input. 0xC1 is the one byte MessagePack never uses as a type,
/// so two of them in a row hardly ever occur inside a real message (the seed generator checks).
inline constexpr std::string_view frame_separator = "\xc1\xc1";

/// At most this many frames are made of one input (the rest stays in the last frame).
inline constexpr std::size_t max_frames = 16;

/// A MessagePack float, 32 or 64 bits.
inline bool is_float(const msgpack::object& o) {
  return o.type == msgpack::type::FLOAT32 || o.type == msgpack::type::FLOAT64;
}

/// A MessagePack integer of either sign.
inline bool is_integer(const msgpack::object& o) {
  return o.type == msgpack::type::POSITIVE_INTEGER || o.type == msgpack::type::NEGATIVE_INTEGER;
}

/// Byte-wise equality that never hands memcmp a null pointer (msgpack-cxx leaves an empty
/// string's pointer null, and its own == passes that to memcmp).
inline bool same_bytes(const char* a, std::size_t a_size, const char* b, std::size_t b_size) {
  return a_size == b_size && (a_size == 0 || std::memcmp(a, b, a_size) == 0);
}

/// Whether the float `original` is the whole number msgpack-cxx's packer writes as the integer
/// `reencoded` (pack_float, pack_double: a float holding a whole number in range goes out as
/// that integer): exactly, both ways.
inline bool packed_as_integer(const msgpack::object& original, const msgpack::object& reencoded) {
  const double value = original.via.f64;
  if (reencoded.type == msgpack::type::POSITIVE_INTEGER) {
    return value >= 0 && value < 18446744073709551616.0 &&
           static_cast<std::uint64_t>(value) == reencoded.via.u64 &&
           static_cast<double>(reencoded.via.u64) == value;
  }
  return value < 0 && value >= -9223372036854775808.0 &&
         static_cast<std::int64_t>(value) == reencoded.via.i64 &&
         static_cast<double>(reencoded.via.i64) == value;
}

/// Whether `a` and `b` hold the same value, type for type, where msgpack::object's == is wrong
/// for reasons that are not the reader's: NaN is never == to itself, and == hands memcmp the
/// null pointer msgpack-cxx leaves in an empty string. With `b_reencoded` (b is `a` packed
/// and read again), a float of `a` may also be the integer msgpack-cxx's packer made of it.
inline bool same_value(const msgpack::object& a, const msgpack::object& b,
                       bool b_reencoded = false) {
  if (b_reencoded && is_float(a) && is_integer(b)) return packed_as_integer(a, b);
  if (a.type != b.type) return false;
  switch (a.type) {
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      return a.via.f64 == b.via.f64 || (std::isnan(a.via.f64) && std::isnan(b.via.f64));
    case msgpack::type::ARRAY:
      if (a.via.array.size != b.via.array.size) return false;
      for (std::uint32_t i = 0; i < a.via.array.size; ++i) {
        if (!same_value(a.via.array.ptr[i], b.via.array.ptr[i], b_reencoded)) return false;
      }
      return true;
    case msgpack::type::MAP:
      if (a.via.map.size != b.via.map.size) return false;
      for (std::uint32_t i = 0; i < a.via.map.size; ++i) {
        if (!same_value(a.via.map.ptr[i].key, b.via.map.ptr[i].key, b_reencoded) ||
            !same_value(a.via.map.ptr[i].val, b.via.map.ptr[i].val, b_reencoded)) {
          return false;
        }
      }
      return true;
    case msgpack::type::STR:
      return same_bytes(a.via.str.ptr, a.via.str.size, b.via.str.ptr, b.via.str.size);
    case msgpack::type::BIN:
      return same_bytes(a.via.bin.ptr, a.via.bin.size, b.via.bin.ptr, b.via.bin.size);
    case msgpack::type::EXT:
      return a.via.ext.type() == b.via.ext.type() &&
             same_bytes(a.via.ext.data(), a.via.ext.size, b.via.ext.data(), b.via.ext.size);
    default:  // nil, booleans, integers
      return a == b;
  }
}

inline std::string_view as_view(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// The frames of an input: its bytes split at every frame_separator.
inline std::vector<std::string_view> split_frames(std::string_view input) {
  std::vector<std::string_view> frames;
  while (frames.size() + 1 < max_frames) {
    const std::size_t at = input.find(frame_separator);
    if (at == std::string_view::npos) break;
    frames.push_back(input.substr(0, at));
    input.remove_prefix(at + frame_separator.size());
  }
  frames.push_back(input);
  return frames;
}

/// An input holding `frames` (the inverse of split_frames() when no frame holds the separator).
inline std::string join_frames(const std::vector<std::string>& frames) {
  std::string out;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    if (i > 0) out += frame_separator;
    out += frames[i];
  }
  return out;
}

/// A property does not hold: print what and abort, which libFuzzer reports as a crash and
/// the replay test as a failure.
[[noreturn]] inline void property_failed(const char* file, int line, const char* condition,
                                         const std::string& detail) {
  std::fprintf(stderr, "\n%s:%d: property violated: %s\n  %s\n", file, line, condition,
               detail.c_str());
  std::fflush(stderr);
  std::abort();
}

#define EDA_FUZZ_CHECK(condition, detail)                                                   \
  do {                                                                                      \
    if (!(condition)) ::eda::fuzz::property_failed(__FILE__, __LINE__, #condition, detail); \
  } while (0)

/// The process's one ZeroMQ context (kept until exit: services outlive every input).
inline zmq::context_t& context() {
  static auto* instance = new zmq::context_t(1);
  return *instance;
}

/// A fresh inproc endpoint name per call (services are re-created now and then).
inline std::string inproc_endpoint(std::string_view what) {
  static std::uint64_t counter = 0;
  return "inproc://fuzz-" + std::string(what) + "-" + std::to_string(++counter);
}

/// A raw DEALER connected to a service: sends any frames, reads whatever comes back.
class RawPeer {
 public:
  explicit RawPeer(const std::string& endpoint) : socket_(context(), zmq::socket_type::dealer) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.connect(endpoint);
  }

  /// Sends `frames` as one message (an empty `frames` sends nothing).
  void send(const std::vector<std::string_view>& frames) {
    for (std::size_t i = 0; i < frames.size(); ++i) {
      const auto more = i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none;
      (void)socket_.send(zmq::const_buffer(frames[i].data(), frames[i].size()),
                         more | zmq::send_flags::dontwait);
    }
  }

  /// One message, if one is waiting now.
  std::optional<std::vector<std::string>> try_receive() {
    std::vector<std::string> frames;
    zmq::message_t frame;
    if (!socket_.recv(frame, zmq::recv_flags::dontwait)) return std::nullopt;
    frames.emplace_back(static_cast<const char*>(frame.data()), frame.size());
    while (frame.more()) {
      (void)socket_.recv(frame, zmq::recv_flags::none);
      frames.emplace_back(static_cast<const char*>(frame.data()), frame.size());
    }
    return frames;
  }

  /// Calls `serve()` (which answers with the service, on this thread) until a message comes
  /// back; nothing after `rounds` calls.
  template <class Serve>
  std::optional<std::vector<std::string>> await_reply(Serve&& serve, int rounds = 400) {
    for (int i = 0; i < rounds; ++i) {
      if (auto reply = try_receive()) return reply;
      serve();
    }
    return try_receive();
  }

 private:
  zmq::socket_t socket_;
};

/// Prints a vector of frames, for messages.
inline std::string describe_frames(const std::vector<std::string>& frames) {
  std::string out = std::to_string(frames.size()) + " frame(s):";
  for (const std::string& f : frames) {
    out += " [";
    for (const char c : f.substr(0, 80)) {
      const auto u = static_cast<unsigned char>(c);
      if (u >= 0x20 && u < 0x7f) {
        out += c;
      } else {
        char hex[8];
        std::snprintf(hex, sizeof hex, "\\x%02x", u);
        out += hex;
      }
    }
    out += f.size() > 80 ? "...]" : "]";
  }
  return out;
}

}  // namespace eda::fuzz
