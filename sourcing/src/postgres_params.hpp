// The parameters of the PostgreSQL store's statements in the binary wire format, and the
// binary values its results come back in (private to the PostgreSQL store, eda::sourcing_postgres;
// nothing here needs libpq, so the tests check it without a server).
#pragma once

#include <cstdint>
#include <deque>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace eda::sourcing::postgres {

/// Type OIDs of the parameters sent (fixed in PostgreSQL's catalogue, pg_type.dat).
namespace oid {
inline constexpr std::uint32_t bytea = 17;
inline constexpr std::uint32_t int8 = 20;
inline constexpr std::uint32_t text = 25;
inline constexpr std::uint32_t bytea_array = 1001;
inline constexpr std::uint32_t text_array = 1009;
}  // namespace oid

/// The largest value a bigint (int8) holds: 2^63 - 1.
inline constexpr std::uint64_t largest_bigint = 9'223'372'036'854'775'807ULL;

/// The parameters of one statement, all sent in binary: text as its bytes, bigint as 8 bytes
/// in network order, bytea as its bytes (no escaping, no copy of the envelope). The values
/// point into the strings given (which must outlive the call) or into buffers kept here.
class Params {
 public:
  /// Text, as its bytes.
  Params& text(std::string_view value) { return bytes(value); }
  /// A bytea, as its bytes.
  Params& bytes(std::string_view value);
  /// SQL NULL.
  Params& null();
  /// A bigint. A bigint is signed: a value above largest_bigint would reach the server as a
  /// negative number, so it throws std::out_of_range naming the value instead (a caller whose
  /// "beyond" means "no bound" says so by passing largest_bigint).
  Params& int8(std::uint64_t value);
  /// A one-dimensional array of text (`element` = oid::text) or bytea (oid::bytea), in
  /// PostgreSQL's binary array format: dimensions, flags and element type, then each element
  /// as its length and its bytes. One parameter carries a whole append's events.
  template <class Range, class Bytes>
  Params& array(std::uint32_t element, const Range& items, Bytes bytes_of) {
    std::string& buffer = owned_.emplace_back();
    put32(buffer, 1);        // dimensions
    put32(buffer, 0);        // flags: no NULL elements
    put32(buffer, element);  // element type
    put32(buffer, static_cast<std::uint32_t>(std::size(items)));
    put32(buffer, 1);  // lower bound: arrays count from 1
    for (const auto& item : items) {
      const std::string_view value = bytes_of(item);
      put32(buffer, static_cast<std::uint32_t>(value.size()));
      buffer += value;
    }
    return bytes(buffer);
  }

  /// How many parameters, and their values, lengths and formats (all binary), as libpq's
  /// PQexecPrepared takes them.
  [[nodiscard]] int count() const { return static_cast<int>(values_.size()); }
  [[nodiscard]] const char* const* values() const { return values_.data(); }
  [[nodiscard]] const int* lengths() const { return lengths_.data(); }
  [[nodiscard]] const int* formats() const;

 private:
  static void put32(std::string& buffer, std::uint32_t value);
  std::deque<std::string> owned_;  // a deque: growing it never moves what values_ points at
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  mutable std::vector<int> formats_;
};

/// A bigint of a binary result (8 bytes, network order); throws StoreError when `raw`
/// is not 8 bytes long (a column of another type: the tables are not an event store's).
std::uint64_t int8_from_binary(std::string_view raw);

}  // namespace eda::sourcing::postgres
