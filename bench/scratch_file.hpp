/// @file scratch_file.hpp
/// @brief A database file in the temporary folder for one benchmark run, removed after it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>

#include "eda/envelope.hpp"

namespace eda::bench {

/// @brief A database file in the temporary folder, removed (with its WAL files) when it goes.
class ScratchFile {
 public:
  /// @brief A fresh name in the temporary folder; nothing is created yet.
  explicit ScratchFile(const std::string& name)
      : path_((std::filesystem::temp_directory_path() /
               ("eda-bench-" + name + "-" + eda::new_event_id() + ".db"))
                  .string()) {}
  ~ScratchFile() {
    for (const char* suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(path_ + suffix, ignored_);
  }
  ScratchFile(const ScratchFile&) = delete;             ///< Owns the file.
  ScratchFile& operator=(const ScratchFile&) = delete;  ///< Owns the file.
  /// @brief The file's path.
  [[nodiscard]] const std::string& path() const { return path_; }
  /// @brief The database's bytes on disk: the file and its write-ahead log.
  [[nodiscard]] std::uintmax_t bytes() const {
    std::uintmax_t total = 0;
    for (const char* suffix : {"", "-wal"}) {
      const auto size = std::filesystem::file_size(path_ + suffix, ignored_);
      if (!ignored_) total += size;
    }
    return total;
  }

 private:
  std::string path_;
  mutable std::error_code ignored_;
};

}  // namespace eda::bench
