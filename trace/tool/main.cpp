// eda-trace: taps kit publishers, prints events live, rebuilds each correlation's causal tree,
// flags gaps, duplicates, missing causes and out-of-order reactions, records and replays
// captures, and draws the flow with Graphviz.

#include <iostream>
#include <stdexcept>

#include <CLI/CLI.hpp>

#include "eda/cli.hpp"
#include "eda/endpoint.hpp"
#include "eda/trace/capture_file.hpp"
#include "tool.hpp"

namespace {

using eda::trace::tool::Output;
using eda::trace::tool::TapRun;

constexpr const char* description =
    "eda-trace: see the flow of events. It taps any eda Publisher (a subscriber to every\n"
    "topic that completes the kit's handshake, so it loses nothing once confirmed), prints\n"
    "each event on one line, then rebuilds each correlation's causal tree from the causation\n"
    "ids with the latency of every hop, and flags problems: sequence gaps, duplicates, causes\n"
    "never seen, consumers reacting out of order. Captures can be recorded and replayed later\n"
    "with the identical analysis.";

constexpr const char* footer =
    "Examples:\n"
    "  eda-trace live tcp://127.0.0.1:5556 --duration 10\n"
    "  eda-trace record tcp://127.0.0.1:5556 --out run.capture --count 1000\n"
    "  eda-trace replay run.capture --type shop.order\n"
    "  eda-trace tree run.capture --correlation 3f9a2c1e\n"
    "  eda-trace dot run.capture --out run.dot --svg run.svg\n"
    "Exit status: 0 done, 1 error (e.g. an unreadable capture), 2 bad command line,\n"
    "3 problems found (with --fail-on-problems).";

void add_filters(CLI::App& command, Output& output) {
  command
      .add_option("--type", output.filter.types,
                  "Show only events whose type starts with this (repeatable), e.g. shop.order")
      ->type_name("PREFIX");
  command
      .add_option("--source", output.filter.sources,
                  "Show only events from this source (repeatable)")
      ->type_name("NAME");
  command
      .add_option("--correlation", output.filter.correlations,
                  "Show only this correlation: its id, or the 8-character short form shown")
      ->type_name("ID");
}

void add_report_options(CLI::App& command, Output& output) {
  command
      .add_option("--dot", output.dot_file,
                  "Also write the selected correlations' flow as a Graphviz DOT file")
      ->type_name("FILE");
  command.add_option("--svg", output.svg_file, "With --dot: render it to SVG with Graphviz's dot")
      ->type_name("FILE")
      ->needs("--dot");
  command.add_flag("--fail-on-problems", output.fail_on_problems,
                   "Exit with status 3 when a problem (not a note) was found");
}

void add_tap_options(CLI::App& command, TapRun& run) {
  const CLI::Validator endpoint_check(
      [](std::string& value) -> std::string {
        try {
          eda::validate_endpoint(value);
          return {};
        } catch (const std::invalid_argument& e) {
          return e.what();
        }
      },
      "ENDPOINT");
  command
      .add_option("endpoints", run.endpoints,
                  "Publishers to tap: tcp://HOST:PORT, ipc://PATH (as their programs print them)")
      ->required()
      ->check(endpoint_check);
  command
      .add_option("--topic", run.topics,
                  "Tap only event types starting with this (repeatable; default every event; "
                  "gaps are then not judged)")
      ->type_name("PREFIX");
  command.add_option("--duration", run.duration_s, "Stop after this many seconds")
      ->check(CLI::Range(0.001, 86400.0))
      ->capture_default_str();
  command.add_option("-n,--count", run.count, "Stop after this many messages (default: no limit)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000'000}));
  command
      .add_option("--max-messages", run.max_messages, "Messages kept in memory for the analysis")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000'000}))
      ->capture_default_str();
  eda::cli::add_curve_keys_option(command, run.curve_keys);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app(description, "eda-trace");
  app.footer(footer);
  app.require_subcommand(1, 1);

  TapRun run;
  Output output;
  std::string capture_file;

  CLI::App* live = app.add_subcommand("live",
                                      "Tap publishers and print each event as it arrives; at the "
                                      "end the causal trees and problems");
  add_tap_options(*live, run);
  live->add_option("--record", run.record_file, "Also record the capture to FILE (see replay)")
      ->type_name("FILE");
  live->add_flag(
      "--no-trees", [&output](std::int64_t) { output.trees = false; },
      "Print only the event lines, no trees or problems at the end");
  add_filters(*live, output);
  add_report_options(*live, output);

  CLI::App* record = app.add_subcommand(
      "record", "Tap publishers and record a capture file, printing only the summary at the end");
  add_tap_options(*record, run);
  record->add_option("-o,--out", run.record_file, "The capture file to write")
      ->required()
      ->type_name("FILE");
  record->add_flag("--fail-on-problems", output.fail_on_problems,
                   "Exit with status 3 when a problem (not a note) was found");

  const auto add_capture_argument = [&capture_file](CLI::App& command) {
    command
        .add_option("capture", capture_file, "A capture file written by live --record or record")
        ->required()
        ->check(CLI::ExistingFile);
  };
  CLI::App* replay = app.add_subcommand(
      "replay",
      "Replay a capture file: the event lines, trees and problems, exactly as live printed them");
  add_capture_argument(*replay);
  replay->add_flag(
      "--no-trees", [&output](std::int64_t) { output.trees = false; },
      "Print only the event lines");
  add_filters(*replay, output);
  add_report_options(*replay, output);

  CLI::App* tree = app.add_subcommand(
      "tree", "The causal trees and problems of a capture file (no event lines)");
  add_capture_argument(*tree);
  add_filters(*tree, output);
  add_report_options(*tree, output);

  CLI::App* dot =
      app.add_subcommand("dot", "Write a capture's flow as a Graphviz DOT file (and SVG)");
  add_capture_argument(*dot);
  add_filters(*dot, output);
  dot->add_option("-o,--out", output.dot_file, "The DOT file to write")
      ->required()
      ->type_name("FILE");
  dot->add_option("--svg", output.svg_file, "Also render it to SVG with Graphviz's dot")
      ->type_name("FILE");

  return eda::cli::run(app, argc, argv, [&]() -> int {
    if (*live || *record) {
      if (*record) {
        output.lines = false;
        output.trees = false;
        output.summary = true;
      }
      const int status = eda::trace::tool::run_live(run, output);
      if (*record) {
        std::cout << "recorded to " << run.record_file << "; analyse it with: eda-trace replay "
                  << run.record_file << '\n';
      }
      return status;
    }
    if (*tree || *dot) {
      output.lines = false;
      output.trees = static_cast<bool>(*tree);
    }
    try {
      return eda::trace::tool::run_replay(capture_file, output);
    } catch (const eda::trace::CaptureError& e) {
      std::cerr << "eda-trace: error: not a usable capture: " << e.what() << '\n';
      return 1;
    }
  });
}
