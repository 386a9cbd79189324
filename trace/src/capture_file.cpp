#include "eda/trace/capture_file.hpp"

#include <istream>
#include <ostream>

#include <nlohmann/json.hpp>

#include "hex.hpp"

namespace eda::trace {
namespace {

using nlohmann::json;

/// Reads one line of at most `max_bytes` (without its newline); false at the end of the input.
/// A last line without a newline is refused: a complete writer ends every line.
bool read_line(std::istream& in, std::string& line, std::size_t max_bytes, const std::string& name,
               std::size_t number) {
  line.clear();
  char c = 0;
  while (in.get(c)) {
    if (c == '\n') return true;
    if (line.size() >= max_bytes) {
      throw CaptureError(name, number,
                         "line is longer than " + std::to_string(max_bytes) +
                             " bytes: not a capture file, or a corrupt one");
    }
    line.push_back(c);
  }
  if (!line.empty()) {
    throw CaptureError(name, number,
                       "line is cut short (no newline at the end): the file is "
                       "truncated, e.g. the recording was killed while writing it");
  }
  return false;
}

/// A capture line nests two levels deep; refusing deeper nesting before parsing keeps hostile
/// input (millions of brackets) from costing the parser unbounded memory.
bool nesting_within(std::string_view line, int max_depth) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : line) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

json parse_line(const std::string& line, const std::string& name, std::size_t number) {
  if (!nesting_within(line, 4)) {
    throw CaptureError(name, number,
                       "nested deeper than a capture line can be: not a capture file");
  }
  json value = json::parse(line, nullptr, false);
  if (value.is_discarded()) {
    throw CaptureError(name, number,
                       "not a JSON object (is this a capture file written by eda-trace?)");
  }
  if (!value.is_object()) {
    throw CaptureError(name, number,
                       "expected a JSON object, found " + std::string(value.type_name()));
  }
  return value;
}

const json& field(const json& object, const char* key, const std::string& name,
                  std::size_t number) {
  const auto it = object.find(key);
  if (it == object.end()) {
    throw CaptureError(name, number, std::string("field \"") + key + "\" is missing");
  }
  return *it;
}

std::int64_t integer_field(const json& object, const char* key, const std::string& name,
                           std::size_t number) {
  const json& value = field(object, key, name, number);
  if (!value.is_number_integer()) {
    throw CaptureError(name, number, std::string("field \"") + key + "\" must be an integer");
  }
  return value.get<std::int64_t>();
}

std::vector<std::string> string_list(const json& object, const char* key, const std::string& name,
                                     std::size_t number) {
  const json& value = field(object, key, name, number);
  if (!value.is_array()) {
    throw CaptureError(name, number,
                       std::string("field \"") + key + "\" must be an array of strings");
  }
  std::vector<std::string> out;
  for (const json& item : value) {
    if (!item.is_string()) {
      throw CaptureError(name, number,
                         std::string("field \"") + key + "\" must be an array of strings");
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

CaptureInfo parse_header(const json& header, const std::string& name) {
  const json& format = field(header, "format", name, 1);
  if (!format.is_string() || format.get<std::string>() != capture_format_name) {
    throw CaptureError(name, 1,
                       "the header's \"format\" is not \"" + std::string(capture_format_name) +
                           "\": not a capture file written by eda-trace");
  }
  const std::int64_t version = integer_field(header, "version", name, 1);
  if (version != capture_format_version) {
    throw CaptureError(name, 1,
                       "capture format version " + std::to_string(version) +
                           " is not one this eda-trace reads (it reads version " +
                           std::to_string(capture_format_version) + ")");
  }
  CaptureInfo info;
  info.started_ns = integer_field(header, "started_ns", name, 1);
  info.endpoints = string_list(header, "endpoints", name, 1);
  info.topics = string_list(header, "topics", name, 1);
  return info;
}

CapturedMessage parse_message(const json& line, const std::string& name, std::size_t number,
                              const CaptureLimits& limits) {
  CapturedMessage message;
  message.received_ns = integer_field(line, "received_ns", name, number);
  const json& frames = field(line, "frames", name, number);
  if (!frames.is_array() || frames.empty() || frames.size() > limits.max_frames) {
    throw CaptureError(name, number,
                       "field \"frames\" must be an array of 1.." +
                           std::to_string(limits.max_frames) + " hex strings");
  }
  for (std::size_t i = 0; i < frames.size(); ++i) {
    if (!frames[i].is_string()) {
      throw CaptureError(name, number, "frame " + std::to_string(i + 1) + " is not a string");
    }
    std::string bytes;
    if (const auto bad = detail::from_hex(frames[i].get_ref<const std::string&>(), bytes)) {
      throw CaptureError(name, number,
                         "frame " + std::to_string(i + 1) + " is not hexadecimal (at character " +
                             std::to_string(*bad + 1) + ")");
    }
    message.frames.push_back(std::move(bytes));
  }
  return message;
}

}  // namespace

CaptureError::CaptureError(const std::string& file, std::size_t line, const std::string& problem)
    : Error(ErrorCategory::wire,
            line == 0 ? file + ": " + problem : file + ":" + std::to_string(line) + ": " + problem),
      line_(line) {}

void write_capture_header(std::ostream& out, const CaptureInfo& info) {
  // ordered_json keeps the fields in this order, so `head -1` shows the format first.
  const nlohmann::ordered_json header{{"format", capture_format_name},
                                      {"version", capture_format_version},
                                      {"started_ns", info.started_ns},
                                      {"endpoints", info.endpoints},
                                      {"topics", info.topics}};
  out << header.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
}

void write_captured_message(std::ostream& out, const CapturedMessage& message) {
  nlohmann::ordered_json frames = nlohmann::ordered_json::array();
  for (const std::string& frame : message.frames) {
    frames.push_back(detail::to_hex(frame));
  }
  const nlohmann::ordered_json line{{"received_ns", message.received_ns},
                                    {"frames", std::move(frames)}};
  out << line.dump() << '\n';
}

void write_capture(std::ostream& out, const Capture& capture) {
  write_capture_header(out, capture.info);
  for (const CapturedMessage& message : capture.messages) {
    write_captured_message(out, message);
  }
}

Capture read_capture(std::istream& in, std::string_view name_view, const CaptureLimits& limits) {
  const std::string name(name_view);
  std::string line;
  if (!read_line(in, line, limits.max_line_bytes, name, 1)) {
    throw CaptureError(name, 0, "the file is empty: a capture starts with a header line");
  }
  Capture capture;
  capture.info = parse_header(parse_line(line, name, 1), name);
  std::size_t number = 1;
  while (read_line(in, line, limits.max_line_bytes, name, ++number)) {
    if (capture.messages.size() >= limits.max_messages) {
      throw CaptureError(name, number,
                         "more than " + std::to_string(limits.max_messages) +
                             " messages: too large to analyse in one piece");
    }
    capture.messages.push_back(parse_message(parse_line(line, name, number), name, number, limits));
  }
  if (in.bad()) {
    throw CaptureError(name, number, "reading failed");
  }
  return capture;
}

Capture load_capture(const std::string& path, const CaptureLimits& limits) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw CaptureError(path, 0, "cannot open the capture file (does it exist, is it readable?)");
  }
  return read_capture(in, path, limits);
}

void save_capture(const std::string& path, const Capture& capture) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    throw StorageError("cannot create capture file " + path);
  }
  write_capture(out, capture);
  out.flush();
  if (!out) {
    throw StorageError("writing capture file " + path + " failed");
  }
}

CaptureWriter::CaptureWriter(const std::string& path, const CaptureInfo& info)
    : path_(path), out_(path, std::ios::binary | std::ios::trunc) {
  if (!out_) {
    throw StorageError("cannot create capture file " + path);
  }
  write_capture_header(out_, info);
  out_.flush();
}

void CaptureWriter::append(const CapturedMessage& message) {
  write_captured_message(out_, message);
  out_.flush();
  if (!out_) {
    throw StorageError("writing capture file " + path_ + " failed (disk full?)");
  }
  ++written_;
}

}  // namespace eda::trace
