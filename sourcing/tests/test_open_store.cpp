// Opening a store from a store spec (open_store.hpp): each form opens its kind of store, a
// bare path is a SQLite file, bad specs are refused with the accepted forms, and a password
// never reaches a description or an error message. (Opening a PostgreSQL spec against a live
// server is tested in test_postgres_store.cpp; in a program without the PostgreSQL store, in
// test_without_postgres.cpp.)
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "eda/envelope.hpp"
#include "eda/sourcing/memory_store.hpp"
#include "eda/sourcing/open_store.hpp"
#include "eda/sourcing/postgres_store.hpp"
#include "eda/sourcing/sqlite_store.hpp"
#include "store_fixture.hpp"

using namespace eda::sourcing;
using eda::sourcing::test::TempDatabase;

namespace {

struct Noted {
  static constexpr std::string_view event_type = "test.noted";
  static constexpr std::uint32_t schema_version = 1;
  std::string text;
  MSGPACK_DEFINE(text)
};

EventData noted(std::string text) {
  return EventData::of(eda::make_metadata<Noted>("open-store-test"), Noted{std::move(text)});
}

/// The message of the std::invalid_argument `spec` is refused with ("" when it is not).
std::string refusal_of(const std::string& spec) {
  try {
    (void)open_event_store(spec);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("memory: opens an in-memory store", "[open-store]") {
  const auto store = open_event_store("memory:");
  CHECK(dynamic_cast<InMemoryEventStore*>(store.get()) != nullptr);
  store->append("order-1", ExpectedVersion::no_stream(), std::vector{noted("a")});
  CHECK(store->last_position() == 1);
  CHECK(describe_store_spec("memory:") == "in memory");
}

TEST_CASE("sqlite:FILE and a bare FILE open the same SQLite file", "[open-store]") {
  TempDatabase file;
  {
    const auto store = open_event_store("sqlite:" + file.path());
    CHECK(dynamic_cast<SqliteEventStore*>(store.get()) != nullptr);
    store->append("order-1", ExpectedVersion::no_stream(), std::vector{noted("kept")});
  }
  // A bare path (today's --db FILE and --store FILE) is the same file.
  const auto again = open_event_store(file.path(), {.durability = Durability::normal});
  CHECK(dynamic_cast<SqliteEventStore*>(again.get()) != nullptr);
  const auto events = again->read_stream("order-1", 1, 10, Direction::forward);
  REQUIRE(events.size() == 1);
  CHECK(events[0].event.payload_as<Noted>().text == "kept");
  CHECK(describe_store_spec("sqlite:" + file.path()) == "SQLite file " + file.path());
  CHECK(describe_store_spec(file.path()) == "SQLite file " + file.path());
}

TEST_CASE("specs are taken apart into the kind of store and where it is", "[open-store]") {
  CHECK(parse_store_spec("memory:").kind == StoreKind::memory);
  CHECK(parse_store_spec("sqlite:orders.db").kind == StoreKind::sqlite);
  CHECK(parse_store_spec("sqlite:orders.db").location == "orders.db");
  CHECK(parse_store_spec("orders.db").location == "orders.db");
  CHECK(parse_store_spec("/var/lib/shop/orders.db").kind == StoreKind::sqlite);
  CHECK(parse_store_spec("./a:b.db").location == "./a:b.db");             // a colon in a file name
  CHECK(parse_store_spec("SQLite:orders.db").kind == StoreKind::sqlite);  // schemes ignore case
  for (const std::string uri : {"postgresql://shop@db.example:5432/shop", "postgres://db/shop",
                                "postgresql://u:pw@h1:5432,h2:5433/shop?sslmode=require"}) {
    INFO(uri);
    const StoreSpec parsed = parse_store_spec(uri);
    CHECK(parsed.kind == StoreKind::postgres);
    CHECK(parsed.location == uri);  // handed to libpq as it is
  }
}

TEST_CASE("a PostgreSQL spec opens a PostgreSQL store (here: fails to connect, as one)",
          "[open-store]") {
  // This program links eda::sourcing_postgres, and that is all it takes.
  CHECK(can_open(StoreKind::postgres));
  // Nothing listens on port 1: the PostgreSQL store's own connection error, not a refused
  // spec, and without the password.
  const std::string spec = "postgresql://shop:s3cret-pw@127.0.0.1:1/shop";
  try {
    (void)open_event_store(spec, {.connect_timeout = std::chrono::seconds(2)});
    FAIL("a store opened where no server listens");
  } catch (const std::invalid_argument& e) {
    FAIL(std::string("refused as a spec: ") + e.what());
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    CHECK(message.find("s3cret-pw") == std::string::npos);
    CHECK_THAT(message, Catch::Contains("cannot connect") && Catch::Contains("127.0.0.1"));
  }
}

TEST_CASE("specs that are none of the accepted forms are refused, naming the forms",
          "[open-store]") {
  for (const std::string spec :
       {"", "sqlite:", "memory:x", "mysql://x", "mysql://root:hunter2@db/shop", "postgresql:shop",
        "tcp://127.0.0.1:5701", "ipc:///tmp/store", "redis://:hunter2@cache"}) {
    INFO("spec: \"" << spec << "\"");
    const std::string message = refusal_of(spec);
    REQUIRE_FALSE(message.empty());
    CHECK_THAT(message, Catch::Contains("memory:") && Catch::Contains("sqlite:FILE") &&
                            Catch::Contains("postgresql://") && Catch::Contains("postgres://"));
    CHECK(message.find("hunter2") == std::string::npos);
  }
  CHECK_THAT(refusal_of("tcp://127.0.0.1:5701"), Catch::Contains("RemoteEventStore"));
  CHECK_THAT(refusal_of("sqlite:"), Catch::Contains("needs a file"));
  CHECK_THAT(refusal_of("mysql://x"), Catch::Contains("unknown scheme mysql://"));
}

TEST_CASE("a password never reaches a description", "[open-store]") {
  CHECK(describe_store_spec("postgresql://user:secret@host/db") == "postgresql://user@host/db");
  CHECK(describe_store_spec("postgres://user:secret@host:5433/db?sslmode=require") ==
        "postgres://user@host:5433/db?sslmode=require");
  CHECK(describe_store_spec("postgresql://user@host/db?password=secret") ==
        "postgresql://user@host/db");
  CHECK(describe_store_spec("postgresql://host/db?sslmode=require&password=secret&x=1") ==
        "postgresql://host/db?sslmode=require&x=1");
  CHECK(describe_store_spec("postgresql://host/db?sslmode=require&PASSWORD=secret") ==
        "postgresql://host/db?sslmode=require");
  CHECK(describe_store_spec("postgresql://us%40er:se@cret@h1,h2/db") ==
        "postgresql://us%40er@h1,h2/db");
  CHECK(describe_store_spec("postgresql://user@host/db") == "postgresql://user@host/db");
  CHECK(describe_store_spec("postgresql://host:5432/db") == "postgresql://host:5432/db");
  for (const std::string spec :
       {"postgresql://a:secret@h/d", "postgres://:secret@h", "mysql://u:secret@h/d",
        "host=h password=secret dbname=d", "postgresql://h/d?password=secret"}) {
    INFO(spec);
    CHECK(describe_store_spec(spec).find("secret") == std::string::npos);
  }
}
