/// @file capture_file.hpp
/// @brief The capture file: a versioned JSON-lines file that records a tap's messages, so
///        that a run can be analysed again later, elsewhere, with the identical result.
///
/// | line | content |
/// |------|---------|
/// | 1    | the header: format, version, started_ns, endpoints, topics (see the tracer's page) |
/// | 2... | one message each: `{"received_ns":N,"frames":["<hex>","<hex>"]}` |
///
/// Frames are written as lowercase hexadecimal, so the bytes come back exactly, whatever they
/// are (a malformed message is recorded as faithfully as a valid one). A reader rejects any
/// deviation with a CaptureError naming the file, the line and what was wrong.
#pragma once

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <iosfwd>
#include <stdexcept>
#include <string>
#include <string_view>

#include "eda/errors.hpp"
#include "eda/trace/capture.hpp"

namespace eda::trace {

/// @brief The value of the header's `format` field.
inline constexpr std::string_view capture_format_name = "eda-trace-capture";

/// @brief The capture format version this build writes and reads.
inline constexpr std::uint32_t capture_format_version = 1;

/// @brief Bounds a reader enforces on a capture file (it is untrusted input).
struct CaptureLimits {
  std::size_t max_line_bytes = 8U << 20;  ///< Longest accepted line (8 MiB).
  std::size_t max_frames = 16;            ///< Most frames in one message.
  std::size_t max_messages = 10'000'000;  ///< Most messages in one file.
};

/// @brief Raised when a capture file cannot be read: names the file, the line and the problem.
///        Category: ErrorCategory::wire (its content is not a capture). A file that cannot be
///        created or written raises eda::StorageError instead.
class CaptureError : public Error {
 public:
  /// @brief An error at `line` (1-based; 0 when it concerns the whole file) of `file`.
  CaptureError(const std::string& file, std::size_t line, const std::string& problem);

  /// @brief The line the problem is on (1-based), or 0.
  [[nodiscard]] std::size_t line() const noexcept { return line_; }

 private:
  std::size_t line_;
};

/// @brief Writes the header line of a capture.
void write_capture_header(std::ostream& out, const CaptureInfo& info);

/// @brief Writes one message line of a capture.
void write_captured_message(std::ostream& out, const CapturedMessage& message);

/// @brief Writes a whole capture (header, then every message).
void write_capture(std::ostream& out, const Capture& capture);

/// @brief Reads a whole capture; `name` names the source in errors. Throws CaptureError.
Capture read_capture(std::istream& in, std::string_view name, const CaptureLimits& limits = {});

/// @brief Reads the capture file at `path`; throws CaptureError (also when it cannot be opened).
Capture load_capture(const std::string& path, const CaptureLimits& limits = {});

/// @brief Writes `capture` to the file at `path` (replacing it); throws eda::StorageError.
void save_capture(const std::string& path, const Capture& capture);

/// @brief Records messages to a capture file as they arrive, one flushed line each, so a
///        recording stopped abruptly loses at most the line being written.
class CaptureWriter {
 public:
  /// @brief Creates (replaces) `path` and writes the header; throws eda::StorageError.
  CaptureWriter(const std::string& path, const CaptureInfo& info);

  /// @brief Appends one message line and flushes it.
  void append(const CapturedMessage& message);

  /// @brief Messages written so far.
  [[nodiscard]] std::size_t written() const noexcept { return written_; }

 private:
  std::string path_;
  std::ofstream out_;
  std::size_t written_ = 0;
};

}  // namespace eda::trace
