// The capture file: a record/replay round trip is identical, and malformed files are refused
// with the line and what was wrong.

#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "eda/clock.hpp"
#include "eda/trace/capture_file.hpp"
#include "eda/trace/report.hpp"
#include "scenario.hpp"

using eda::trace::Capture;
using eda::trace::CaptureError;

namespace {

Capture scenario_capture() {
  auto capture = trace_test::capture_of(
      trace_test::shop_scenario({.gap = true, .duplicate = true, .missing_cause = true}),
      eda::wall_clock_ns() - 1'000'000'000);
  // A malformed message is recorded as faithfully as a valid one: every byte value survives.
  std::string every_byte;
  for (int b = 0; b < 256; ++b) every_byte.push_back(static_cast<char>(b));
  capture.messages.push_back(eda::trace::CapturedMessage{42, {every_byte, "", "\n\"{}"}});
  capture.info.topics = {"shop."};
  return capture;
}

std::string report_of(const Capture& capture) {
  std::ostringstream out;
  const auto analysis = eda::trace::analyse(capture);
  for (const auto& event : analysis.events)
    out << eda::trace::event_line(event, capture.info.started_ns) << '\n';
  eda::trace::print_report(out, analysis);
  return out.str();
}

std::string header_line() {
  std::ostringstream out;
  eda::trace::write_capture_header(out, eda::trace::CaptureInfo{123, {"tcp://127.0.0.1:5556"}, {}});
  return out.str();
}

/// Reads `text` as a capture and returns the error it raises (fails when it reads fine).
CaptureError refusal_of(const std::string& text, const eda::trace::CaptureLimits& limits = {}) {
  std::istringstream in(text);
  try {
    (void)eda::trace::read_capture(in, "run.capture", limits);
  } catch (const CaptureError& e) {
    return e;
  }
  FAIL("the capture was accepted: " << text.substr(0, 200));
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("trace: an unreadable capture is a wire fault, an uncreatable one a storage fault") {
  const CaptureError refused = refusal_of("not json at all\n");
  CHECK(refused.category() == eda::ErrorCategory::wire);
  try {
    eda::trace::save_capture("/nonexistent-directory/for/sure/run.capture", Capture{});
    FAIL("saved a capture where no directory exists");
  } catch (const eda::Error& e) {
    CHECK(e.category() == eda::ErrorCategory::storage);
  }
}

TEST_CASE("trace: a capture written and read back is identical, and so is its analysis") {
  const Capture original = scenario_capture();
  std::stringstream file;
  eda::trace::write_capture(file, original);
  const Capture replayed = eda::trace::read_capture(file, "memory");
  CHECK(replayed == original);
  CHECK(report_of(replayed) == report_of(original));
  CHECK_THAT(report_of(original), Catch::Contains("missing_cause") &&
                                      Catch::Contains("duplicate") && Catch::Contains("malformed"));
}

TEST_CASE(
    "trace: a capture saved to a file and loaded is identical, the writer streams the same bytes") {
  const Capture original = scenario_capture();
  const auto dir =
      std::filesystem::temp_directory_path() / ("eda-trace-test-" + eda::new_event_id());
  std::filesystem::create_directories(dir);
  const std::string saved = (dir / "saved.capture").string();
  const std::string streamed = (dir / "streamed.capture").string();
  eda::trace::save_capture(saved, original);
  {
    eda::trace::CaptureWriter writer(streamed, original.info);
    for (const auto& message : original.messages) writer.append(message);
    CHECK(writer.written() == original.messages.size());
  }
  CHECK(eda::trace::load_capture(saved) == original);
  const auto bytes = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  CHECK(bytes(saved) == bytes(streamed));
  std::filesystem::remove_all(dir);
}

TEST_CASE("trace: a missing capture file is a clear error") {
  try {
    (void)eda::trace::load_capture("/nonexistent/run.capture");
    FAIL("loaded a file that does not exist");
  } catch (const CaptureError& e) {
    CHECK_THAT(e.what(),
               Catch::Contains("/nonexistent/run.capture") && Catch::Contains("cannot open"));
  }
}

TEST_CASE("trace: malformed capture files are refused, naming the line and the problem") {
  const std::string header = header_line();
  const std::string good = R"({"received_ns":5,"frames":["61","62"]})"
                           "\n";
  struct Case {
    const char* name;
    std::string text;
    std::size_t line;
    const char* says;
  };
  const std::vector<Case> cases{
      {"empty", "", 0, "the file is empty"},
      {"not json", "hello world\n", 1, "not a JSON object"},
      {"json, not an object", "[1,2]\n", 1, "expected a JSON object, found array"},
      {"another format",
       R"({"format":"pcap","version":1})"
       "\n",
       1, "not a capture file written by eda-trace"},
      {"newer version",
       R"({"format":"eda-trace-capture","version":2,"started_ns":1,"endpoints":[],"topics":[]})"
       "\n",
       1, "capture format version 2 is not one this eda-trace reads (it reads version 1)"},
      {"header without endpoints",
       R"({"format":"eda-trace-capture","version":1,"started_ns":1,"topics":[]})"
       "\n",
       1, "field \"endpoints\" is missing"},
      {"truncated last line", header + good + R"({"received_ns":5,"fra)", 3, "line is cut short"},
      {"bad hex",
       header + good + good +
           R"({"received_ns":5,"frames":["6z"]})"
           "\n",
       4, "frame 1 is not hexadecimal (at character 2)"},
      {"odd hex",
       header + R"({"received_ns":5,"frames":["61","616"]})"
                "\n",
       2, "frame 2 is not hexadecimal"},
      {"no frames",
       header + R"({"received_ns":5,"frames":[]})"
                "\n",
       2, "must be an array of 1..16 hex strings"},
      {"time not an integer",
       header + R"({"received_ns":"soon","frames":["61"]})"
                "\n",
       2, "field \"received_ns\" must be an integer"},
      {"frame not a string",
       header + R"({"received_ns":5,"frames":[97]})"
                "\n",
       2, "frame 1 is not a string"},
      {"hostile nesting", header + std::string(100000, '[') + "\n", 2, "nested deeper"},
      {"binary garbage", header + std::string("\x00\xff\xfe", 3) + "\n", 2, "not a JSON object"},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      const CaptureError error = refusal_of(c.text);
      CHECK(error.line() == c.line);
      CHECK_THAT(error.what(), Catch::StartsWith("run.capture") && Catch::Contains(c.says));
      if (c.line > 0) {
        CHECK_THAT(error.what(), Catch::StartsWith("run.capture:" + std::to_string(c.line) + ": "));
      }
    }
  }
}

TEST_CASE("trace: a capture reader enforces its limits") {
  const std::string header = header_line();
  const std::string line = R"({"received_ns":5,"frames":["61"]})"
                           "\n";
  SECTION("line length") {
    const CaptureError error = refusal_of(header + line, {.max_line_bytes = 20});
    CHECK(error.line() == 1);
    CHECK_THAT(error.what(), Catch::Contains("longer than 20 bytes"));
  }
  SECTION("message count") {
    const CaptureError error = refusal_of(header + line + line + line, {.max_messages = 2});
    CHECK(error.line() == 4);
    CHECK_THAT(error.what(), Catch::Contains("more than 2 messages"));
  }
  SECTION("frames per message") {
    const CaptureError error = refusal_of(header + R"({"received_ns":5,"frames":["61","62","63"]})"
                                                   "\n",
                                          {.max_frames = 2});
    CHECK_THAT(error.what(), Catch::Contains("1..2 hex strings"));
  }
}
