// Helpers for the event-sourcing tests.
#pragma once

#include <filesystem>
#include <string>
#include <system_error>

#include "eda/envelope.hpp"

namespace eda::sourcing::test {

/// A fresh file in the temp directory, removed (with its WAL files) afterwards.
class TempDatabase {
 public:
  TempDatabase()
      : path_(std::filesystem::temp_directory_path() /
              ("eda-store-" + eda::new_event_id() + ".db")) {}
  ~TempDatabase() {
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::error_code ignored;
      std::filesystem::remove(path_.string() + suffix, ignored);
    }
  }
  [[nodiscard]] std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace eda::sourcing::test
