/// @file store_support.hpp
/// @brief What every EventStore implementation checks the same way: the batch, retries, and
///        reading stored bytes back. Not needed by users of a store.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "eda/sourcing/event_store.hpp"

namespace eda::sourcing::detail {

/// @brief Where an event id is already stored.
struct StoredAt {
  std::string stream;          ///< Its stream.
  std::uint64_t version = 0;   ///< Its version there.
  std::uint64_t position = 0;  ///< Its position.
};

/// @brief Validates an append's input at the boundary (see EventStore::append); throws
///        std::invalid_argument.
void check_batch(std::string_view stream, std::span<const EventData> events);

/// @brief The AppendFailure for `request` from the exception being handled (call it in a
///        catch block): a ConcurrencyConflict is a conflict, std::invalid_argument a rejected
///        request, anything else a failure of its eda::Error category (storage otherwise).
AppendFailure append_failure(const AppendRequest& request);

/// @brief Checks every request of a group (check_batch) before any transaction starts: a
///        request whose input is bad gets its error in `outcomes` (same index) and `false`
///        in the result; the others `true`, to be appended.
std::vector<bool> check_group(std::span<const AppendRequest> requests,
                              std::vector<AppendOutcome>& outcomes);

/// @brief Given where each event id of a batch is already stored (nothing: new), returns the
///        original result for a retry, nothing for a new batch, or throws
///        std::invalid_argument for a partial or misplaced overlap.
std::optional<AppendResult> check_retry(std::string_view stream,
                                        std::span<const std::optional<StoredAt>> found);

/// @brief A stored event read back; throws CorruptEvent naming where it is when its bytes
///        do not decode.
RecordedEvent recorded(std::string stream, std::uint64_t version, std::uint64_t position,
                       std::string_view envelope);

}  // namespace eda::sourcing::detail
