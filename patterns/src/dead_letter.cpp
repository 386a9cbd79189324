#include "eda/dead_letter.hpp"

#include <stdexcept>

#include "eda/errors.hpp"
#include "eda/json.hpp"

namespace eda {

DeadLetterBox::DeadLetterBox(std::size_t capacity) : capacity_(capacity) {}

void DeadLetterBox::put(DeadLetter letter) {
  const std::lock_guard lock(mutex_);
  ++total_;
  ++by_fault_[letter.fault];
  if (capacity_ == 0) {
    return;
  }
  if (kept_.size() == capacity_) {
    kept_.pop_front();
  }
  kept_.push_back(std::move(letter));
}

std::uint64_t DeadLetterBox::total() const {
  const std::lock_guard lock(mutex_);
  return total_;
}

std::uint64_t DeadLetterBox::count(WireFault fault) const {
  const std::lock_guard lock(mutex_);
  const auto it = by_fault_.find(fault);
  return it == by_fault_.end() ? 0 : it->second;
}

std::vector<DeadLetter> DeadLetterBox::recent() const {
  const std::lock_guard lock(mutex_);
  return {kept_.begin(), kept_.end()};
}

DeadLetterFile::DeadLetterFile(const std::string& path) : out_(path, std::ios::app) {
  if (!out_) {
    throw StorageError("cannot open dead-letter file '" + path +
                       "' for appending: check the directory exists and is writable");
  }
}

void DeadLetterFile::put(DeadLetter letter) {
  const std::string line = one_line(to_json(letter));
  const std::lock_guard lock(mutex_);
  out_ << line << '\n';
  out_.flush();
  ++total_;
}

std::uint64_t DeadLetterFile::total() const {
  const std::lock_guard lock(mutex_);
  return total_;
}

}  // namespace eda
