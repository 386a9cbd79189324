/// @file idempotent_consumer.hpp
/// @brief An idempotent consumer: applies each event's effect once, however often the event
///        arrives, by recording its id in the same transaction as the effect.
///
/// An outbox relay publishes at least once, so a consumer sees some events twice (after a
/// relay restart). Remembering ids in memory forgets them at the consumer's own restart, and
/// recording them apart from the effect leaves a window where one is kept without the other.
/// Here the id and the effect commit together in the consumer's own database.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "eda/codec.hpp"
#include "eda/sqlite/database.hpp"

namespace eda::saga {

/// @brief What handle() did with an event.
enum class Handled {
  applied,    ///< First time seen: the effect ran and committed with the event's id.
  duplicate,  ///< Seen before: nothing ran.
};

/// @brief Counters of an IdempotentConsumer since it opened.
struct ConsumerCounters {
  std::uint64_t applied = 0;     ///< Events whose effect was applied.
  std::uint64_t duplicates = 0;  ///< Events skipped as already processed.
};

/// @brief A consumer's own SQLite database, with a `processed_events(consumer, event_id)` table
///        that makes applying an event idempotent.
///
/// @par Example
/// @code
/// eda::saga::IdempotentConsumer shipping("shipping.db", "shipping");
/// shipping.handle(delivery->event, [&](eda::sqlite::Database& db) {
///   /* write the effect with db: it commits with the event's id, or not at all */
/// });
/// @endcode
///
/// @par Thread safety
/// One thread at a time (it owns one SQLite connection).
class IdempotentConsumer {
 public:
  /// @brief Opens (creating if needed) the database at `path`; `name` tells consumers sharing
  ///        one database apart. Throws eda::StorageError when the file cannot be used.
  IdempotentConsumer(const std::string& path, std::string name,
                     sqlite::Durability durability = sqlite::Durability::full);

  /// @brief Applies `effect` for `event` unless this consumer processed its id before.
  ///
  /// The id is recorded and the effect written in one transaction: if `effect` throws, neither
  /// is kept and the exception propagates (the event can be handled again later).
  Handled handle(const DecodedEvent& event, const std::function<void(sqlite::Database&)>& effect);

  /// @brief Whether an event with `event_id` was processed (at any time, by this name).
  [[nodiscard]] bool processed(std::string_view event_id) const;

  /// @brief How many events this consumer has processed, over its whole life.
  [[nodiscard]] std::uint64_t processed_count() const;

  /// @brief Counters since it opened.
  [[nodiscard]] const ConsumerCounters& counters() const noexcept { return counters_; }

  /// @brief The consumer's database (to create its own tables, and to read them).
  [[nodiscard]] sqlite::Database& database() noexcept { return db_; }

 private:
  std::string name_;
  sqlite::Database db_;
  ConsumerCounters counters_{};
};

}  // namespace eda::saga
