#include "eda/state_transfer/customer.hpp"

#include <array>
#include <cstdio>

#include "eda/codec.hpp"

namespace eda::state_transfer {

std::string fingerprint(const CustomerTable& table) {
  // Each record's MessagePack bytes hashed with FNV-1a; the hashes are added, so the order in
  // which the unordered table is walked does not matter. Not cryptographic: it spots a
  // difference, it does not resist someone who makes one on purpose.
  std::uint64_t sum = table.size();
  msgpack::sbuffer buffer;
  for (const auto& entry : table) {
    buffer.clear();
    msgpack::pack(buffer, entry.second);
    std::uint64_t hash = 14'695'981'039'346'656'037ULL;
    for (std::size_t i = 0; i < buffer.size(); ++i) {
      hash = (hash ^ static_cast<unsigned char>(buffer.data()[i])) * 1'099'511'628'211ULL;
    }
    sum += hash;
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(sum));
  return text;
}
namespace {

constexpr std::array first_names{"Alice", "Bruno", "Chloe", "Dmitri", "Emma",  "Farid",
                                 "Grace", "Hugo",  "Ines",  "Jonas",  "Keiko", "Liam"};
constexpr std::array last_names{"Martin", "Novak",  "Okafor", "Petit", "Quinn", "Rossi",
                                "Sato",   "Tanaka", "Ueda",   "Varga", "Weber", "Young"};
constexpr std::array streets{"Quai Nord",    "Mill Lane",    "Station Street", "Rue Haute",
                             "Harbour Road", "Linden Allee", "Via Roma",       "Market Square"};
struct Place {
  const char* postcode;
  const char* city;
  const char* country;
};
constexpr std::array places{Place{"69001", "Lyon", "FR"},        Place{"10115", "Berlin", "DE"},
                            Place{"00184", "Roma", "IT"},        Place{"1011", "Amsterdam", "NL"},
                            Place{"EH1 1YZ", "Edinburgh", "GB"}, Place{"28013", "Madrid", "ES"}};
constexpr std::array tiers{"standard", "standard", "silver", "gold"};

template <class Array>
const auto& pick(const Array& choices, std::uint64_t n) {
  return choices[n % choices.size()];
}

}  // namespace

Incarnation new_incarnation() {
  // Straight from the OS every time (it is drawn once per start): a generator kept in memory
  // would hand a forked child its parent's next number.
  std::random_device device;
  Incarnation incarnation = 0;
  while (incarnation == 0) {
    incarnation = (static_cast<Incarnation>(device()) << 32U) | device();
  }
  return incarnation;
}

std::string to_hex(Incarnation incarnation) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(incarnation));
  return text;
}

Customer customer_from(const msgpack::object& object, std::string_view what) {
  Customer customer = detail::convert_checked<Customer>(object, [what] { return what; });
  if (customer.id == 0) {
    throw MalformedMessage(WireFault::payload_mismatch, std::string(what) + " has customer id 0");
  }
  return customer;
}

std::string address_label(const Customer& customer) {
  return customer.name + ", " + customer.street + ", " + customer.postcode + " " + customer.city +
         ", " + customer.country;
}

Customer CustomerGenerator::make(CustomerId id) {
  Customer customer;
  customer.id = id;
  const std::string first = pick(first_names, random_());
  const std::string last = pick(last_names, random_());
  customer.name = first + " " + last;
  customer.email = first + "." + last + std::to_string(id) + "@example.com";
  customer.tier = pick(tiers, random_());
  return moved(std::move(customer));
}

Customer CustomerGenerator::moved(Customer customer) {
  const Place& place = pick(places, random_());
  customer.street = std::to_string(below(200) + 1) + " " + pick(streets, random_());
  customer.postcode = place.postcode;
  customer.city = place.city;
  customer.country = place.country;
  return customer;
}

Customer CustomerGenerator::retiered(Customer customer) {
  const std::string previous = customer.tier;
  while (customer.tier == previous) {  // tiers has three distinct values: ends quickly
    customer.tier = pick(tiers, random_());
  }
  return customer;
}

CustomerTable CustomerGenerator::table(std::size_t count) {
  CustomerTable records;
  records.reserve(count);
  for (CustomerId id = 1; id <= count; ++id) {
    records.emplace(id, make(id));
  }
  return records;
}

std::uint64_t CustomerGenerator::below(std::uint64_t bound) { return random_() % bound; }

}  // namespace eda::state_transfer
