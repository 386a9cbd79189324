#include "eda/trace/analysis.hpp"

namespace eda::trace {

std::optional<std::int64_t> event_id_time_ns(std::string_view event_id) noexcept {
  // A kit event id: 32 lowercase hex digits, the first 12 the creation time in milliseconds.
  if (event_id.size() != 32) return std::nullopt;
  std::int64_t ms = 0;
  for (std::size_t i = 0; i < event_id.size(); ++i) {
    const char c = event_id[i];
    int digit = -1;
    if (c >= '0' && c <= '9') digit = c - '0';
    if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    if (digit < 0) return std::nullopt;
    if (i < 12) ms = ms * 16 + digit;
  }
  // 12 hex digits hold at most 2^48 ms, so the product fits in 64 bits.
  return ms * 1'000'000;
}

std::string short_id(std::string_view id) {
  return std::string(id.size() <= 8 ? id : id.substr(id.size() - 8));
}

std::string_view to_string(ProblemKind kind) noexcept {
  switch (kind) {
    case ProblemKind::malformed:
      return "malformed";
    case ProblemKind::gap:
      return "gap";
    case ProblemKind::duplicate:
      return "duplicate";
    case ProblemKind::sequence_regression:
      return "sequence_regression";
    case ProblemKind::missing_cause:
      return "missing_cause";
    case ProblemKind::cause_before_capture:
      return "cause_before_capture";
    case ProblemKind::correlation_mismatch:
      return "correlation_mismatch";
    case ProblemKind::out_of_order_reaction:
      return "out_of_order_reaction";
  }
  return "unknown";
}

bool is_note(ProblemKind kind) noexcept { return kind == ProblemKind::cause_before_capture; }

}  // namespace eda::trace
