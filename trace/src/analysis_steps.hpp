// Private to eda::trace: the steps analyse() runs, one file each.
#pragma once

#include "eda/trace/analysis.hpp"

namespace eda::trace::detail {

/// Sequence rules per source, in arrival order: gap, duplicate, sequence_regression. Also
/// marks repeated event ids as duplicates.
void check_sequences(Analysis& analysis);

/// Links every event to its cause and builds one tree per correlation; flags missing_cause,
/// cause_before_capture and correlation_mismatch.
void build_trees(Analysis& analysis);

/// The out_of_order_reaction rule, per (consumer, cause's source).
void check_reaction_order(Analysis& analysis);

}  // namespace eda::trace::detail
