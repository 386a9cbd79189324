// Where a PostgreSQL connection string points, as messages show it (postgres_server.hpp):
// host, port, database and user, never the password. libpq parses the string; no server needed.
#include <stdexcept>
#include <string>

#include <catch2/catch.hpp>

#include "postgres_server.hpp"

using eda::sourcing::postgres::describe_server;

TEST_CASE("a connection string is described by host, port, database and user",
          "[postgres-server]") {
  CHECK(describe_server("postgresql://shop:s3cret-pw@db.example:5433/orders") ==
        "db.example:5433/orders as shop");
  CHECK(describe_server("postgres://db.example/orders") == "db.example:5432/orders");
  CHECK(describe_server("host=127.0.0.1 port=1 password=s3cret-pw") == "127.0.0.1:1");
  CHECK(describe_server("hostaddr=10.0.0.1 dbname=shop user=eda") == "10.0.0.1:5432/shop as eda");
  CHECK(describe_server("postgresql:///shop") == "the default host:5432/shop");
  CHECK(describe_server("postgresql://shop@db.example/orders?password=s3cret-pw") ==
        "db.example:5432/orders as shop");
}

TEST_CASE("a string libpq cannot parse is refused, quoting libpq only when no password is in it",
          "[postgres-server]") {
  const std::string with_password = "postgresql://shop:s3cret-pw@[::1/orders";
  CHECK_THROWS_AS(describe_server(with_password), std::invalid_argument);
  CHECK_THROWS_WITH(
      describe_server(with_password),
      Catch::Contains("not a PostgreSQL connection string") && !Catch::Contains("s3cret-pw"));
  CHECK_THROWS_WITH(
      describe_server("no-equals-sign here"),
      Catch::Contains("not a PostgreSQL connection string") && Catch::Contains("no-equals-sign"));
}
