/// @file sequence.hpp
/// @brief Per-source sequence checking: detects gaps (lost events) and duplicates.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace eda {

/// @brief How one event's sequence number relates to what came before from its source.
enum class Continuity {
  first,      ///< The first event seen from this source (nothing to compare with).
  in_order,   ///< Exactly the next sequence number.
  gap,        ///< Later than the next: `missed` events were lost in between.
  duplicate,  ///< At or below the last one seen: already delivered (or replayed).
  later,      ///< Later than the next, but gaps are not judged (see SequenceTracker::observe).
};

/// @brief The verdict on one sequence number.
struct SequenceCheck {
  Continuity continuity = Continuity::first;  ///< The verdict.
  std::uint64_t missed = 0;  ///< For a gap: how many sequence numbers were skipped.
};

/// @brief Tracks the last sequence number seen per source and judges each new one.
///
/// Publishers number events 1, 2, 3, ... per source. A subscriber that sees 7 after 4 knows it
/// lost 5 and 6 (at a high-water mark, or while it was away); one that sees 4 again knows it is
/// a duplicate. What to do about it is the pattern's business: state transfer re-syncs from a
/// snapshot, notification catches up from the outbox, sourcing reads the store.
class SequenceTracker {
 public:
  /// @brief Judges `sequence` from `source` and remembers it (duplicates change nothing).
  ///
  /// With `detect_gaps` false a jump is reported as `later`, not as a gap: a subscriber that
  /// filters a source's topics cannot tell the events it did not subscribe to from lost ones.
  SequenceCheck observe(std::string_view source, std::uint64_t sequence, bool detect_gaps = true);

  /// @brief The last sequence number accepted from `source`, if any.
  [[nodiscard]] std::optional<std::uint64_t> last(std::string_view source) const;

  /// @brief Forgets `source` (its next event counts as `first`), e.g. after a re-sync.
  void forget(std::string_view source);

  /// @brief Number of gaps seen, over all sources.
  [[nodiscard]] std::uint64_t gaps() const noexcept { return gaps_; }
  /// @brief Number of sequence numbers skipped by gaps, over all sources.
  [[nodiscard]] std::uint64_t missed() const noexcept { return missed_; }
  /// @brief Number of duplicates seen, over all sources.
  [[nodiscard]] std::uint64_t duplicates() const noexcept { return duplicates_; }

 private:
  /// Lets the map be searched with a string_view without building a std::string.
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  std::unordered_map<std::string, std::uint64_t, Hash, std::equal_to<>> last_;
  std::uint64_t gaps_ = 0;
  std::uint64_t missed_ = 0;
  std::uint64_t duplicates_ = 0;
};

}  // namespace eda
