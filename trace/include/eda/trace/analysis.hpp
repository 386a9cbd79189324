/// @file analysis.hpp
/// @brief What a capture says: the events, their causal trees per correlation, and the
///        problems the tracer flags (gaps, duplicates, missing causes, out-of-order reactions).
///
/// The analysis is a pure function of the capture: the same capture, live or replayed from a
/// file, gives the same analysis. The rules are stated with each ProblemKind and on the
/// tracer's page.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eda/envelope.hpp"
#include "eda/trace/capture.hpp"

namespace eda::trace {

/// @brief One valid event of the capture.
struct TracedEvent {
  std::size_t message = 0;       ///< Its position in the capture (0-based).
  std::int64_t received_ns = 0;  ///< When the tap received it.
  EventMetadata meta{};          ///< The envelope's metadata.
  std::string payload{};         ///< The payload as one line of JSON.
  bool duplicate = false;        ///< Its event id was already seen earlier in the capture.
};

/// @brief The kinds of problem the tracer flags. Each names one rule.
enum class ProblemKind {
  /// A message that is not a valid event (its frames or envelope fail the kit's decoder).
  malformed,
  /// A source's sequence jumped: after `n` the next event seen was `m > n + 1`; `n+1 .. m-1`
  /// were never seen. Checked only when the tap took every topic (with a topic filter, the
  /// events filtered out would look lost).
  gap,
  /// An event id seen again, or a source's sequence number reused by a different event id.
  duplicate,
  /// A source's sequence went back without being a duplicate: `m < n` after `n` (with `m = 1`
  /// it is a restart, and numbering starts over).
  sequence_regression,
  /// A causation id that names no event of the capture, although the cause's id says it was
  /// made after the tap started: it was lost (or its type was not tapped).
  missing_cause,
  /// A causation id that names no event of the capture, made before the tap started (event
  /// ids start with their creation time in milliseconds): expected, noted for completeness.
  cause_before_capture,
  /// An event whose correlation id differs from its cause's: the chain was not continued
  /// with `Cause::of`.
  correlation_mismatch,
  /// A consumer (source S) reacted to causes from one source P in a different order than P
  /// published them: S's reaction to P's `#b` comes before (in S's sequence) its reaction to
  /// P's `#a`, with `a < b`.
  out_of_order_reaction,
};

/// @brief A short, stable name for a problem kind (`"gap"`, `"missing_cause"`, ...).
std::string_view to_string(ProblemKind kind) noexcept;

/// @brief Whether a kind is a note (worth knowing, not a fault): only cause_before_capture.
bool is_note(ProblemKind kind) noexcept;

/// @brief One problem found, with a sentence that explains it.
struct Problem {
  ProblemKind kind = ProblemKind::malformed;  ///< Which rule.
  std::size_t message = 0;                    ///< The capture message it was found at.
  std::string source{};                       ///< The source concerned (may be empty).
  std::string event_id{};                     ///< The event concerned (empty for malformed).
  std::string correlation_id{};               ///< Its correlation (empty for malformed).
  std::string detail{};                       ///< What was found, in words.
};

/// @brief A node of a causal tree: a captured event, or a cause that was never seen.
struct TreeNode {
  std::optional<std::size_t> event{};   ///< Index into Analysis::events; empty: never seen.
  std::string event_id{};               ///< The event's id (for a cause never seen: its id).
  std::vector<std::size_t> children{};  ///< Indexes into CausalTree::nodes, earliest first.
};

/// @brief The causal tree of one correlation (one business transaction).
struct CausalTree {
  std::string correlation_id{};      ///< Shared by every event of the tree.
  std::vector<TreeNode> nodes{};     ///< Every node; parents refer to children by index.
  std::vector<std::size_t> roots{};  ///< First events, and causes never seen, earliest first.
  std::size_t event_count = 0;       ///< Captured events in the tree (duplicates excluded).
  std::int64_t first_ns = 0;         ///< Earliest event timestamp.
  std::int64_t last_ns = 0;          ///< Latest event timestamp.
};

/// @brief Everything the tracer found in a capture.
struct Analysis {
  CaptureInfo info{};                 ///< Where and when the capture was taken.
  std::size_t messages = 0;           ///< Messages in the capture.
  std::vector<TracedEvent> events{};  ///< Every valid event, in arrival order (with duplicates).
  std::vector<CausalTree> trees{};    ///< One per correlation, in order of first appearance.
  std::vector<Problem> problems{};    ///< In the order found.

  /// @brief The first event with id `event_id`, or nullptr.
  [[nodiscard]] const TracedEvent* find(std::string_view event_id) const;

  /// @brief How many problems of `kind` were found.
  [[nodiscard]] std::size_t count(ProblemKind kind) const noexcept;

  /// @brief How many problems that are not notes were found.
  [[nodiscard]] std::size_t faults() const noexcept;
};

/// @brief Decodes message number `message` of a capture into a TracedEvent (no analysis);
///        throws MalformedMessage when it is not a valid event. Live listings use it.
TracedEvent trace_message(const CapturedMessage& captured, std::size_t message);

/// @brief Analyses a capture: decodes every message, checks sequences per source, links
///        causes, builds the trees and checks reaction order.
Analysis analyse(const Capture& capture);

/// @brief The creation time (ns since epoch, millisecond precision) encoded at the start of a
///        kit event id, or empty when `event_id` is not one (32 lowercase hex digits).
std::optional<std::int64_t> event_id_time_ns(std::string_view event_id) noexcept;

/// @brief The short form of an id used in listings: its last 8 characters (the start of a kit
///        id is its creation time, shared by ids made in the same millisecond).
std::string short_id(std::string_view id);

}  // namespace eda::trace
