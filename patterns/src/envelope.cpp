#include "eda/envelope.hpp"

#include <pthread.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <random>

namespace eda {

namespace {

/// Bumped in the child after every fork(): a forked process inherits its parent's generator
/// state, and without a fresh seed it would repeat the parent's (and its siblings') ids.
std::atomic<unsigned> fork_generation{0};

[[maybe_unused]] const bool fork_handler_installed = [] {
  return ::pthread_atfork(nullptr, nullptr, [] { fork_generation.fetch_add(1); }) == 0;
}();

std::mt19937_64 seeded_generator() {
  std::random_device device;
  std::seed_seq seed{device(), device(), device(), device()};
  return std::mt19937_64(seed);
}

}  // namespace

std::string new_event_id() { return new_event_id(wall_clock_ns()); }

std::string new_event_id(std::int64_t now_ns) {
  // One generator per thread, seeded from the OS: ids are unique without a lock. Reseeded
  // after a fork (an atomic load per id: cheaper than asking the OS for the process id).
  thread_local std::mt19937_64 generator = seeded_generator();
  thread_local unsigned generation = fork_generation.load(std::memory_order_relaxed);
  if (const unsigned now = fork_generation.load(std::memory_order_relaxed); now != generation) {
    generator = seeded_generator();
    generation = now;
  }
  static constexpr std::array<char, 16> digits{'0', '1', '2', '3', '4', '5', '6', '7',
                                               '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
  // Writes `count` hex digits of `bits`, most significant first, ending before `end`.
  std::string id(32, '0');
  const auto put = [&](std::size_t end, int count, std::uint64_t bits) {
    for (int i = 1; i <= count; ++i) {
      id[end - static_cast<std::size_t>(i)] = digits[bits & 0xFU];
      bits >>= 4U;
    }
  };
  const auto millis = static_cast<std::uint64_t>(now_ns / 1'000'000);
  put(12, 12, millis);       // 48 bits of time: sorts by time as text
  put(28, 16, generator());  // 80 random bits: 64 ...
  put(32, 4, generator());   // ... and 16 more
  return id;
}

std::int64_t wall_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool is_valid_event_type(std::string_view type) noexcept {
  // Every decoded event's type is checked, so the test is one table look-up per character.
  static constexpr std::array<bool, 256> allowed = [] {
    std::array<bool, 256> table{};
    for (unsigned char c = 0; c < 128; ++c) {
      table[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
    }
    return table;
  }();
  if (type.empty() || type.size() > 200) {
    return false;
  }
  return std::all_of(type.begin(), type.end(),
                     [](char c) { return allowed[static_cast<unsigned char>(c)]; });
}

}  // namespace eda
