/// @file scratch_folder.hpp
/// @brief A folder for the databases the measurements create, removed with them afterwards.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace eda::tour {

/// @brief A fresh folder in the system's temporary folder (on the real disk, so an fsync costs
///        what it costs), removed with everything in it when the object goes.
class ScratchFolder {
 public:
  /// @brief Creates the folder, its name starting with `eda-tour-<name>-`.
  explicit ScratchFolder(const std::string& name);
  ~ScratchFolder();
  ScratchFolder(const ScratchFolder&) = delete;             ///< Owns the folder.
  ScratchFolder& operator=(const ScratchFolder&) = delete;  ///< Owns the folder.

  /// @brief The path of a new database file in the folder, e.g. `.../store-3.db`.
  [[nodiscard]] std::string new_file(const std::string& name);

 private:
  std::filesystem::path path_;
  std::uint64_t files_ = 0;
};

/// @brief The bytes a SQLite database takes on disk: its file and its write-ahead log (0 for a
///        file that does not exist).
[[nodiscard]] std::uintmax_t database_bytes(const std::string& path);

}  // namespace eda::tour
