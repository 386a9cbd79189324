/// @file filter.hpp
/// @brief Which events a listing shows: by type, source or correlation id.
#pragma once

#include <string>
#include <vector>

#include "eda/envelope.hpp"
#include "eda/trace/analysis.hpp"

namespace eda::trace {

/// @brief Selects events. Each non-empty list must match (any of its entries); empty lists
///        match everything.
struct EventFilter {
  std::vector<std::string> types{};         ///< Type prefixes, like topics: `shop.order`.
  std::vector<std::string> sources{};       ///< Exact source names.
  std::vector<std::string> correlations{};  ///< Correlation ids, whole or their short form (an
                                            ///< id matches a value it ends with).

  /// @brief Whether no list restricts anything.
  [[nodiscard]] bool empty() const noexcept;

  /// @brief Whether an event with this metadata is selected.
  [[nodiscard]] bool matches(const EventMetadata& meta) const;

  /// @brief Whether a tree is selected: its correlation matches, and one of its events matches
  ///        the type and source lists.
  [[nodiscard]] bool matches(const CausalTree& tree, const Analysis& analysis) const;
};

}  // namespace eda::trace
