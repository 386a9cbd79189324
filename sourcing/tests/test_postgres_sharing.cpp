// One PostgreSQL store shared by several programs: a group of appends in which the server
// refuses one append still stores the others, in one commit; text the server would refuse never
// reaches it; a second database role opens a store another role created, and appends to it
// (the append function is created once, never replaced, so opening needs no ownership of it).
// Needs EDA_TEST_POSTGRES (with_postgres.sh sets it).
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "eda/sourcing/postgres_store.hpp"
#include "postgres_fixture.hpp"

using namespace eda::sourcing;
using eda::sourcing::test::RawPostgres;
using eda::sourcing::test::TempPostgresDatabase;

namespace {

struct Noted {
  static constexpr std::string_view event_type = "test.noted";
  static constexpr std::uint32_t schema_version = 1;
  std::string note;
  MSGPACK_DEFINE(note)
};

EventData noted(std::string note) {
  return EventData::of(eda::make_metadata<Noted>("sharing-test"), Noted{std::move(note)});
}

/// An append of one event to `stream`, expecting it not to exist yet.
AppendRequest new_stream(std::string stream, std::string note) {
  return AppendRequest{std::move(stream), ExpectedVersion::no_stream(), {noted(std::move(note))}};
}

/// The message of the error an outcome holds ("" when it holds none).
std::string error_of(const AppendOutcome& outcome) {
  return outcome.failure ? outcome.failure->message : "";
}

}  // namespace

TEST_CASE("a group in which the server refuses one append stores the others, in one commit",
          "[postgres][group]") {
  TempPostgresDatabase database;
  PostgresEventStore store({.connection = database.connection()});
  // A rule of the database the store knows nothing about: no stream named 'refused'.
  RawPostgres admin(database.connection());
  admin.exec(
      "CREATE FUNCTION refuse_stream() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
      "IF NEW.stream = 'refused' THEN RAISE EXCEPTION 'the test refuses this stream'; END IF; "
      "RETURN NEW; END $$; "
      "CREATE TRIGGER refuse_stream BEFORE INSERT ON events FOR EACH ROW "
      "EXECUTE FUNCTION refuse_stream();");

  std::vector<AppendRequest> group{
      new_stream("first", "a"), new_stream("refused", "b"), new_stream("third", "c"),
      new_stream(std::string("nul\0l", 5), "d"), new_stream("fifth", "e")};
  const std::vector<AppendOutcome> outcomes = store.append_all(group);

  REQUIRE(outcomes.size() == 5);
  CHECK(outcomes[0].result.has_value());
  CHECK(error_of(outcomes[1]).find("the test refuses this stream") != std::string::npos);
  CHECK_FALSE(outcomes[1].result.has_value());
  CHECK(outcomes[2].result.has_value());
  // Refused before the server: PostgreSQL takes no NUL in text, and failing there would have
  // failed the whole group's transaction.
  CHECK(error_of(outcomes[3]).find("UTF-8 text without NUL") != std::string::npos);
  CHECK(outcomes[4].result.has_value());
  // Stored: the three others, with positions 1..3 in the group's order, nothing of the others.
  const std::vector<RecordedEvent> all = store.read_all(1, 10);
  REQUIRE(all.size() == 3);
  CHECK(all[0].stream == "first");
  CHECK(all[1].stream == "third");
  CHECK(all[2].stream == "fifth");
  CHECK(all[2].position == 3);
  CHECK(store.last_position() == 3);
  // Nothing of a refused group is left open on the connection: the next append works.
  CHECK(
      store.append("sixth", ExpectedVersion::no_stream(), std::vector{noted("f")}).first_position ==
      4);
}

TEST_CASE("a second database role opens a store another role made, and appends to it",
          "[postgres][roles]") {
  TempPostgresDatabase database;
  { PostgresEventStore creator({.connection = database.connection()}); }
  RawPostgres admin(database.connection());
  const std::string role = database.name() + "_writer";
  admin.exec("CREATE ROLE " + role + " LOGIN");
  admin.exec("GRANT SELECT, INSERT, UPDATE ON events, snapshots, store_head TO " + role);
  const std::string before =
      admin.value("SELECT xmin::text FROM pg_proc WHERE proname = 'eda_append_v1'");

  {
    PostgresEventStore writer({.connection = database.connection() + " user=" + role});
    CHECK(writer
              .append("order-1", ExpectedVersion::no_stream(),
                      std::vector{noted("by the writer role")})
              .first_position == 1);
    CHECK(writer.read_all(1, 10).size() == 1);
  }
  // Opening did not create the function again (that needs its ownership, and makes every
  // other session plan its statements again).
  CHECK(admin.value("SELECT xmin::text FROM pg_proc WHERE proname = 'eda_append_v1'") == before);
  admin.exec("REVOKE ALL ON events, snapshots, store_head FROM " + role);
  admin.exec("DROP ROLE " + role);
}
