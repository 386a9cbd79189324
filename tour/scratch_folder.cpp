#include "scratch_folder.hpp"

#include <system_error>

#include "eda/envelope.hpp"

namespace eda::tour {

ScratchFolder::ScratchFolder(const std::string& name)
    // A fresh event id is unique and at hand: it makes the folder name unique too.
    : path_(std::filesystem::temp_directory_path() /
            ("eda-tour-" + name + "-" + eda::new_event_id())) {
  std::filesystem::create_directories(path_);
}

ScratchFolder::~ScratchFolder() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string ScratchFolder::new_file(const std::string& name) {
  return (path_ / (name + "-" + std::to_string(++files_) + ".db")).string();
}

std::uintmax_t database_bytes(const std::string& path) {
  std::uintmax_t total = 0;
  for (const char* suffix : {"", "-wal"}) {
    std::error_code missing;
    const std::uintmax_t size = std::filesystem::file_size(path + suffix, missing);
    if (!missing) total += size;
  }
  return total;
}

}  // namespace eda::tour
