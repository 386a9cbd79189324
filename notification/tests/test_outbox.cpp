// The outbox: bounded, replays in pages, and says how far back it reaches; and the file
// checkpoint a consumer process resumes from.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "eda/notification/consumer.hpp"
#include "eda/notification/outbox.hpp"

using eda::notification::Outbox;

TEST_CASE("the outbox keeps the newest events up to its capacity", "[outbox]") {
  Outbox outbox(3);
  CHECK(outbox.first_sequence() == 0);
  for (std::uint64_t seq = 1; seq <= 5; ++seq) outbox.append(seq, "event-" + std::to_string(seq));
  CHECK(outbox.size() == 3);
  CHECK(outbox.first_sequence() == 3);
  CHECK(outbox.last_sequence() == 5);
  CHECK(outbox.bytes() == std::size_t{3} * 7);

  const auto from_start = outbox.after(0, 100);
  CHECK(from_start.first_available == 3);  // 1 and 2 are gone: the caller can tell
  CHECK(from_start.last_sequence == 5);
  REQUIRE(from_start.events.size() == 3);
  CHECK(std::string(from_start.events[0].begin(), from_start.events[0].end()) == "event-3");

  const auto tail = outbox.after(3, 100);
  REQUIRE(tail.events.size() == 2);
  CHECK(std::string(tail.events[0].begin(), tail.events[0].end()) == "event-4");
  CHECK(outbox.after(5, 100).events.empty());
  CHECK(outbox.after(99, 100).events.empty());
  CHECK(outbox.after(2, 1).events.size() == 1);  // pages
}

TEST_CASE("the outbox's memory stays flat however many events pass through", "[outbox]") {
  Outbox outbox(1000);
  const std::string envelope(120, 'x');
  for (std::uint64_t seq = 1; seq <= 1'000'000; ++seq) outbox.append(seq, envelope);
  CHECK(outbox.size() == 1000);
  CHECK(outbox.bytes() == std::size_t{1000} * 120);
  CHECK(outbox.first_sequence() == 999'001);
}

TEST_CASE("the outbox refuses a sequence that does not follow the last", "[outbox]") {
  Outbox outbox(10);
  outbox.append(1, "a");
  CHECK_THROWS_WITH(outbox.append(3, "c"), Catch::Contains("expects sequence 2"));
}

TEST_CASE("a file checkpoint survives a restart and refuses a corrupt file", "[checkpoint]") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("eda-checkpoint-" + eda::new_event_id());
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "billing.checkpoint").string();
  {
    eda::notification::FileCheckpoint checkpoint(path);
    CHECK_FALSE(checkpoint.load());  // a consumer that never ran
    checkpoint.save(41);
    checkpoint.save(42);
  }
  eda::notification::FileCheckpoint reopened(path);
  CHECK(reopened.load() == 42U);
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));  // replaced atomically, nothing left over

  std::ofstream(path, std::ios::trunc) << "forty-two\n";
  CHECK_THROWS_WITH(reopened.load(), Catch::Contains("does not hold a sequence number") &&
                                         Catch::Contains("billing.checkpoint"));
  eda::notification::FileCheckpoint nowhere((dir / "missing-dir" / "x").string());
  CHECK_THROWS_WITH(nowhere.save(1), Catch::Contains("cannot"));
  std::filesystem::remove_all(dir);
}
