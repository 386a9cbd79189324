/// @file cli.hpp
/// @brief The command-line flags every demo shares, built on CLI11 (target eda::cli).
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include <CLI/CLI.hpp>

#include "eda/endpoint.hpp"

namespace eda::cli {

/// @brief Flags every demo has, with the same names and meaning everywhere.
struct CommonOptions {
  Transport transport = Transport::inproc;  ///< `--transport`: for roles run in one process.
  std::size_t count = 5;                    ///< `--count`: how many events or orders.
  int verbosity = 1;                        ///< `-v` raises it, `-q` sets it to 0.
};

/// @brief Adds `--transport`, `--count`, `-v/--verbose` and `-q/--quiet` to `app`.
///
/// `--count` is checked to lie in 1..`max_count`.
void add_common_options(CLI::App& app, CommonOptions& options, std::size_t max_count = 10'000'000);

/// @brief Adds an endpoint flag (e.g. `--events`) whose value is checked to be a valid
///        `inproc://`, `ipc://` or `tcp://` endpoint before the program runs.
CLI::Option* add_endpoint_option(CLI::App& app, const std::string& flag, std::string& target,
                                 const std::string& description);

/// @brief Parses the command line and runs `body`, turning every failure into a clear
///        message and exit code: 0 for `--help`, 2 for a bad command line (with the usage
///        hint), 1 when `body` throws (printing `error: <what>`); otherwise `body`'s result.
int run(CLI::App& app, int argc, char** argv, const std::function<int()>& body);

}  // namespace eda::cli
