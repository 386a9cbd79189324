/// @file relay_progress.hpp
/// @brief Where an outbox relay has got to, kept in a small SQLite file of the relay's own, so
///        that the relay only ever reads the participant's database.
///
/// @par Why a file of its own
/// A relay that recorded its progress in the participant's database took that database's one
/// write lock every round, and took turns at it with the participant's commits, each of which
/// holds it through an fsync: at 2 000 fsync'd writes a second the events waited behind those
/// turns (bench-saga, BM_Outbox_RelayLag). Reading a WAL database never waits for its writer,
/// so with its progress elsewhere the relay never waits for the participant, nor it for the
/// relay.
///
/// @par What it holds, and what a crash costs
/// Two positions of the outbox: `sent_through` (every row up to it may have been sent; recorded
/// before sending) and `published_through` (every row up to it was sent and has settled;
/// recorded after). Commits survive a process crash (WAL, `synchronous=NORMAL`) but not
/// necessarily a power loss; a lost or stale record only means a restarted relay sends some
/// rows again, which at-least-once allows (consumers deduplicate by event id). A missing file
/// is a relay that has published nothing: it starts at the outbox's first row.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "eda/sqlite/database.hpp"

namespace eda::saga {

/// @brief The default progress file of the relay of the outbox database at `outbox_database`:
///        the same path with `.relay` appended.
[[nodiscard]] std::string relay_progress_path(const std::string& outbox_database);

/// @brief One relay's progress file (see the file's notes): opened, created if missing, read,
///        and recorded after each round.
///
/// @par Thread safety
/// One thread at a time, like the relay that owns it.
class RelayProgress {
 public:
  /// @brief Opens `path`, creating it (with no progress) if missing. Throws eda::StorageError
  ///        naming the file when it is not a SQLite database or its record makes no sense
  ///        (published past what was sent): the error says that deleting the file makes the
  ///        relay start again from the first row.
  explicit RelayProgress(const std::string& path);

  /// @brief Every row up to this position may have been sent (0: none).
  [[nodiscard]] std::uint64_t sent_through() const noexcept { return sent_through_; }

  /// @brief Every row up to this position was sent and has settled (0: none).
  [[nodiscard]] std::uint64_t published_through() const noexcept { return published_through_; }

  /// @brief Records new positions, in one commit; a position that did not move is kept.
  void record(std::optional<std::uint64_t> sent_through,
              std::optional<std::uint64_t> published_through);

  /// @brief The file.
  [[nodiscard]] const std::string& path() const noexcept { return db_->path(); }

 private:
  std::optional<sqlite::Database> db_;
  std::uint64_t sent_through_ = 0;
  std::uint64_t published_through_ = 0;
};

}  // namespace eda::saga
