// Private to the kit: an id's 32 lowercase hex digits to its 16 bytes and back, eight
// characters at a time.
//
// Why not a loop over characters: ids are random, so a branch per character ("digit or
// letter?") is mispredicted about every other time, and GCC vectorizes the branch-free loop
// badly (it gathered a lookup table's values one by one and spilled them to the stack; perf put
// that at 6% of a kit publisher's samples). Arithmetic on 64-bit words, one byte per character
// ("SWAR": SIMD within a register), needs neither. The method, for a byte b under 0x80: adding
// a constant c <= 0x80 to the word carries into no other byte, and b + (0x80 - k) has its top
// bit set exactly when b >= k, so a range test on eight bytes is two additions and a mask.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace eda::detail::hex {

/// @brief `byte` repeated in each of the eight bytes of a word.
constexpr std::uint64_t each_byte(std::uint8_t byte) noexcept {
  return 0x0101010101010101ULL * byte;
}

/// @brief Eight characters of text as a word, the first in the lowest byte.
inline std::uint64_t load_eight(const char* text) noexcept {
  std::uint64_t word = 0;
  std::memcpy(&word, text, sizeof word);  // one load
  if constexpr (std::endian::native == std::endian::big) word = __builtin_bswap64(word);
  return word;
}

/// @brief Writes a word's eight bytes as text, the lowest byte first (load_eight's inverse).
inline void store_eight(std::uint64_t word, char* text) noexcept {
  if constexpr (std::endian::native == std::endian::big) word = __builtin_bswap64(word);
  std::memcpy(text, &word, sizeof word);
}

/// @brief Whether all eight characters of `word` (load_eight) are lowercase hex digits.
///
/// A digit (0x30..0x39): the top bit of b + 0x50 set (b >= 0x30) and of b + 0x46 clear
/// (b < 0x3a). A letter a..f (0x61..0x66): b + 0x1f set, b + 0x19 clear. A byte with its top
/// bit set is no digit (and its carries, which may spoil its neighbours' tests, do not matter).
inline bool all_digits(std::uint64_t word) noexcept {
  const std::uint64_t top = each_byte(0x80);
  const std::uint64_t digit = (word + each_byte(0x50)) & ~(word + each_byte(0x46));
  const std::uint64_t letter = (word + each_byte(0x1f)) & ~(word + each_byte(0x19));
  return ((word & top) == 0) & (((digit | letter) & top) == top);  // `&`: no branch
}

/// @brief The four bytes that eight hex digits (all_digits) stand for, the first two digits'
///        byte lowest.
///
/// A digit's value is its low four bits, plus 9 for a letter (bit 6 set: 'a' is 0x61, so
/// 1 + 9). Then each pair of digit bytes becomes one byte (high << 4 | low) in the even byte,
/// and the even bytes are moved together.
inline std::uint64_t value_of_eight_digits(std::uint64_t word) noexcept {
  std::uint64_t value = (word & each_byte(0x0f)) + ((word >> 6U) & each_byte(0x01)) * 9;
  value = ((value << 4U) | (value >> 8U)) & 0x00ff00ff00ff00ffULL;
  value = (value | (value >> 8U)) & 0x0000ffff0000ffffULL;
  return (value | (value >> 16U)) & 0x00000000ffffffffULL;
}

/// @brief The eight bytes that sixteen hex digits stand for, as a word in memory order (its
///        bytes, stored, are the bytes in the digits' order).
inline std::uint64_t bytes_of_sixteen_digits(const char* text) noexcept {
  std::uint64_t bytes = value_of_eight_digits(load_eight(text)) |
                        (value_of_eight_digits(load_eight(text + 8)) << 32U);
  if constexpr (std::endian::native == std::endian::big) bytes = __builtin_bswap64(bytes);
  return bytes;
}

/// @brief The eight lowercase hex digits of four bytes (the low half of `bytes`, first byte
///        lowest), as a word of characters, the first lowest.
///
/// Each byte is spread to every other byte, its high nibble then its low nibble to a byte of
/// their own, and each value v becomes '0' + v, plus 39 more from 10 on ('a' - '0' - 10):
/// v + 0x76 has its top bit set exactly when v >= 10.
inline std::uint64_t digits_of_four_bytes(std::uint64_t bytes) noexcept {
  std::uint64_t spread = bytes & 0xffffffffULL;
  spread = (spread | (spread << 16U)) & 0x0000ffff0000ffffULL;
  spread = (spread | (spread << 8U)) & 0x00ff00ff00ff00ffULL;
  const std::uint64_t nibbles =
      ((spread >> 4U) & 0x000f000f000f000fULL) | ((spread & 0x000f000f000f000fULL) << 8U);
  const std::uint64_t letters = ((nibbles + each_byte(0x76)) >> 7U) & each_byte(0x01);
  return nibbles + each_byte('0') + letters * 39;
}

/// @brief Writes the 32 lowercase hex digits of 16 bytes to `text`.
inline void digits_of_sixteen_bytes(const char* bytes, char* text) noexcept {
  for (int half = 0; half < 2; ++half) {
    const std::uint64_t word = load_eight(bytes + 8 * half);
    store_eight(digits_of_four_bytes(word), text + 16 * half);
    store_eight(digits_of_four_bytes(word >> 32U), text + 16 * half + 8);
  }
}

}  // namespace eda::detail::hex
