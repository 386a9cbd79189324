#include "story.hpp"

#include <set>

namespace eda::notification::demo {

namespace {

std::string money(std::int64_t cents) {
  return std::to_string(cents / 100) + "." + (cents % 100 < 10 ? "0" : "") +
         std::to_string(cents % 100);
}

}  // namespace

std::string describe(std::string_view role, const OrderPlaced& placed, const Order* order) {
  const std::string id = "order " + std::to_string(placed.order_id);
  if (order == nullptr) return "handled " + id;
  const auto& d = order->details;
  if (role.starts_with("inventory"))
    return "reserved " + std::to_string(d.quantity) + " x " + d.item + " for " + id;
  if (role.starts_with("shipping")) return "scheduled " + id + " to " + d.address;
  return "charged " + d.customer + " " + money(d.price_cents) + " for " + id;
}

void Signal::raise() {
  {
    const std::lock_guard lock(mutex_);
    ++count_;
  }
  changed_.notify_all();
}

bool Signal::wait_for(int count, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return count_ >= count; });
}

std::string once_each(const std::vector<std::uint64_t>& placed,
                      const std::map<std::uint64_t, int>& reacted) {
  std::string problems;
  const auto add = [&problems](std::uint64_t id, const std::string& what) {
    problems += (problems.empty() ? "order " : "; order ") + std::to_string(id) + " " + what;
  };
  const std::set<std::uint64_t> expected(placed.begin(), placed.end());
  for (const std::uint64_t id : expected) {
    const auto it = reacted.find(id);
    const int times = it == reacted.end() ? 0 : it->second;
    if (times != 1) add(id, "handled " + std::to_string(times) + " times");
  }
  for (const auto& [id, times] : reacted) {
    if (!expected.contains(id))
      add(id, "was never placed but handled " + std::to_string(times) + " times");
  }
  return problems;
}

}  // namespace eda::notification::demo
