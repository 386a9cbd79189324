// Replays fuzz inputs as an ordinary test: every file in the directories given (not
// recursive) goes through LLVMFuzzerTestOneInput once. Fails when no file was found, so a
// corpus that went missing does not pass silently. Built only into the replay programs.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) __attribute__((weak));

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize != nullptr) (void)LLVMFuzzerInitialize(&argc, &argv);
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path dir(argv[i]);
    if (std::filesystem::is_regular_file(dir)) {
      files.push_back(dir);
      continue;
    }
    if (!std::filesystem::is_directory(dir)) {
      std::fprintf(stderr, "replay: %s is neither a directory nor a file\n", argv[i]);
      return 2;
    }
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());  // the same order every run
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // A copy of exactly the input's size, so that AddressSanitizer sees a read past its end.
    std::vector<std::uint8_t> input(bytes.begin(), bytes.end());
    std::fprintf(stderr, "replay: %s (%zu bytes)\n", file.c_str(), input.size());
    (void)LLVMFuzzerTestOneInput(input.data(), input.size());
  }
  std::printf("replayed %zu input(s)\n", files.size());
  if (files.empty()) {
    std::fprintf(stderr, "replay: no input files found\n");
    return 1;
  }
  return 0;
}
