#include "postgres_params.hpp"

#include <stdexcept>

#include "eda/sourcing/event_store.hpp"

namespace eda::sourcing::postgres {

Params& Params::bytes(std::string_view value) {
  values_.push_back(value.empty() ? "" : value.data());
  lengths_.push_back(static_cast<int>(value.size()));
  return *this;
}

Params& Params::null() {
  values_.push_back(nullptr);
  lengths_.push_back(0);
  return *this;
}

Params& Params::int8(std::uint64_t value) {
  if (value > largest_bigint) {
    throw std::out_of_range("PostgreSQL event store: " + std::to_string(value) +
                            " does not fit a bigint parameter (at most " +
                            std::to_string(largest_bigint) + ")");
  }
  std::string& buffer = owned_.emplace_back(8, '\0');
  for (int i = 7; i >= 0; --i) {
    buffer[static_cast<std::size_t>(i)] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  return bytes(buffer);
}

const int* Params::formats() const {
  formats_.assign(values_.size(), 1);
  return formats_.data();
}

void Params::put32(std::string& buffer, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    buffer += static_cast<char>((value >> shift) & 0xff);
  }
}

std::uint64_t int8_from_binary(std::string_view raw) {
  if (raw.size() != 8) {
    throw StoreError("PostgreSQL event store: expected a bigint, got " +
                     std::to_string(raw.size()) + " bytes (is this an event store?)");
  }
  std::uint64_t value = 0;
  for (const char byte : raw) value = (value << 8) | static_cast<unsigned char>(byte);
  return value;
}

}  // namespace eda::sourcing::postgres
